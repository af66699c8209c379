"""Detections over parsed log events (pure): each returns :class:`Detection` records that the
collector turns into alert findings.

- ``log.ssh_bruteforce``: N failed SSH attempts within T seconds from one source (per host);
  an attempt is a ``Failed ...`` line, or a connection closed before authentication that had no
  ``Failed`` line (a rejected key), so one attempt never counts twice.
- ``log.login_after_failures``: an accepted login from a source that failed N times within T.
- ``log.new_account``, ``log.sudo``, ``log.av_detection``, ``log.backup_failed``: one per line.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Iterable

from .logparse import LogEvent


@dataclass(frozen=True)
class Detection:
    check: str
    ts: float
    host: str | None
    message: str
    source_ip: str | None = None
    user: str | None = None
    details: dict = field(default_factory=dict)


def _attempts(events: Iterable[LogEvent]):
    """Failed SSH attempts, one per attempt: (event, source)."""
    failed_conns: set[tuple] = set()
    for ev in events:
        if ev.action == "ssh-login" and ev.outcome == "failure":
            failed_conns.add((ev.host, ev.source_ip, ev.source_port))
            yield ev
        elif ev.action == "ssh-preauth-closed":
            if (ev.host, ev.source_ip, ev.source_port) not in failed_conns:
                yield ev


def brute_force(events: list[LogEvent], *, failures: int, window: int) -> list[Detection]:
    """One alert each time a source reaches ``failures`` attempts within ``window`` seconds on a
    host; the count restarts after an alert."""
    recent: dict[tuple, deque] = defaultdict(deque)
    out = []
    for ev in _attempts(sorted((e for e in events if e.ts is not None), key=lambda e: e.ts)):
        key = (ev.host, ev.source_ip)
        q = recent[key]
        q.append(ev)
        while q and ev.ts - q[0].ts > window:
            q.popleft()
        if len(q) >= failures:
            users = sorted({e.user for e in q if e.user})
            out.append(Detection("log.ssh_bruteforce", ev.ts, ev.host,
                                 f"SSH brute force on {ev.host}: {len(q)} failed attempts from {ev.source_ip} "
                                 f"within {ev.ts - q[0].ts:.0f} s (users: {', '.join(users)[:200]})",
                                 source_ip=ev.source_ip, user=users[0] if len(users) == 1 else None,
                                 details={"attempts": len(q), "first": q[0].ts, "last": ev.ts,
                                          "window_seconds": window, "users": users[:20]}))
            q.clear()
    return out


def login_after_failures(events: list[LogEvent], *, failures: int, window: int) -> list[Detection]:
    recent: dict[tuple, deque] = defaultdict(deque)
    out = []
    ordered = sorted((e for e in events if e.ts is not None), key=lambda e: e.ts)
    attempt_ids = {id(e) for e in _attempts(ordered)}
    for ev in ordered:
        key = (ev.host, ev.source_ip)
        if id(ev) in attempt_ids:
            recent[key].append(ev.ts)
        elif ev.action == "ssh-login" and ev.outcome == "success":
            q = recent[key]
            while q and ev.ts - q[0] > window:
                q.popleft()
            if len(q) >= failures:
                out.append(Detection("log.login_after_failures", ev.ts, ev.host,
                                     f"{ev.user} logged in on {ev.host} from {ev.source_ip} after {len(q)} "
                                     f"failed attempts", source_ip=ev.source_ip, user=ev.user,
                                     details={"failures": len(q), "method": ev.extra}))
            q.clear()
    return out


_SINGLE = {
    "user-created": ("log.new_account", lambda e: f"new account {e.user} created on {e.host}"),
    "sudo": ("log.sudo", lambda e: f"{e.user} ran with sudo on {e.host}: {e.extra}"),
    "malware-detected": ("log.av_detection", lambda e: f"antivirus detection on {e.host}: {e.extra} in {e.message}"),
}


def single_line(events: Iterable[LogEvent], backup_gap: float = 120) -> list[Detection]:
    """One alert per line; the failure lines of one backup run (within ``backup_gap`` s) give one."""
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
    return (brute_force(events, failures=failures, window=window)
            + login_after_failures(events, failures=failures, window=window) + single_line(events))
