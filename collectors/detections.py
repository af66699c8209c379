"""Detections over parsed log events (pure): each returns :class:`Detection` records that the
collector turns into alert findings.

- ``log.ssh_bruteforce``: N failed SSH attempts within T seconds from one source (per host);
  an attempt is a ``Failed ...`` line, or a connection closed before authentication that had no
  ``Failed`` line (a rejected key), so one attempt never counts twice.
- ``log.login_after_failures``: an accepted login from a source that failed N times within T.
- ``log.new_account``, ``log.sudo``, ``log.av_detection``, ``log.backup_failed``: one per line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter

from .logparse import LogEvent, no_gc


@dataclass(slots=True)
class Detection:
    check: str
    ts: float
    host: str | None
    message: str
    source_ip: str | None = None
    user: str | None = None
    details: dict = field(default_factory=dict)


SSH_ACTIONS = frozenset({"ssh-login", "ssh-preauth-closed"})


def ssh_events(events: Iterable[LogEvent]) -> list[LogEvent]:
    """The SSH login events, in time order (usually already sorted: sorting is then linear)."""
    return split(events)[0]


def split(events: Iterable[LogEvent]) -> tuple[list[LogEvent], list[LogEvent]]:
    """One pass: (the SSH login events in time order, the other classified events)."""
    ssh: list[LogEvent] = []
    other: list[LogEvent] = []
    with no_gc():
        for e in events:
            action = e.action
            if action is None:
                continue
            if action in SSH_ACTIONS:
                if e.ts is not None:
                    ssh.append(e)
            else:
                other.append(e)
        ssh.sort(key=_TS)
    return ssh, other


_TS = attrgetter("ts")


class SshDetector:
    """Brute force and success-after-failures over time-ordered SSH events, fed in batches (its
    state carries over, so a stream of blocks gives the same alerts as one list).
    An attempt is a ``Failed`` line, or a connection closed before authentication that had no
    ``Failed`` line within the window (a rejected key), so one attempt never counts twice (a
    source port seen in a Failed line longer ago is a new connection). A brute force alert fires
    when a source reaches ``failures`` attempts within ``window`` s on a host; its count then
    restarts."""

    def __init__(self, *, failures: int, window: int):
        self.failures, self.window = failures, window
        # host → source → [failure times, attempts, {port: time of its Failed line}, pruning size]
        self.sources: dict[str | None, dict] = {}

    def feed(self, ssh: list[LogEvent]) -> list[Detection]:
        with no_gc():
            return self._feed(ssh)

    def _feed(self, ssh: list[LogEvent]) -> list[Detection]:
        failures, window, sources = self.failures, self.window, self.sources
        out = []
        for ev in ssh:
            ts, outcome = ev.ts, ev.outcome
            if outcome == "failure":
                by_source = sources.get(ev.host)
                s = by_source.get(ev.source_ip) if by_source is not None else None
                if s is None or len(s[0]) >= _LONG or len(s[1]) >= _LONG or len(s[2]) > s[3]:
                    # new, long, or its failed connections due for pruning
                    s = _state(sources, ev.host, ev.source_ip, ts - window)
                if ev.action == "ssh-login":
                    s[2][ev.source_port] = ts
                elif ts - s[2].get(ev.source_port, _NEVER) <= window:   # its Failed line counted
                    continue
                b, q = s[0], s[1]
                b.append(ts)
                if ts - b[0] > window:
                    del b[0]
                q.append(ev)
                while ts - q[0].ts > window:
                    del q[0]
                if len(q) >= failures:
                    out.append(_brute(ev, q, window))
                    q.clear()
            elif outcome == "success":
                by_source = sources.get(ev.host)
                s = by_source.get(ev.source_ip) if by_source is not None else None
                b = s[0] if s is not None else None
                if b:
                    while b and ts - b[0] > window:
                        del b[0]
                    if len(b) >= failures:
                        out.append(Detection("log.login_after_failures", ts, ev.host,
                                             f"{ev.user} logged in on {ev.host} from {ev.source_ip} after "
                                             f"{len(b)} failed attempts", source_ip=ev.source_ip, user=ev.user,
                                             details={"failures": len(b), "method": ev.extra}))
                    b.clear()
        return out


def _state(sources: dict, host: str | None, source: str | None, horizon: float) -> list:
    """[failure times, attempts, failed connections, pruning size] of a source on a host. Small
    lists (a deque costs ~600 bytes, and tens of thousands of sources are common); one that grows
    long (a sustained attack) becomes a deque so that dropping its oldest entry stays O(1);
    connections whose Failed line is older than the window (``horizon``) are forgotten."""
    by_source = sources.get(host)
    if by_source is None:
        by_source = sources[host] = {}
    s = by_source.get(source)
    if s is None:
        s = by_source[source] = [[], [], {}, _LONG]
        return s
    if len(s[0]) >= _LONG and type(s[0]) is list:
        s[0] = deque(s[0])
    if len(s[1]) >= _LONG and type(s[1]) is list:
        s[1] = deque(s[1])
    if len(s[2]) > s[3]:       # amortised: the next pruning waits until the kept ones double
        s[2] = {port: t for port, t in s[2].items() if t >= horizon}
        s[3] = max(_LONG, 2 * len(s[2]))
    return s


_LONG = 64
_NEVER = float("-inf")


def ssh_detections(ssh: list[LogEvent], *, failures: int, window: int) -> list[Detection]:
    return SshDetector(failures=failures, window=window).feed(ssh)


def _brute(ev: LogEvent, q: deque, window: int) -> Detection:
    users = sorted({e.user for e in q if e.user})
    return Detection("log.ssh_bruteforce", ev.ts, ev.host,
                     f"SSH brute force on {ev.host}: {len(q)} failed attempts from {ev.source_ip} "
                     f"within {ev.ts - q[0].ts:.0f} s (users: {', '.join(users)[:200]})",
                     source_ip=ev.source_ip, user=users[0] if len(users) == 1 else None,
                     details={"attempts": len(q), "first": q[0].ts, "last": ev.ts,
                              "window_seconds": window, "users": users[:20]})


def brute_force(events: list[LogEvent], *, failures: int, window: int) -> list[Detection]:
    return [d for d in ssh_detections(ssh_events(events), failures=failures, window=window)
            if d.check == "log.ssh_bruteforce"]


_SINGLE = {
    "user-created": ("log.new_account", lambda e: f"new account {e.user} created on {e.host}"),
    "sudo": ("log.sudo", lambda e: f"{e.user} ran with sudo on {e.host}: {e.extra}"),
    "malware-detected": ("log.av_detection", lambda e: f"antivirus detection on {e.host}: {e.extra} in {e.message}"),
}


def single_line(events: Iterable[LogEvent], backup_gap: float = 120) -> list[Detection]:
    """One alert per line; the failure lines of one backup run (within ``backup_gap`` s) give one."""
    with no_gc():
        return _single_line(events, backup_gap)


def _single_line(events: Iterable[LogEvent], backup_gap: float) -> list[Detection]:
    out = []
    last_backup_fail: dict[str | None, float] = {}
    for ev in events:
        if ev.action in _SINGLE:
            check, text = _SINGLE[ev.action]
            out.append(Detection(check, ev.ts, ev.host, text(ev)[:1000], source_ip=ev.source_ip, user=ev.user,
                                 details={"line": ev.message[:1000], "file": ev.file, "offset": ev.offset}))
        elif ev.action == "backup-job" and ev.outcome == "failure":
            prev = last_backup_fail.get(ev.host)
            last_backup_fail[ev.host] = ev.ts or 0.0
            if prev is not None and ev.ts is not None and ev.ts - prev <= backup_gap:
                continue
            out.append(Detection("log.backup_failed", ev.ts, ev.host, f"backup job failed on {ev.host}: "
                                 f"{ev.message[:300]}", details={"line": ev.message[:1000], "file": ev.file,
                                                                 "offset": ev.offset}))
    return out


def detect(events: list[LogEvent], *, failures: int, window: int) -> list[Detection]:
    ssh, other = split(events)
    return ssh_detections(ssh, failures=failures, window=window) + single_line(other)
