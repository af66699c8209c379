"""The full TCP sweep's engine: SYN probes through one raw socket at a bounded rate, every reply
(SYN-ACK open, RST closed) read from another, and the probes that got no answer sent again.

Why our own and not masscan or ``nmap -sS -p- --min-rate`` (figures in docs/scanners.md,
``bench/scan_fullports.py``): at the same rate it is as fast as masscan, nmap's per-host
congestion control makes it several times slower, and neither retransmits only what went
unanswered. A closed port answers RST, so after a pass the (host, port) pairs that stayed
silent are exactly the lost probes and lost replies (or a firewall); only those are asked again,
which costs a few percent of a pass and makes a lost packet lose no open port.

Probes go port-major across a group of hosts (each host sees ``pps / hosts`` probes a second).
Replies are matched by our source port and acknowledgement number (sequence + 1), so other TCP
traffic of the sensor is ignored. Addresses must have passed the scope guard; this module sends
to exactly the addresses it is given. Must run in the sensor's namespace (``run_in_netns``).
"""

from __future__ import annotations

import ipaddress
import os
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from findings.errors import RuntimeFailure

from .rawprobe import source_for

_TCP = struct.Struct("!HHIIBBHHH")
DRAIN_EVERY = 16
RCVBUF = 256 << 20          # ~250k replies: a starved process (a busy sensor) must not drop them
SO_RCVBUFFORCE = 33


class Pacer:
    """At most ``pps`` packets a second; after a stall it resumes at ``pps`` instead of
    bursting to catch up (a burst of replies would overflow the receive buffer)."""

    def __init__(self, pps: int, slack: float = 0.02):
        self.pps, self.slack, self.sent, self.t0 = max(1, pps), slack, 0, time.monotonic()

    def tick(self) -> None:
        self.sent += 1
        if self.sent % 8:
            return
        ahead = self.sent / self.pps - (time.monotonic() - self.t0)
        if ahead > 0.002:
            time.sleep(ahead)
        elif ahead < -self.slack:                 # stalled: forget the lost time
            self.t0 += -ahead - self.slack


@dataclass
class SweepPass:
    sent: int
    answered: int
    seconds: float


@dataclass
class SynSweep:
    """What a SYN sweep saw: open TCP ports per host, and how many probes stayed unanswered."""
    open: dict[str, set[int]] = field(default_factory=dict)
    silent: dict[str, int] = field(default_factory=dict)       # host → ports never answered
    passes: list[SweepPass] = field(default_factory=list)
    cut: str | None = None                                     # why it stopped early

    @property
    def sent(self) -> int:
        return sum(p.sent for p in self.passes)


def _fold(s: int) -> int:
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def _words(b: bytes) -> int:
    return sum(struct.unpack(f"!{len(b) // 2}H", b))


class Prober:
    """Per-host constant parts of a SYN probe; ``probe(port)`` patches port and checksum."""

    def __init__(self, src: bytes, dst: bytes, sport: int, seq: int):
        self.ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 0, 0x4000, 64, socket.IPPROTO_TCP, 0, src, dst)
        pseudo = _words(src + dst) + socket.IPPROTO_TCP + 20
        self.base = pseudo + _words(_TCP.pack(sport, 0, seq, 0, 0x50, 0x02, 1024, 0, 0))
        self.sport, self.seq = sport, seq

    def probe(self, port: int) -> bytes:
        csum = ~_fold(self.base + port) & 0xFFFF
        return self.ip + _TCP.pack(self.sport, port, self.seq, 0, 0x50, 0x02, 1024, csum, 0)


class _Receiver:
    def __init__(self, hosts: Sequence[str], sport: int, seq: int):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.setblocking(False)
        self.index = {socket.inet_aton(h): i for i, h in enumerate(hosts)}
        self.answered = [bytearray(65536) for _ in hosts]
        self.open: list[set[int]] = [set() for _ in hosts]
        self.sport = struct.pack("!H", sport)
        self.ack = struct.pack("!I", (seq + 1) & 0xFFFFFFFF)
        self.count = 0

    def drain(self, wait: float = 0.0) -> None:
        if wait > 0:
            select.select([self.sock], [], [], wait)
        recv, index, sport, ack = self.sock.recv, self.index, self.sport, self.ack
        while True:
            try:
                pkt = recv(128)
            except BlockingIOError:
                return
            if pkt[0] != 0x45 or pkt[22:24] != sport or pkt[28:32] != ack:
                continue
            i = index.get(pkt[12:16])
            if i is None:
                continue
            port = pkt[20] << 8 | pkt[21]
            seen = self.answered[i]
            if not seen[port]:
                seen[port] = 1
                self.count += 1
            if pkt[33] & 0x12 == 0x12:
                self.open[i].add(port)

    def close(self) -> None:
        self.sock.close()


def sweep(hosts: Iterable[str], ports: Sequence[int], *, pps: int, retries: int = 3, wait: float = 1.0,
          deadline: float | None = None, on_pass: Callable[[SweepPass], None] | None = None) -> SynSweep:
    """SYN-probe every (host, port); ask the unanswered again up to ``retries`` times.
    ``deadline`` (time.monotonic()) cuts the sweep: the result then has ``cut`` set."""
    hosts = [str(ipaddress.ip_address(h)) for h in hosts]
    out = SynSweep()
    if not hosts or not ports:
        return out
    sport = 40000 + int.from_bytes(os.urandom(2), "big") % 20000
    seq = int.from_bytes(os.urandom(4), "big")
    probers = [Prober(socket.inet_aton(source_for(h)), socket.inet_aton(h), sport, seq) for h in hosts]
    rx = _Receiver(hosts, sport, seq)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    tx.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    pacer = Pacer(pps)
    todo: list[list[int]] = [list(ports) for _ in hosts]
    try:
        for attempt in range(retries + 1):
            t0, before, sent = time.monotonic(), rx.count, 0
            longest = max(len(t) for t in todo)
            for k in range(longest):
                for i, p in enumerate(probers):
                    mine = todo[i]
                    if k >= len(mine):
                        continue
                    _send(tx, p.probe(mine[k]), hosts[i], rx)
                    pacer.tick()
                    sent += 1
                    if sent % DRAIN_EVERY == 0:
                        rx.drain()
                if deadline is not None and k % 256 == 0 and time.monotonic() > deadline:
                    out.cut = "the sweep's time ran out (scan window or timeout)"
                    break
            rx.drain(0.05)
            end = time.monotonic() + wait
            while time.monotonic() < end:
                rx.drain(end - time.monotonic())
            out.passes.append(SweepPass(sent, rx.count - before, round(time.monotonic() - t0, 3)))
            if on_pass:
                on_pass(out.passes[-1])
            todo = [[q for q in ports if not rx.answered[i][q]] for i in range(len(hosts))]
            if out.cut or not any(todo):
                break
    finally:
        tx.close()
        rx.close()
    for i, h in enumerate(hosts):
        out.open[h] = set(rx.open[i])
        out.silent[h] = len(todo[i])
    return out


def _send(tx: socket.socket, pkt: bytes, dst: str, rx: _Receiver) -> None:
    while True:
        try:
            tx.sendto(pkt, (dst, 0))
            return
        except OSError as exc:
            if exc.errno not in (105, 11):   # ENOBUFS, EAGAIN: the queue is full, wait for it
                raise RuntimeFailure(f"full sweep: sending to {dst}: {exc.strerror} (the sweep stopped;"
                                     " nothing was recorded for this chunk of hosts)") from exc
            rx.drain(0.001)


__all__ = ["SweepPass", "SynSweep", "sweep"]
