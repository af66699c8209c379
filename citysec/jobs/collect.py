"""Jobs antivirus, backup and logs: wire the city config to the collectors and record findings.

Each job builds plain :class:`collectors.ssh.Target` values from the register, runs one cycle
(one SSH connection per host), judges the results and records them in the store. A job collects
only this sensor's share (:mod:`citysec.share`): the hosts inside the networks it owns; what it
closes is bounded by the same share, so two sensors of one agency never close each other's findings.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import timedelta
from typing import Any

from collectors import detections, logparse, outcomes
from collectors.catalogue import catalogue
from collectors.console import parse_console_csv
from collectors.engine import HostResult, run_cycle
from collectors.hostkeys import KnownHosts
from collectors.logevents import alert_finding, event_finding
from collectors.ssh import Target
from collectors.state import CollectorState
from collectors.tasks import AntivirusTask, BackupPlan, BackupTask, LogsTask
from findings.errors import UsageError
from findings.model import Finding, utcnow
from findings.store import Scope

LOG_FILES = ("/var/log/auth.log", "/var/log/syslog", "/var/log/clamav/clamav.log")
WORKERS = int(os.environ.get("CITYSEC_COLLECT_WORKERS", "32"))


def _host_system(city) -> dict[tuple[str, str], str]:
    """(agency, host name or ip) → system id."""
    out = {}
    for s in city.systems:
        for h in s.hosts:
            out[(s.owner, h)] = s.id
    return out


def _target(app, agency, host, *, system: str | None, depth: int = 0) -> Target:
    city = app.city
    ssh = host.ssh or agency.ssh
    cred = city.credentials.get(ssh.key) if ssh.key else None
    key_file = app.config.resolve(cred.key_file) if cred and cred.key_file else None
    jump = None
    if ssh.jump and depth == 0:
        found = [(a, h) for a in city.agencies for h in a.hosts if ssh.jump in (h.name, h.ip)]
        if not found:
            from findings.errors import ConfigError
            ai = [a.id for a in city.agencies].index(agency.id)
            loc = (("agencies", ai, "hosts", agency.hosts.index(host), "ssh", "jump") if host.ssh
                   else ("agencies", ai, "ssh", "jump"))
            raise ConfigError(f"{app.config.where(*loc)}: jump host {ssh.jump!r} is in no agency's register")
        jump = _target(app, found[0][0], found[0][1], system=None, depth=1)
    return Target(agency=agency.id, name=host.name, ip=host.ip, user=ssh.user, port=ssh.port, key_file=key_file,
                  key_env=cred.env if cred else None, jump=jump, legacy_algorithms=ssh.legacy_algorithms,
                  netns=app.share.netns, os=host.os, role=host.role, system=system,
                  transport="winrm" if host.os == "windows" and ssh.windows == "winrm" else "ssh",
                  collect=tuple(host.collect))


def targets(app, agency: str | None, task: str) -> list[Target]:
    """This sensor's registered hosts (of ``agency``, or of all its agencies) that ``task`` collects."""
    systems = _host_system(app.city)
    out = []
    for aid in app.share.agency_ids(agency):
        a = app.city.agency(aid)
        for h in app.share.hosts_of(aid):
            if task in h.collect and (h.os == "linux" or (h.os == "windows" and task == "antivirus")):
                system = h.system or systems.get((aid, h.name)) or systems.get((aid, h.ip))
                out.append(_target(app, a, h, system=system))
    return out


def _known(app) -> KnownHosts:
    return KnownHosts(app.config.resolve(app.city.known_hosts))


def _record(app, run_id: str, findings: list[Finding], checks: set[str], agencies: list[str]) -> dict:
    sensor = app.share.sensor_id
    findings = [f.with_(sensor=sensor) if sensor and f.sensor is None else f for f in findings]
    res = app.store.record(findings, run_id=run_id, scope=_scope(app, checks, agencies) if checks else None)
    return res.as_dict()


def _scope(app, checks: set[str], agencies: list[str]) -> Scope:
    """What a complete run may close: its checks in its agencies; in an agency split between sensors,
    only the hosts inside this sensor's networks (the other sensor's hosts are not this run's to close)."""
    share = app.share
    hosts = None
    if not all(share.whole(aid) for aid in agencies):
        known = {r["host"] for aid in agencies for r in app.store.current(agency=aid) if r["host"]}
        hosts = frozenset(h for h in known if _is_ip(h) and share.owns(h))
    return Scope(checks=frozenset(checks), agencies=frozenset(agencies), hosts=hosts)


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ok_findings(results: list[HostResult], task: str, now) -> list[Finding]:
    """A pass of collect.error for every host collected: it closes that host's earlier error."""
    cat = catalogue()
    return [cat["collect.error"].finding(agency=r.target.agency, verdict="pass", host_ip=r.target.ip,
                                         host_name=r.target.name, subject=task, timestamp=now,
                                         message=f"{r.target.name}: {task} collected")
            for r in results if r.error is None]


