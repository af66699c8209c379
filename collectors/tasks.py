"""The tasks a cycle runs on a host: antivirus, backup and logs (see :mod:`collectors.engine`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import antivirus, backup, cursor, windows
from .script import Section
from .ssh import CollectError, Session, Target


class AntivirusTask:
    name = "antivirus"

    def sections(self, target: Target) -> list[tuple[str, str]]:
        return antivirus.linux_sections()

    def parse(self, target: Target, sections: dict[str, Section]) -> antivirus.AvState:
        if "av.which" not in sections:
            raise CollectError("output", "the antivirus section is missing from the host's output")
        return antivirus.parse_linux(sections)

    def powershell(self, target: Target) -> str:
        return windows.script_for(target.role)

    def parse_windows(self, target: Target, rc: int | None, text: str) -> antivirus.AvState:
        return windows.parse_windows(target.role, rc, text)


@dataclass(frozen=True)
class BackupPlan:
    """A system's backup policy as plain values (built from the config's BackupPolicy)."""

    system: str
    policy: str
    method: str
    location: str | None
    password_file: str | None = None
    min_size: int = 1
    command: tuple[str, ...] | None = None
    max_age_hours: int = 30
    isolated_copy: str | None = None
    restore_test_days: int = 92
    log: str | None = None


class BackupTask:
    name = "backup"

    def __init__(self, plans: dict[str, BackupPlan]):
        self.plans = plans          # system id → plan

    def sections(self, target: Target) -> list[tuple[str, str]]:
        plan = self.plans.get(target.system or "")
        if plan is None:
            return []
        out = [("bk.primary", backup.copy_snippet(plan.method, plan.location, password_file=plan.password_file,
                                                  command=list(plan.command or ())))]
        if plan.isolated_copy:
            out.append(("bk.isolated", backup.copy_snippet(plan.method, plan.isolated_copy,
                                                           password_file=plan.password_file)))
        if plan.log:
            out.append(("bk.log", f"[ -f {backup.q(plan.log)} ] || exit 0; " + backup.log_snippet(plan.log)))
        return out

    def parse(self, target: Target, sections: dict[str, Section]) -> backup.BackupState | None:
        plan = self.plans.get(target.system or "")
        if plan is None:
            return None
        if "bk.primary" not in sections:
            raise CollectError("output", "the backup section is missing from the host's output")
        p = sections["bk.primary"]
        loc = plan.location or " ".join(plan.command or ())
        primary = backup.parse_copy(plan.method, loc, p.rc, p.text, min_size=plan.min_size)
        isolated = None
        if plan.isolated_copy:
            s = sections.get("bk.isolated")
            isolated = backup.parse_copy(plan.method, plan.isolated_copy, s.rc if s else None, s.text if s else "",
                                         min_size=plan.min_size)
        failed, line = backup.job_outcome(sections["bk.log"].text) if "bk.log" in sections else (None, None)
        return backup.BackupState(plan.system, plan.policy, primary, isolated, failed, line)


class LogsTask:
    """Two round trips on the host's one session: stat every file, then read the planned ranges.
    Cursors come from and go back to the caller (``load``/``save`` functions)."""

    name = "logs"

    def __init__(self, files_for: Callable[[Target], list[str]],
                 load: Callable[[str, str], cursor.Cursor | None], cap: int = 8 * 1024 * 1024):
        self.files_for, self.load, self.cap = files_for, load, cap

    def work(self, session: Session, target: Target) -> dict[str, Any]:
        from . import script

        files = self.files_for(target)
        text, nonce = script.build([(f"st:{i}", cursor.stat_snippet(p)) for i, p in enumerate(files)])
        res = session.run(text)
        stats = script.parse(res.stdout, nonce)
        plans, unreadable = {}, []
        # what one cycle reads must fit the session's output cap: a backlog is read over several cycles
        per_file = max(4096, min(self.cap, (session.max_output - 65536) // max(1, len(files))))
        for i, path in enumerate(files):
            sec = stats.get(f"st:{i}")
            current, siblings = cursor.parse_stats(path, sec.text if sec else "")
            old = self.load(target.ip, path)
            plans[path] = (old, cursor.plan(old, current, siblings, per_file))
            if current is not None and not current.readable:
                unreadable.append(path)
        reads = [(f"rd:{i}:{j}", cursor.read_snippet(r, path)) for i, path in enumerate(files)
                 for j, r in enumerate(plans[path][1].reads)]
        data: dict[str, Section] = {}
        if reads:
            text, nonce = script.build(reads)
            res = session.run(text)
            if res.truncated:
                raise CollectError("output", "log output passed the size cap")
            data = script.parse(res.stdout, nonce)
        out = {}
        for i, path in enumerate(files):
            old, p = plans[path]
            chunks = [data[f"rd:{i}:{j}"].data if f"rd:{i}:{j}" in data else b"" for j in range(len(p.reads))]
            new, lines = cursor.consume(old, p, chunks, path)
            out[path] = {"cursor": new, "lines": lines, "rotated": p.rotated, "gap": p.gap,
                         "unreadable": path in unreadable}
        return out
