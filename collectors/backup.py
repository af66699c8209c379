"""Backup status per information system: gather the backups a host holds (restic, borg, files
matching a glob, or a command printing JSON), then judge them against the system's policy.

Findings: ``backup.stale`` (age of the last success), ``backup.failed`` (the job's log ends in a
failure), ``backup.isolated_copy`` (the second copy is missing or old) and
``backup.restore_test`` (no restore test recorded within the policy's period).
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from findings.checks import Catalogue
from findings.model import Finding, clean_text, parse_ts

from .script import q

GLOB_OK = re.compile(r"^[A-Za-z0-9._*?\[\]-]+$")
FAIL_WORDS = re.compile(r"\b(fail(ed|ure)?|error|fatal)\b", re.I)
OK_WORDS = re.compile(r"\b(success(ful(ly)?)?|completed|finished|snapshot [0-9a-f]+ saved|ok)\b", re.I)


@dataclass(frozen=True)
class Copy:
    """The backups found in one place: newest success time, count, or why none could be read."""

    method: str
    location: str
    last: datetime | None = None
    count: int = 0
    error: str | None = None
    items: tuple[dict, ...] = ()


@dataclass(frozen=True)
class BackupState:
    system: str
    policy: str
    primary: Copy
    isolated: Copy | None = None
    job_failed: bool | None = None       # the job's log ends in a failure
    job_line: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


# -- shell snippets ----------------------------------------------------------------------------
def copy_snippet(method: str, location: str | None, *, password_file: str | None = None,
                 command: list[str] | None = None) -> str:
    if method == "restic":
        env = f"RESTIC_PASSWORD_FILE={q(password_file)} " if password_file else ""
        return f"{env}restic -r {q(location or '')} snapshots --json --no-lock --no-cache -q"
    if method == "borg":
        env = f"BORG_PASSCOMMAND={q('cat ' + q(password_file))} " if password_file else ""
        return f"{env}borg list --json {q(location or '')}"
    if method == "files":
        d, pattern = posixpath.split(location or "")
        if not GLOB_OK.match(pattern):
            raise ValueError(f"glob {location!r}: only letters, digits and . _ - * ? [ ] in the file part")
        return (f"cd {q(d)} || exit 3; for f in {pattern}; do [ -f \"$f\" ] && "
                f"stat -c '%Y %s %n' \"$f\"; done; true")
    if method == "command":
        return " ".join(q(a) for a in (command or []))
    raise ValueError(f"unknown backup method {method!r}")


def log_snippet(path: str) -> str:
    return f"tail -n 200 {q(path)}"


# -- parsers (pure) ----------------------------------------------------------------------------
def _json(text: str) -> Any:
    starts = [i for i in (text.find("["), text.find("{")) if i >= 0]
    if not starts:
        raise ValueError("no JSON in the output")
    value, _ = json.JSONDecoder().raw_decode(text[min(starts):])
    return value


def parse_restic(text: str) -> list[dict]:
    snaps = _json(text)
    if not isinstance(snaps, list):
        raise ValueError("restic snapshots: a JSON list was expected")
    return [{"id": s.get("short_id") or str(s.get("id", ""))[:8], "time": _aware(parse_ts(s["time"])),
             "host": s.get("hostname"), "tags": s.get("tags", [])} for s in snaps]


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def parse_borg(text: str) -> list[dict]:
    data = _json(text)
    out = []
    for a in data.get("archives", []):
        t = parse_ts(a.get("time") or a["start"])   # borg prints the host's local time without a zone:
        if t.tzinfo is None:                         # hosts of the city run in UTC (see docs/collectors.md)
            t = t.replace(tzinfo=timezone.utc)
        out.append({"id": a.get("name") or a.get("archive"), "time": t})
    return out


def parse_files(text: str, min_size: int) -> list[dict]:
    out = []
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            continue
        size = int(parts[1])
        if size >= min_size:
            out.append({"id": parts[2], "time": datetime.fromtimestamp(int(parts[0]), timezone.utc), "size": size})
    return out


def parse_command(text: str) -> list[dict]:
    """A command printing JSON: a list of {time, ok?} or {"last_success": time, "failed": bool}."""
    data = _json(text)
    items = data if isinstance(data, list) else [{"time": data.get("last_success"), "ok": True}] \
        if data.get("last_success") else []
    return [{"id": str(i.get("id", "")), "time": parse_ts(i["time"])} for i in items if i.get("ok", True)]


def parse_copy(method: str, location: str, rc: int | None, text: str, *, min_size: int = 1) -> Copy:
    """A :class:`Copy` from one section's output; an unreadable one carries its error."""
    if rc is None:
        return Copy(method, location, error="the command did not finish")
    if rc == 127:
        return Copy(method, location, error=f"{method} is not installed on the host")
    if rc != 0:
        tail = clean_text(text.strip().splitlines()[-1] if text.strip() else "", 300)
        return Copy(method, location, error=f"{method} exited with status {rc}: {tail}")
    try:
        if method == "restic":
            items = parse_restic(text)
        elif method == "borg":
            items = parse_borg(text)
        elif method == "files":
            items = parse_files(text, min_size)
        else:
            items = parse_command(text)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Copy(method, location, error=f"unreadable {method} output: {exc}")
    last = max((i["time"] for i in items), default=None)
    return Copy(method, location, last=last, count=len(items),
                items=tuple({**i, "time": i["time"].isoformat()} for i in items[-5:]))


