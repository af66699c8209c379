"""The syslog receiver: UDP and TCP (octet-counted or newline-framed, RFC 6587), RFC 3164 and
RFC 5424 messages, parsed like the collected logs and stored as events (detections as alerts).

The sender's address decides the agency (the agency network that contains it). Sockets are
opened inside the sensor's network namespace when it has one; serving runs in this process.
"""

from __future__ import annotations

import re
import selectors
import socket
import time
from datetime import datetime, timezone

from findings.model import utcnow
from findings.support.netns import run_in_netns

from . import detections, logparse
from .logevents import alert_finding, event_finding

_5424 = re.compile(r"^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[(?:[^\]\\]|\\.)*\])+)(?: (.*))?$", re.S)
MAX_MESSAGE = 64 * 1024
FACILITIES = ("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
              "ftp", "ntp", "security", "console", "solaris-cron") + tuple(f"local{i}" for i in range(8))
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")


def parse_message(raw: bytes, clock: logparse.TimeParser, *, peer: str, now: float) -> logparse.LogEvent:
    """One syslog message (without transport framing) → an event."""
    text = raw.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n\x00")
    pri, rest = None, text
    m = re.match(r"^<(\d{1,3})>", text)
    if m and int(m.group(1)) < 192:
        pri, rest = int(m.group(1)), text[m.end():]
    m5 = _5424.match(rest)
    if m5:
        ts_s, host, app, procid, msgid, sd, msg = m5.groups()
        try:
            ts = clock.iso(ts_s) if ts_s != "-" else now
        except ValueError:
            ts = now
        ev = logparse.LogEvent(ts, None if host == "-" else host, None if app == "-" else app,
                               None if procid == "-" else procid, (msg or "").lstrip("\ufeff"), file=None)
        logparse.classify(ev)
        if sd != "-":
            ev.extra = ev.extra or sd[:512]
    else:
        ev = logparse.parse_line(rest, clock, default_ts=now, default_host=peer)
    ev.file = "syslog"
    if pri is not None:
        ev.extra = ev.extra or f"{FACILITIES[pri >> 3]}.{SEVERITIES[pri & 7]}"
    return ev


def split_tcp(buf: bytearray) -> list[bytes]:
    """Whole messages from a TCP buffer (removed from it): ``LEN SP MSG`` or newline-terminated."""
    out = []
    while buf:
        m = re.match(rb"^(\d{1,6}) ", bytes(buf[:8]))
        if m:
            n, start = int(m.group(1)), m.end()
            if len(buf) < start + n:
                break
            out.append(bytes(buf[start:start + n]))
            del buf[:start + n]
            continue
        nl = buf.find(b"\n")
        if nl < 0:
            if len(buf) > MAX_MESSAGE:          # no framing in sight: take it as one message
                out.append(bytes(buf[:MAX_MESSAGE]))
                del buf[:]
            break
        out.append(bytes(buf[:nl]))
        del buf[:nl + 1]
    return [m for m in out if m.strip()]


class Receiver:
    def __init__(self, store, cat, networks, default_agency: str, *, sensor: str | None = None,
                 brute_force: tuple[int, int] = (5, 300)):
        self.store, self.cat, self.networks = store, cat, networks
        self.default_agency, self.sensor, self.bf = default_agency, sensor, brute_force
        self.sel = selectors.DefaultSelector()
        self.udp: socket.socket | None = None
        self.tcp: socket.socket | None = None
        self.buffers: dict[socket.socket, tuple[bytearray, str]] = {}
        self.pending: list[tuple[str, logparse.LogEvent]] = []
        self.count = 0
        self.started = int(time.time())

    def bind(self, host: str, port: int, *, netns: str | None = None) -> None:
        def make() -> tuple[socket.socket, socket.socket]:
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            u = socket.socket(fam, socket.SOCK_DGRAM)
            u.bind((host, port))
            t = socket.socket(fam, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind((host, port))
            t.listen(64)
            return u, t
        self.udp, self.tcp = run_in_netns(netns, make)
        for s in (self.udp, self.tcp):
            s.setblocking(False)
        self.sel.register(self.udp, selectors.EVENT_READ, "udp")
        self.sel.register(self.tcp, selectors.EVENT_READ, "listen")

    def agency_of(self, ip: str) -> str:
        import ipaddress
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return self.default_agency
        return next((a for net, a in self.networks if addr in net), self.default_agency)

    def _take(self, raw: bytes, peer: str) -> None:
        now = time.time()
        clock = logparse.TimeParser(datetime.fromtimestamp(now, timezone.utc))
        ev = parse_message(raw[:MAX_MESSAGE], clock, peer=peer, now=now)
        ev.offset = self.count            # the message's sequence number: identical lines stay distinct
        self.pending.append((peer, ev))
        self.count += 1

    def flush(self) -> None:
        if not self.pending:
            return
        now, findings = utcnow(), []
        events = [ev for _, ev in self.pending]
        for peer, ev in self.pending:
            findings.append(event_finding(ev, self.cat, agency=self.agency_of(peer), host_ip=peer, host_name=ev.host,
                                          now=now, sensor=self.sensor, origin="syslog").with_(
                                              subject=f"syslog:{peer}:{self.started}:{ev.offset}"))
        by_peer = {peer: self.agency_of(peer) for peer, _ in self.pending}
        for d in detections.detect(events, failures=self.bf[0], window=self.bf[1]):
            peer = next((p for p, e in self.pending if e.host == d.host), None) or next(iter(by_peer))
            findings.append(alert_finding(d, self.cat, agency=by_peer[peer], host_ip=peer, host_name=d.host,
                                          now=now, sensor=self.sensor))
        self.store.record(findings)
        self.pending.clear()

    def _on_ready(self, key) -> None:
        s, what = key.fileobj, key.data
        if what == "udp":
            data, addr = s.recvfrom(MAX_MESSAGE)
            self._take(data, addr[0])
        elif what == "listen":
            conn, addr = s.accept()
            conn.setblocking(False)
            self.buffers[conn] = (bytearray(), addr[0])
            self.sel.register(conn, selectors.EVENT_READ, "conn")
        else:
            buf, peer = self.buffers[s]
            data = s.recv(65536)
            if data:
                buf += data
            for msg in split_tcp(buf):
                self._take(msg, peer)
            if not data:
                if buf.strip():
                    self._take(bytes(buf), peer)
                self.sel.unregister(s)
                s.close()
                del self.buffers[s]

    def serve(self, *, max_messages: int | None = None, duration: float | None = None) -> int:
        """Serve until interrupted, ``max_messages`` stored or ``duration`` seconds passed."""
        end = time.monotonic() + duration if duration else None
        last_flush = time.monotonic()
        try:
            while not (max_messages and self.count >= max_messages) and not (end and time.monotonic() >= end):
                for key, _ in self.sel.select(timeout=0.2):
                    self._on_ready(key)
                if len(self.pending) >= 500 or time.monotonic() - last_flush > 0.5:
                    self.flush()
                    last_flush = time.monotonic()
        except KeyboardInterrupt:
            self.interrupted = True      # Ctrl-C ends serving; what was received is stored below
        finally:
            self.flush()
            self.close()
        return self.count

    def close(self) -> None:
        registered = {k.fileobj for k in self.sel.get_map().values()}
        for s in list(self.buffers) + [x for x in (self.udp, self.tcp) if x is not None]:
            if s in registered:
                self.sel.unregister(s)
            s.close()
        self.buffers.clear()
