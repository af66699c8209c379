"""``backup`` — ``host``, ``state``: failing (the job's log ends with a fatal error and ``backup
finished: FAILED``) or aged with ``hours`` (the newest backup becomes older than that: restic
snapshots newer are forgotten with ``restic forget``; archive files newer are moved aside into
the range's state folder).

Facts: the forgotten snapshots (id, time) or the moved files. Cleanup: failing and restic-aged →
a fresh backup now (and an OK log line); files-aged → the files moved back (same mtime). Verify:
the newest backup is no older than described (or fresh) and the backup log's last line is OK
(unless the description has the job failing).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime

from findings.errors import RuntimeFailure, UsageError

from .base import NUM, SLACK_H, STR, InjectKind, Params, elapsed_h, param

RESTIC = ["restic", "--no-cache", "-q", "-r", "/var/backups/restic", "--password-file", "/var/backups/restic.pass"]
FOLDER = "/var/backups"


def restic_time(text: str) -> float:
    """restic's RFC 3339 time (nanoseconds, Z or an offset) as a Unix time."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$", text)
    if not m:
        raise RuntimeFailure(f"restic: unexpected snapshot time {text!r}")
    frac = float(m.group(2) or 0)
    return datetime.fromisoformat(m.group(1) + m.group(3).replace("Z", "+00:00")).timestamp() + frac


def snapshots(rng, host: str) -> list[dict]:
    proc = rng.exec(host, RESTIC + ["snapshots", "--json"], timeout=120, check=True)
    return [{"id": s["id"], "time": restic_time(s["time"])} for s in json.loads(proc.stdout or "[]")]


def archives(rng, host: str) -> list[tuple[str, float]]:
    """(file name, mtime) of the host's archive backups in /var/backups."""
    folder = rng.host_path(host, FOLDER)
    names = [n for n in os.listdir(folder) if n.startswith(f"{host}-") and n.endswith(".tar.gz")]
    return [(n, rng.file_status(host, f"{FOLDER}/{n}").st_mtime) for n in names]


def newest_age_h(rng, host: str, method: str) -> float | None:
    times = [s["time"] for s in snapshots(rng, host)] if method == "restic" else [t for _, t in archives(rng, host)]
    return (time.time() - max(times)) / 3600 if times else None


def last_backup_line(rng, host: str) -> str:
    data = rng.read_file(host, "/var/log/backup.log") or b""
    lines = [ln for ln in data.decode(errors="replace").splitlines() if "backup finished" in ln]
    return lines[-1] if lines else ""


@dataclass(frozen=True)
class BackupParams(Params):
    host: str = param("a host name", STR)
    state: str = param("failing or aged", STR)
    hours: float | None = param("a number of hours", NUM, None)

    def problems(self):
        if self.state not in ("failing", "aged"):
            return [("state", f"expected failing or aged, got {self.state!r}")]
        if self.state == "aged" and self.hours is None:
            return [("hours", "required when state is aged")]
        if self.state == "aged" and self.hours <= 0:
            return [("hours", f"expected a positive number of hours, got {self.hours!r}")]
        if self.state == "failing" and self.hours is not None:
            return [("hours", "only with state aged")]
        return []


class Backup(InjectKind):
    name = "backup"
    Params = BackupParams

    @staticmethod
    def _described(rng, host: str):
        b = rng.host(host).spec.backup
        if b is None:
            raise UsageError(f"{host}: its description has no backup")
        return b

    @staticmethod
    def _aside(rng, host: str) -> str:
        return os.path.join(rng.state_dir, "injects", "backup-aside", host)

    def apply(self, rng, params):
        p = self.parse(params)
        host = rng.host(p.host).name
        b = self._described(rng, host)
        if p.state == "failing":
            if "FAILED" not in last_backup_line(rng, host):
                rng.set_backup(host, "failing")
            return {"method": b.method}
        cutoff = time.time() - float(p.hours) * 3600
        if b.method == "restic":
            newer = [s for s in snapshots(rng, host) if s["time"] > cutoff]
            if newer:
                rng.exec(host, RESTIC + ["forget", *[s["id"] for s in newer]], timeout=120, check=True)
            backdated = not any(s["time"] <= cutoff for s in snapshots(rng, host))
            if backdated:   # nothing that old: the job's last run, N hours ago, is the newest snapshot
                rng.restic_snapshot(host, float(p.hours))
            return {"method": "restic", "forgotten": newer, "backdated": backdated}
        aside = self._aside(rng, host)
        os.makedirs(aside, exist_ok=True)
        moved = [n for n, t in archives(rng, host) if t > cutoff]
        for n in moved:
            shutil.move(rng.host_path(host, f"{FOLDER}/{n}"), os.path.join(aside, n))
        return {"method": "files", "moved": moved, "aside": aside}

    def applied(self, rng, params, facts):
        p = self.parse(params)
        host = rng.host(p.host).name
        if p.state == "failing":
            return "FAILED" in last_backup_line(rng, host)
        age = newest_age_h(rng, host, self._described(rng, host).method)
        return age is None or age >= float(p.hours) - SLACK_H

    def cleanup(self, rng, params, facts):
        p = self.parse(params)
        host = rng.host(p.host).name
        b = self._described(rng, host)
        if p.state == "failing" or b.method == "restic":
            rng.set_backup(host, "ok")  # a fresh snapshot (or archive) now, and its OK log line
            return
        folder, aside = rng.host_path(host, FOLDER), self._aside(rng, host)
        for n in sorted(os.listdir(aside)) if os.path.isdir(aside) else []:
            shutil.move(os.path.join(aside, n), os.path.join(folder, n))

    def verify(self, rng, params, facts):
        host = rng.host(self.parse(params).host).name
        b = self._described(rng, host)
        described = list(b.snapshots_hours_ago) + [h for h, _ in b.files]
        out, age = [], newest_age_h(rng, host, b.method)
        if described:
            allowed = min(described) + elapsed_h(rng) + SLACK_H
            if age is None or age > allowed:
                out.append(f"{host}: newest {b.method} backup is "
                           f"{'missing' if age is None else f'{age:.1f} h old'}; described at most {allowed:.1f} h")
        last = last_backup_line(rng, host)
        if not b.failing and not last.endswith("backup finished: OK"):
            out.append(f"{host}: backup log's last result is not OK: {last[-120:]!r}")
        aside = self._aside(rng, host)
        missing = set(facts.get("moved", [])) | set(os.listdir(aside) if os.path.isdir(aside) else [])
        missing = sorted(n for n in missing if rng.file_status(host, f"{FOLDER}/{n}") is None)
        return out + [f"{host}: archive {FOLDER}/{n} not back in place" for n in missing]

    def describe(self, params):
        p = self.parse(params)
        if p.state == "aged":
            return f"newest backup on {p.host} made older than {p.hours} h"
        return f"backup job on {p.host} fails"
