"""Job ``cases``: open incident cases from new findings and alerts (playbook triggers), resume
cases a crash left mid-way, and raise missed reporting deadlines. Also the wiring of the case
engine from the city config, shared with the `citysec case` commands."""

from __future__ import annotations

import functools
import ipaddress
import os
from typing import Any

from collectors.hostkeys import KnownHosts
from collectors.ssh import Target
from config.profiles import load_profile
from findings.errors import ConfigError
from playbooks import CaseEngine, Wiring, incident_report, load_library
from playbooks.deadlines import rules_from_profile
from playbooks.transport import SshTransport
from playbooks.triggers import evaluate


def _hosts(city) -> dict[str, tuple[Any, Any]]:
    """ip and name → (agency, known host)."""
    out = {}
    for a in city.agencies:
        for h in a.hosts:
            out[h.ip] = out[h.name] = (a, h)
    return out


def _target(app, agency, host) -> Target:
    ssh = host.ssh or agency.ssh
    cred = app.city.credentials.get(ssh.key) if ssh.key else None
    return Target(agency=agency.id, name=host.name, ip=host.ip, user=ssh.user, port=ssh.port,
                  key_file=app.config.resolve(cred.key_file) if cred and cred.key_file else None,
                  key_env=cred.env if cred else None, legacy_algorithms=ssh.legacy_algorithms,
                  netns=app.share.netns, os=host.os, role=host.role, system=host.system)


def wiring(app) -> Wiring:
    from citysec.report_inputs import check_names
    city = app.city
    targets = {key: _target(app, agency, host) for key, (agency, host) in _hosts(city).items()
               if host.os == "linux" and not (host.ssh or agency.ssh).jump}
    profile = load_profile(city.profile)
    smtp = app.smtp()
    return Wiring(transport=SshTransport(targets, KnownHosts(app.config.resolve(city.known_hosts))),
                  sensor_ips=tuple(s.address for s in city.sensors if s.address),
                  evidence_dir=app.config.resolve("var/evidence"),
                  reports_dir=app.config.resolve(city.reports.out_dir),
                  smtp=smtp, webhooks=dict(city.notify.webhooks), backups=host_backups(city),
                  deadline_rules=rules_from_profile(city.profile, profile.incident_deadlines()),
                  renderer=functools.partial(incident_report.render, names=check_names()))


def host_backups(city) -> dict[str, dict[str, str]]:
    """Host ip and name → the restic repository and password file of its system's backup policy
    (what a case's backup and restore-check steps use on that host)."""
    policies = {p.id: p for p in city.policies.backups if p.method == "restic" and p.repository and p.password_file}
    out: dict[str, dict[str, str]] = {}
    for agency in city.agencies:
        for h in agency.hosts:
            system = next((s for s in city.systems if s.id == h.system or h.name in s.hosts or h.ip in s.hosts), None)
            p = policies.get(system.backup) if system and system.backup else None
            if p is not None:
                out[h.ip] = out[h.name] = {"repository": p.repository, "password_file": p.password_file}
    return out


def library(app) -> dict:
    extra = [d for d in os.environ.get("CITYSEC_PLAYBOOKS", "").split(os.pathsep) if d]
    return load_library(*extra)


def engine(app) -> CaseEngine:
    return CaseEngine(app.store, library(app), wiring(app))


def context_of(app, agency_id: str, host: str | None) -> dict[str, Any]:
    """What the reports need to know about the agency, host and system (plain values)."""
    city = app.city
    try:
        agency = city.agency(agency_id)
    except KeyError:
        raise ConfigError(f"unknown agency {agency_id!r}") from None
    names = {a.id: a.name for a in city.agencies}
    names_en = {a.id: a.name_en or a.name for a in city.agencies}
    found = _hosts(city).get(host or "")
    kh = found[1] if found and found[0].id == agency_id else None
    system = next((s for s in city.systems if kh and (s.id == kh.system or kh.name in s.hosts or kh.ip in s.hosts)),
                  None)
    ctx: dict[str, Any] = {"agency_name": agency.name, "agency_name_en": agency.name_en,
                           "contacts": [c.model_dump() for c in agency.contacts],
                           "host_name": kh.name if kh else None}
    if system:
        ctx.update(system_id=system.id, level=system.level,
                   system={"id": system.id, "name": system.name, "name_en": system.name_en or system.name,
                           "level": system.level, "type": system.type,
                           "owner": names.get(system.owner, system.owner),
                           "owner_en": names_en.get(system.owner, system.owner),
                           "operator": names.get(system.operator, system.operator),
                           "operator_en": names_en.get(system.operator, system.operator)})
    return ctx


def host_of(app, agency_id: str, host: str | None) -> str | None:
    """The address of a host the city knows by that name or address in that agency, else as given."""
    found = _hosts(app.city).get(host or "")
    return found[1].ip if found and found[0].id == agency_id else host


def zone_of(app, agency_id: str, host: str | None) -> str | None:
    try:
        addr = ipaddress.ip_address(host or "")
        agency = app.city.agency(agency_id)
    except (ValueError, KeyError):
        return None
    return next((n.zone for n in agency.networks if addr in n.network), None)


def cases(app, run_id: str, *, agency: str | None = None) -> dict:
    eng = engine(app)
    resumed = eng.resume_all()
    hosts = {}
    counts = evaluate(eng, zone_of=lambda a, h: zone_of(app, a, h), context_of=lambda a, h: context_of(app, a, h),
                      host_of=lambda a, h: hosts.setdefault((a, h), host_of(app, a, h)))
    missed = eng_missed(eng)
    return {**counts, "resumed": len(resumed), "deadlines_missed": len(missed)}


def eng_missed(eng: CaseEngine) -> list:
    from playbooks.operations import raise_missed_deadlines
    return raise_missed_deadlines(eng)