def _discovered(app, agency: str) -> tuple[dict[str, str | None], str]:
    """The agency's hosts this sensor measures coverage against: those its discovery found inside
    its networks, else its registered hosts there (never the hosts of another sensor's networks)."""
    share = app.share
    assets = [r for r in app.store.current(kind="asset", agency=agency)
              if r["host"] and _is_ip(r["host"]) and share.owns(r["host"])]
    if assets:
        import json
        return {r["host"]: json.loads(r["doc"]).get("host", {}).get("name") for r in assets}, "scan"
    return {h.ip: h.name for h in share.hosts_of(agency)}, "register"


def antivirus(app, run_id: str, *, agency: str | None = None) -> dict[str, Any]:
    cat, now = catalogue(), utcnow()
    pol = app.city.policies.antivirus
    policy = outcomes.AvPolicy(pol.max_signature_age_hours, pol.require_daemon, pol.require_updater)
    results = run_cycle(targets(app, agency, "antivirus"), [AntivirusTask()], _known(app), workers=WORKERS)
    findings, health = outcomes.antivirus_findings(results, cat, policy, now)
    if pol.console_import:
        health = _console(app, pol, policy, health, now)
    agencies = app.share.agency_ids(agency)
    for aid in agencies:
        discovered, source = _discovered(app, aid)
        findings += outcomes.coverage(aid, discovered, health, cat, now, source=source,
                                      agency_name=app.city.agency(aid).name)
    findings += _ok_findings(results, "antivirus", now)
    counts = _record(app, run_id, findings, {"av."}, agencies)
    return {"hosts": len(results), "errors": sum(r.error is not None for r in results), **counts}


