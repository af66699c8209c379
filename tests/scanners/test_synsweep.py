"""The SYN sweeper's probes are valid TCP segments: the patched port and checksum verify."""

from __future__ import annotations

import socket
import struct

import pytest

from scanners.synsweep import Prober


def verifies(src: bytes, dst: bytes, pkt: bytes) -> bool:
    tcp = pkt[20:]
    data = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp)) + tcp
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


@pytest.mark.parametrize("port", [1, 22, 2323, 6380, 45900, 65535])
@pytest.mark.parametrize("seq", [0, 1, 0xFFFFFFFF, 0x12345678])
def test_every_probe_is_a_syn_with_a_valid_checksum(port, seq):
    src, dst = socket.inet_aton("198.18.128.10"), socket.inet_aton("198.18.129.11")
    pkt = Prober(src, dst, 47001, seq).probe(port)
    assert len(pkt) == 40 and pkt[12:16] == src and pkt[16:20] == dst
    sport, dport, s, _, _, flags = struct.unpack("!HHIIBB", pkt[20:34])
    assert (sport, dport, s, flags) == (47001, port, seq, 0x02)
    assert verifies(src, dst, pkt)
