"""Host results → findings: antivirus and backup judgements, coverage per agency, errors.

Pure functions over what :func:`collectors.engine.run_cycle` returned; the job records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from findings.checks import Catalogue
from findings.model import Finding

from . import antivirus, backup
from .engine import HostResult
from .ssh import HostKeyChanged


@dataclass(frozen=True)
class AvPolicy:
    max_signature_age_hours: int = 48
    require_daemon: bool = True
    require_updater: bool = True


def error_findings(r: HostResult, cat: Catalogue, *, task: str, now: datetime) -> list[Finding]:
    """``collect.error`` for a host that could not be collected (and an alert for a changed key)."""
    t, e = r.target, r.error
    assert e is not None
    out = [cat["collect.error"].finding(
        agency=t.agency, verdict="error", reason=e.reason, host_ip=t.ip, host_name=t.name, subject=task,
        message=f"{t.name} ({t.ip}): {task} not collected: {e.reason}", timestamp=now,
        details={"task": task, "error": e.kind, **{k: str(v) for k, v in e.details.items()}})]
    if isinstance(e, HostKeyChanged):
        out.append(cat["ssh.host_key_changed"].finding(
            agency=t.agency, kind="alert", host_ip=t.ip, host_name=t.name, timestamp=now,
            message=f"host key changed — possible interception: {t.name} ({t.ip}) offered {e.details['offered']}, "
                    f"enrolled {e.details['expected']}; connection refused",
            details={"expected": e.details["expected"], "offered": e.details["offered"]},
            category=("network", "intrusion_detection"), type=("indicator",)))
    return out


def antivirus_findings(results: list[HostResult], cat: Catalogue, policy: AvPolicy, now: datetime
                       ) -> tuple[list[Finding], dict[str, antivirus.Health]]:
    """Findings per host and each collected host's health (by ip) for the coverage."""
    out: list[Finding] = []
    health: dict[str, antivirus.Health] = {}
    for r in results:
        t = r.target
        if r.error is not None:
            out += error_findings(r, cat, task="antivirus", now=now)
            health[t.ip] = antivirus.Health(False, f"unknown: unreachable ({r.error.reason})")
            continue
        state = r.values.get("antivirus")
        if state is None:
            continue
        kw = {"max_age_hours": policy.max_signature_age_hours, "require_daemon": policy.require_daemon,
              "require_updater": policy.require_updater, "now": now}
        out += antivirus.judge(state, cat, agency=t.agency, host_ip=t.ip, host_name=t.name, **kw)
        health[t.ip] = antivirus.health(state, **kw)
    return out, health


def merge_console(health: dict[str, antivirus.Health], states: dict[str, antivirus.AvState], policy: AvPolicy,
                  now: datetime) -> dict[str, antivirus.Health]:
    """The AV console's word for hosts SSH gave nothing for (not collected, or unreachable)."""
    merged = dict(health)
    for ip, st in states.items():
        if ip not in merged or merged[ip].reason.startswith("unknown"):
            h = antivirus.health(st, max_age_hours=policy.max_signature_age_hours,
                                 require_daemon=policy.require_daemon, require_updater=False, now=now)
            merged[ip] = antivirus.Health(h.healthy, h.reason + ("; " if ":" in h.reason else ": ") + "per the AV console")
    return merged


def coverage(agency: str, discovered: dict[str, str | None], health: dict[str, antivirus.Health],
             cat: Catalogue, now: datetime, *, source: str, agency_name: str | None = None) -> list[Finding]:
    """One metric per agency, a finding per discovered host: covered (pass) or why not (fail).
    ``discovered``: ip → name of the hosts the scanners found (or the register)."""
    out: list[Finding] = []
    covered = 0
    reasons: dict[str, int] = {}
    for ip, name in sorted(discovered.items()):
        h = health.get(ip) or antivirus.Health(False, "unknown: not collected (no SSH access configured)")
        covered += h.healthy
        if not h.healthy:
            key = h.reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        out.append(cat["av.coverage"].finding(
            agency=agency, verdict="pass" if h.healthy else "fail", host_ip=ip, host_name=name, timestamp=now,
            reason=None if h.healthy else h.reason, agency_name=agency_name,
            message=f"{name or ip}: " + ("antivirus healthy" if h.healthy else f"not covered: {h.reason}"),
            details={"covered": h.healthy, "reason": h.reason}))
    total = len(discovered)
    ratio = covered / total if total else None
    out.append(cat["av.coverage"].finding(
        agency=agency, kind="metric", timestamp=now, agency_name=agency_name, subject="ratio",
        message=f"{agency}: antivirus coverage {covered}/{total}" + (f" ({ratio:.0%})" if ratio is not None else ""),
        details={"discovered": total, "covered": covered, "ratio": ratio, "uncovered_by_reason": reasons,
                 "source": source}, category=("malware", "host"), type=("info",)))
    return out


def backup_findings(results: list[HostResult], cat: Catalogue, plans: dict, restore_tests: dict[str, datetime],
                    now: datetime) -> list[Finding]:
    out: list[Finding] = []
    for r in results:
        t = r.target
        if r.error is not None:
            out += error_findings(r, cat, task="backup", now=now)
            continue
        state = r.values.get("backup")
        if state is None:
            continue
        plan = plans[state.system]
        out += backup.judge(state, cat, agency=t.agency, host_ip=t.ip, host_name=t.name,
                            max_age_hours=plan.max_age_hours, restore_test_days=plan.restore_test_days,
                            last_restore_test=restore_tests.get(state.system), now=now)
    return out