def _console(app, pol, policy, health: dict, now) -> dict:
    """Health with the AV console's export merged in (hosts SSH gave nothing for)."""
    path = app.config.resolve(pol.console_import.path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            states = parse_console_csv(fh.read(), dict(pol.console_import.columns), path)
    except OSError as exc:
        raise UsageError(f"{app.config.where('policies', 'antivirus', 'console_import', 'path')}: {exc}") from None
    return outcomes.merge_console(health, states, policy, now)


def _check_policy(app, i: int, p) -> None:
    """A policy the collectors can run, or a ConfigError naming file, YAML path and line."""
    from collectors.backup import GLOB_OK
    from findings.errors import ConfigError
    need = {"restic": "repository", "borg": "repository", "files": "glob", "command": "command"}[p.method]
    if not getattr(p, need):
        raise ConfigError(f"{app.config.where('policies', 'backups', i, 'method')}: method {p.method} needs {need}")
    if p.method == "files" and not GLOB_OK.match(os.path.basename(p.glob)):
        raise ConfigError(f"{app.config.where('policies', 'backups', i, 'glob')}: only letters, digits and "
                          ". _ - * ? [ ] in the file part of the glob")


def backup_plans(app) -> dict[str, BackupPlan]:
    for i, p in enumerate(app.city.policies.backups):
        _check_policy(app, i, p)
    pols = {p.id: p for p in app.city.policies.backups}
    plans = {}
    for s in app.city.systems:
        if s.backup and s.backup in pols:
            p = pols[s.backup]
            loc = p.repository if p.method in ("restic", "borg") else p.glob
            plans[s.id] = BackupPlan(s.id, p.id, p.method, loc, p.password_file, p.min_size_bytes,
                                     tuple(p.command) if p.command else None, p.max_age_hours, p.isolated_copy,
                                     p.restore_test_days, p.log)
    return plans


def backup(app, run_id: str, *, agency: str | None = None) -> dict[str, Any]:
    cat, now = catalogue(), utcnow()
    plans = backup_plans(app)
    tgts = [t for t in targets(app, agency, "backup") if t.system in plans]
    results = run_cycle(tgts, [BackupTask(plans)], _known(app), workers=WORKERS)
    tests = CollectorState(app.store).last_restore_tests()
    findings = outcomes.backup_findings(results, cat, plans, tests, now) + _ok_findings(results, "backup", now)
    counts = _record(app, run_id, findings, {"backup."}, app.share.agency_ids(agency))
    return {"hosts": len(results), "errors": sum(r.error is not None for r in results), **counts}


def log_files(app, plans: dict[str, BackupPlan]):
    def files_for(t: Target) -> list[str]:
        extra = [plans[t.system].log] if t.system in plans and plans[t.system].log else []
        return list(dict.fromkeys([*LOG_FILES, *extra]))
    return files_for


def logs(app, run_id: str, *, agency: str | None = None) -> dict[str, Any]:
    cat, now = catalogue(), utcnow()
    state = CollectorState(app.store)
    cursors = state.cursors()
    task = LogsTask(log_files(app, backup_plans(app)), lambda host, path: cursors.get((host, path)))
    results = run_cycle(targets(app, agency, "logs"), [task], _known(app), workers=WORKERS)
    bf = app.city.policies.brute_force
    findings: list[Finding] = []
    new_cursors, lines_n, gaps, partial = [], 0, [], {}
    for r in results:
        if r.error is not None:
            findings += outcomes.error_findings(r, cat, task="logs", now=now)
            continue
        t, clock = r.target, logparse.TimeParser(now)
        events = []
        for path, got in r.values["logs"].items():
            if got["cursor"] is not None:
                new_cursors.append((t.ip, got["cursor"]))
            if got["gap"]:
                gaps.append(f"{t.name}: {got['gap']}")
            if got["unreadable"]:
                partial.setdefault(t.ip, []).append(path)
            for file, start, block in _blocks(got["lines"]):
                events += logparse.parse_chunk(block, start, clock, file=file, default_ts=now.timestamp(),
                                               default_host=t.name)
        lines_n += len(events)
        recent = _recent_attempts(app, t, now, bf.window_seconds)
        first_new = min((e.ts for e in events if e.ts is not None), default=None)
        found = detections.detect(recent + events, failures=bf.failures, window=bf.window_seconds)
        found = [d for d in found if first_new is not None and d.ts is not None and d.ts >= first_new]
        kw = {"agency": t.agency, "host_ip": t.ip, "host_name": t.name, "now": now}
        findings += [event_finding(e, cat, **kw) for e in events]
        findings += [alert_finding(d, cat, **kw) for d in found]
    findings += [f if f.host_ip not in partial else f.with_(
        verdict="incomplete", severity=cat["collect.error"].severity,
        reason=f"cannot read {', '.join(partial[f.host_ip])} as {_user_of(results, f.host_ip)}",
        message=f"{f.host_name}: logs collected in part: cannot read {', '.join(partial[f.host_ip])}")
        for f in _ok_findings(results, "logs", now)]
    counts = _record(app, run_id, findings, set(), app.share.agency_ids(agency))
    state.save_cursors(new_cursors, now)   # after the events are stored: a crash re-reads, never skips
    return {"hosts": len(results), "errors": sum(r.error is not None for r in results), "lines": lines_n,
            "alerts": sum(f.kind == "alert" for f in findings), "gaps": len(gaps), "unreadable": len(partial),
            **counts}


def _user_of(results: list[HostResult], ip: str) -> str:
    return next((r.target.user for r in results if r.target.ip == ip), "the collection account")


def _blocks(lines: list[tuple[str, int, bytes]]):
    """Consecutive lines of one file back into blocks (file, start offset, bytes)."""
    block: list[bytes] = []
    file, start, nxt = None, 0, None
    for f, off, raw in lines:
        if block and (f != file or off != nxt):
            yield file, start, b"\n".join(block) + b"\n"
            block = []
        if not block:
            file, start = f, off
        block.append(raw)
        nxt = off + len(raw) + 1
    if block:
        yield file, start, b"\n".join(block) + b"\n"


def _recent_attempts(app, t: Target, now, window: int) -> list[logparse.LogEvent]:
    """Stored SSH attempts of the last window on this host, so a brute force spanning two cycles counts."""
    import json
    since = (now - timedelta(seconds=window * 2)).isoformat()
    rows = app.store.query("SELECT doc FROM events WHERE kind='event' AND ts>=? AND check_id='log.event' AND host=?"
                           " AND doc LIKE '%\"action\":\"ssh-%'", (since.replace("+00:00", "Z"), t.ip))
    out = []
    for row in rows:
        doc = json.loads(row["doc"])
        d = doc.get("citysec", {}).get("logs", {})
        if d.get("action") not in ("ssh-login", "ssh-preauth-closed"):
            continue
        ev = logparse.LogEvent(logparse.TimeParser(now).iso(doc["@timestamp"]), d.get("reported_host"),
                               d.get("program"), d.get("pid"), doc.get("message", ""), d.get("file"), d.get("offset"))
        ev.action, ev.outcome, ev.extra = d.get("action"), d.get("outcome"), d.get("extra")
        ev.user, ev.source_ip = doc.get("user", {}).get("name"), doc.get("source", {}).get("ip")
        ev.source_port = _port_of(ev.message)
        out.append(ev)
    return out


def _port_of(message: str) -> str | None:
    """The source port of a stored sshd line: after the last " port " (the user name before it is
    the client's text and may hold " port " itself)."""
    parts = message.rsplit(" port ", 1)
    return parts[1].split()[0] if len(parts) > 1 and parts[1].split() else None