def job_outcome(log_text: str) -> tuple[bool | None, str | None]:
    """Did the backup job's last run fail? The last line saying fail/error or success wins."""
    for line in reversed(log_text.splitlines()):
        if FAIL_WORDS.search(line):
            return True, clean_text(line.strip(), 300)
        if OK_WORDS.search(line):
            return False, clean_text(line.strip(), 300)
    return None, None


# -- judging (pure) ----------------------------------------------------------------------------
def _age_h(t: datetime | None, now: datetime) -> float | None:
    return None if t is None else max(0.0, (now - t).total_seconds() / 3600)


def judge(state: BackupState, cat: Catalogue, *, agency: str, host_ip: str, host_name: str | None,
          max_age_hours: int, restore_test_days: int, last_restore_test: datetime | None,
          now: datetime) -> list[Finding]:
    common = {"agency": agency, "host_ip": host_ip, "host_name": host_name, "subject": state.system,
              "timestamp": now}
    p = state.primary
    age = _age_h(p.last, now)
    details = {"system": state.system, "policy": state.policy, "method": p.method, "location": p.location,
               "last_success": p.last.isoformat() if p.last else None, "age_hours": round(age, 1) if age is not None
               else None, "count": p.count, "recent": list(p.items), "max_age_hours": max_age_hours}
    who = f"{state.system} on {host_name or host_ip}"
    if p.error:
        out = [cat["backup.stale"].finding(verdict="error", reason=p.error, details=details,
                                           message=f"{who}: backups could not be read: {p.error}", **common)]
    else:
        stale = age is None or age > max_age_hours
        msg = "no backup found" if age is None else f"last backup {age:.0f} h ago (limit {max_age_hours} h)"
        out = [cat["backup.stale"].finding(verdict="fail" if stale else "pass", details=details,
                                           message=f"{who}: {msg}", **common)]
    if state.job_failed is not None:
        out.append(cat["backup.failed"].finding(
            verdict="fail" if state.job_failed else "pass", reason=state.job_line if state.job_failed else None,
            details={"system": state.system, "line": state.job_line},
            message=f"{who}: " + ("the last backup job failed" if state.job_failed else "the last backup job succeeded"),
            **common))
    if state.isolated is not None:
        iso_c = state.isolated
        iso_age = _age_h(iso_c.last, now)
        bad = iso_c.error is None and (iso_age is None or iso_age > max_age_hours)
        verdict = "error" if iso_c.error else ("fail" if bad else "pass")
        out.append(cat["backup.isolated_copy"].finding(
            verdict=verdict, reason=iso_c.error,
            details={"system": state.system, "location": iso_c.location,
                     "last_success": iso_c.last.isoformat() if iso_c.last else None},
            message=f"{who}: isolated copy " + (f"unreadable: {iso_c.error}" if iso_c.error else
                                                 "missing" if iso_age is None else f"{iso_age:.0f} h old"),
            **common))
    test_age_days = None if last_restore_test is None else (now - last_restore_test).total_seconds() / 86400
    overdue = test_age_days is None or test_age_days > restore_test_days
    out.append(cat["backup.restore_test"].finding(
        verdict="fail" if overdue else "pass",
        details={"system": state.system, "last_restore_test": last_restore_test.isoformat() if last_restore_test
                 else None, "period_days": restore_test_days},
        message=f"{state.system}: " + ("no restore test recorded" if test_age_days is None else
                                       f"last restore test {test_age_days:.0f} days ago (period {restore_test_days} days)"),
        **{**common, "host_ip": None, "host_name": None}))
    return out
