"""Parsed log lines and detections → ECS events and alerts (findings of kind event / alert)."""

from __future__ import annotations

from datetime import datetime, timezone

from findings.checks import Catalogue
from findings.model import Finding, clean_text

from .detections import Detection
from .logparse import LogEvent

CATEGORY = {
    "ssh-login": (("authentication",), ("start",)),
    "ssh-invalid-user": (("authentication",), ("info",)),
    "ssh-preauth-closed": (("authentication",), ("end",)),
    "sudo": (("process", "iam"), ("admin",)),
    "user-created": (("iam",), ("user", "creation")),
    "malware-detected": (("malware",), ("info",)),
    "backup-job": (("configuration",), ("info",)),
}


def _dt(ts: float | None, fallback: datetime) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc) if ts is not None else fallback


def event_finding(ev: LogEvent, cat: Catalogue, *, agency: str, host_ip: str | None, host_name: str | None,
                  now: datetime, sensor: str | None = None, origin: str = "ssh") -> Finding:
    category, typ = CATEGORY.get(ev.action or "", (("host",), ("info",)))
    details = {"file": ev.file, "offset": ev.offset, "program": clean_text(ev.program, 128), "pid": ev.pid,
               "action": ev.action, "outcome": ev.outcome, "reported_host": clean_text(ev.host, 255),
               "extra": clean_text(ev.extra, 512), "origin": origin}
    return cat["log.event"].finding(
        agency=agency, kind="event", timestamp=_dt(ev.ts, now), host_ip=host_ip, host_name=host_name,
        message=clean_text(ev.message, 4096) or "", source_ip=ev.source_ip, user_name=clean_text(ev.user, 128),
        subject=f"{ev.file}:{ev.offset}" if ev.file else None, sensor=sensor,
        category=category, type=typ, details={k: v for k, v in details.items() if v is not None})


def alert_finding(d: Detection, cat: Catalogue, *, agency: str, host_ip: str | None, host_name: str | None,
                  now: datetime, sensor: str | None = None) -> Finding:
    return cat[d.check].finding(
        agency=agency, kind="alert", timestamp=_dt(d.ts, now), host_ip=host_ip, host_name=host_name,
        message=clean_text(d.message, 2000) or "", source_ip=d.source_ip, user_name=clean_text(d.user, 128),
        subject=d.source_ip or d.user, sensor=sensor, type=("indicator",),
        details={k: (clean_text(v, 1000) if isinstance(v, str) else v) for k, v in d.details.items()})
