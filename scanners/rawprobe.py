"""The sending and receiving half of discovery: probe templates built once with scapy, then
patched per address and sent through raw sockets at a bounded rate.

Why not ``scapy.sr()``/``srp()`` for every packet: building one packet costs scapy 1–5 ms here,
so a sweep of a few /24s took longer than ``nmap -sn``. The templates (Ethernet/ARP, IP/ICMP,
IP/TCP) still come from scapy; only the address bytes and the TCP checksum change per probe.
Must run inside the sensor's namespace (a thread that entered it: sockets are per namespace).
"""

from __future__ import annotations

import fcntl
import select
import socket
import struct
import time
from collections.abc import Iterable

ETH_P_ARP = 0x0806
SIOCGIFHWADDR = 0x8927
SPORT_SYN, SPORT_ACK, ICMP_ID = 53535, 53536, 0x4353


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def source_for(dst: str) -> str:
    """The address this namespace would send from towards ``dst`` (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect((dst, 9))
        return s.getsockname()[0]


def _hwaddr(iface: str) -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        info = fcntl.ioctl(s.fileno(), SIOCGIFHWADDR, struct.pack("256s", iface.encode()[:15]))
    return info[18:24]


class Pacer:
    """At most ``pps`` packets per second (sleeps in small batches, not per packet)."""

    def __init__(self, pps: int):
        self.pps, self.sent, self.t0 = max(1, pps), 0, time.monotonic()

    def tick(self) -> None:
        self.sent += 1
        ahead = self.sent / self.pps - (time.monotonic() - self.t0)
        if ahead > 0.005:
            time.sleep(ahead)


def big_buffer(s: socket.socket) -> None:
    try:
        s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)   # SO_RCVBUFFORCE (root)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)


def _tcp_probe(src: bytes, dst: bytes, sport: int, dport: int, flags: int, template: bytes) -> bytes:
    tcp = bytearray(template[20:])
    struct.pack_into("!HH", tcp, 0, sport, dport)
    tcp[13] = flags
    tcp[16:18] = b"\0\0"
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    struct.pack_into("!H", tcp, 16, _csum(pseudo + bytes(tcp)))
    ip = bytearray(template[:20])
    ip[12:16], ip[16:20] = src, dst
    return bytes(ip) + bytes(tcp)


def ip_sweep(addrs: Iterable[str], pps: int, timeout: float, syn_ports: tuple[int, ...], ack_port: int,
             templates: dict[str, bytes]) -> dict[str, str]:
    """ICMP echo, TCP SYN to ``syn_ports`` and TCP ACK to ``ack_port`` → {ip: "icmp"|"tcp"}."""
    addrs = list(addrs)
    want = set(addrs)
    live: dict[str, str] = {}
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    rx_icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    rx_tcp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    socks = (rx_icmp, rx_tcp)
    for s in socks:
        big_buffer(s)
        s.setblocking(False)
    pacer, srcs = Pacer(pps), {}
    try:
        for i, a in enumerate(addrs):
            d = socket.inet_aton(a)
            src = srcs.get(a.rsplit(".", 1)[0]) or srcs.setdefault(a.rsplit(".", 1)[0],
                                                                     socket.inet_aton(source_for(a)))
            icmp = bytearray(templates["icmp"])
            icmp[12:16], icmp[16:20] = src, d
            probes = [bytes(icmp)]
            probes += [_tcp_probe(src, d, SPORT_SYN, p, 0x02, templates["tcp"]) for p in syn_ports]
            probes.append(_tcp_probe(src, d, SPORT_ACK, ack_port, 0x10, templates["tcp"]))
            for pkt in probes:
                tx.sendto(pkt, (a, 0))
                pacer.tick()
            if i % 16 == 0:
                _drain(socks, want, live, 0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(live) < len(want):
            _drain(socks, want, live, deadline - time.monotonic())
    finally:
        for s in (tx, *socks):
            s.close()
    return live


def _drain(socks, want: set[str], live: dict[str, str], wait: float) -> None:
    ready, _, _ = select.select(socks, [], [], max(0.0, wait))
    for s in ready:
        while True:
            try:
                pkt = s.recv(2048)
            except BlockingIOError:
                break
            src = socket.inet_ntoa(pkt[12:16])
            if src not in want or src in live:
                continue
            ihl = (pkt[0] & 0x0F) * 4
            if pkt[9] == socket.IPPROTO_ICMP and pkt[ihl] == 0 and pkt[ihl + 4:ihl + 6] == struct.pack("!H", ICMP_ID):
                live[src] = "icmp"
            elif pkt[9] == socket.IPPROTO_TCP and struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0] in (SPORT_SYN, SPORT_ACK):
                live[src] = "tcp"


def arp_sweep(addrs: Iterable[str], iface: str, pps: int, timeout: float, template: bytes) -> dict[str, str]:
    """ARP who-has for each address on ``iface`` → {ip: mac}."""
    addrs = list(addrs)
    want = set(addrs)
    found: dict[str, str] = {}
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    big_buffer(s)
    s.bind((iface, ETH_P_ARP))
    s.setblocking(False)
    mac, pacer = _hwaddr(iface), Pacer(pps)
    src = socket.inet_aton(source_for(addrs[0])) if addrs else b"\0" * 4
    try:
        for i, a in enumerate(addrs):
            frame = bytearray(template)
            frame[6:12] = frame[22:28] = mac
            frame[28:32] = src
            frame[38:42] = socket.inet_aton(a)
            s.send(bytes(frame))
            pacer.tick()
            if i % 16 == 0:
                _drain_arp(s, want, found, 0)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(found) < len(want):
            _drain_arp(s, want, found, deadline - time.monotonic())
    finally:
        s.close()
    return found


def _drain_arp(s: socket.socket, want: set[str], found: dict[str, str], wait: float) -> None:
    ready, _, _ = select.select([s], [], [], max(0.0, wait))
    while ready:
        try:
            frame = s.recv(2048)
        except BlockingIOError:
            return
        if len(frame) >= 42 and frame[20:22] == b"\0\x02":
            ip = socket.inet_ntoa(frame[28:32])
            if ip in want:
                found.setdefault(ip, ":".join(f"{b:02x}" for b in frame[22:28]))
