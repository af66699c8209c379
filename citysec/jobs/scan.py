"""Jobs `discovery` and `services`: wire the city config, the sensor and the store to scanners/."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import config
from findings.errors import UsageError
from findings.model import parse_ts, utcnow
from findings.store import Scope
from scanners import discovery as disc
from scanners import services as svc
from scanners.catalogue import ExposureCatalogue
from scanners.nmaprun import NmapPlan, is_root, nmap_path
from scanners.plan import blocked, port_sets, scripts_for
from scanners.scope import ScopeGuard
from scanners.targets import AgencyTargets, Blackout, Net, RegisteredHost, Rule, ScanPolicy, Window

from findings.support.yamlpos import load_one

EXPOSURE_FILE = os.path.join(os.path.dirname(os.path.abspath(config.__file__)), "exposure.yaml")
Progress = Callable[[str, int, int], None]   # (label, done, total)


@lru_cache(maxsize=4)
def load_exposure(path: str = EXPOSURE_FILE) -> ExposureCatalogue:
    data, positions = load_one(path)
    return ExposureCatalogue.from_mapping(data, path, positions)


def agency_targets(a) -> AgencyTargets:
    nets = tuple(Net(n.cidr, n.zone, n.segment, tuple(n.exclude), n.sensor) for n in a.networks)
    hosts = tuple(RegisteredHost(h.name, h.ip, h.mac) for h in a.hosts)
    return AgencyTargets(a.id, a.name, a.kind, nets, hosts, a.stale_after_days, a.allow_intrusive)


def scan_policy(city) -> ScanPolicy:
    p = city.policies
    rules = tuple(Rule(i, frozenset(r.zones), frozenset(r.agencies), frozenset(r.kinds), frozenset(r.allow),
                       frozenset(r.forbid), r.reason) for i, r in enumerate(p.services))
    windows = tuple(Window(frozenset(w.days), w.start, w.end, frozenset(w.agencies)) for w in p.scan_windows)
    blackouts = tuple(Blackout(b.start, b.end, frozenset(b.agencies), b.reason) for b in p.blackouts)
    return ScanPolicy(rules, windows, blackouts, p.top_ports, p.host_timeout_seconds, p.version_intensity,
                      p.discovery_rate_pps)


def sensor_of(app):
    sid = app.sensor
    for s in app.city.sensors:
        if s.id == sid:
            return s
    if sid is None:
        return None
    raise UsageError(f"unknown sensor {sid!r}; configured: {', '.join(s.id for s in app.city.sensors)}")


def _setup(app, agency: str | None, now: datetime):
    sensor = sensor_of(app)
    agencies = {a.id: agency_targets(a) for a in app.city.agencies}
    guard = ScopeGuard(agencies.values(), sensor.id if sensor else None,
                       [sensor.address] if sensor and sensor.address else [])
    policy = scan_policy(app.city)
    ids = app.agency_ids(agency)
    skipped = {aid: why for aid in ids if (why := blocked(policy, aid, now))}
    return sensor, agencies, guard, policy, [a for a in ids if a not in skipped], skipped


def discovery(app, run_id: str, *, agency: str | None = None, targets: tuple[str, ...] = (),
              progress: Progress | None = None, timeout: float = 1.0) -> dict[str, Any]:
    now = utcnow()
    sensor, agencies, guard, policy, ids, skipped = _setup(app, agency, now)
    chosen = guard.targets(ids, targets)              # ScopeError before any packet
    cat, store = load_exposure(), app.store
    first = store.query("SELECT MIN(started) FROM runs WHERE job='discovery'")[0][0]
    findings, swept, live_total = [], set(), 0
    by_agency = sorted({t.agency for t in chosen})
    for i, aid in enumerate(by_agency):
        mine = [t for t in chosen if t.agency == aid]
        local = [x for t in mine if t.net.segment == "local" for x in guard.addresses(t)]
        routed = [x for t in mine if t.net.segment != "local" for x in guard.addresses(t)]
        guard.check(local + routed)
        if progress:
            progress(f"discovery {aid}", i, len(by_agency))
        res = disc.sweep(local, routed, netns=sensor.netns if sensor else None,
                         pps=policy.discovery_rate_pps, timeout=timeout)
        swept.update(local + routed)
        live_total += len(res.live)
        seen = {r["host"]: parse_ts(r["last_seen"]) for r in store.current(agency=aid, kind="asset")}
        findings += disc.judge(agencies[aid], res.live, now=now, last_seen=seen,
                               since=parse_ts(first) if first else None, checks=cat.check,
                               sensor=sensor.id if sensor else None)
    if progress:
        progress("discovery", len(by_agency), len(by_agency))
    scope = Scope(checks=frozenset({"discovery.rogue", "discovery.stale"}), agencies=frozenset(by_agency),
                  hosts=frozenset(swept) if targets else None, complete=True)
    rec = store.record(findings, run_id=run_id, scope=scope)
    rogue = sorted(f.host_ip for f in findings if f.check == "discovery.rogue" and f.verdict == "fail")
    stale = sorted(f.host_ip for f in findings if f.check == "discovery.stale" and f.verdict == "fail")
    return {"agencies": len(by_agency), "addresses": len(swept), "live": live_total, "rogue": rogue,
            "stale": stale, "skipped": skipped, **rec.as_dict()}


def services(app, run_id: str, *, agency: str | None = None, targets: tuple[str, ...] = (),
             ports: str | None = None, progress: Progress | None = None,
             on_start: Callable | None = None) -> dict[str, Any]:
    now = utcnow()
    sensor, agencies, guard, policy, ids, skipped = _setup(app, agency, now)
    chosen = guard.targets(ids, targets)              # ScopeError before any packet
    nmap_path()                                       # MissingTool (exit 3) before any packet
    cat, store = load_exposure(), app.store
    tcp, udp = port_sets(policy, cat, ports)
    root = is_root()
    groups: dict[tuple[str, ...], list] = {}
    for t in chosen:
        groups.setdefault(scripts_for(agencies[t.agency].allow_intrusive), []).append(t)
    totals: dict[str, Any] = {"hosts": 0, "open_ports": 0, "incomplete": {}, "notes": [], "skipped": skipped}
    for scripts, group in groups.items():
        for t in group:
            guard.check(guard.addresses(t))
        plan = NmapPlan(targets=tuple(str(t.network) for t in group),
                        exclude=tuple(sorted({x for t in group for x in guard.left_out(t)})),
                        tcp=tuple(tcp), udp=tuple(udp), scripts=scripts,
                        host_timeout_seconds=policy.host_timeout_seconds,
                        version_intensity=policy.version_intensity, privileged=root)
        expected = _expected(store, group, guard)
        result = svc.scan(plan, agencies, policy.rules, cat, expected=expected,
                          netns=sensor.netns if sensor else None, sensor=sensor.id if sensor else None,
                          run_id=run_id, on_start=on_start,
                          on_host=_host_progress(progress, len(expected)))
        scope = Scope(checks=frozenset({"exposure."}), agencies=frozenset(t.agency for t in group),
                      hosts=frozenset(result.complete_hosts), complete=not result.partial)
        rec = store.record(result.findings, run_id=run_id, scope=scope)
        for k, v in rec.as_dict().items():
            totals[k] = totals.get(k, 0) + v
        totals["hosts"] += len(result.complete_hosts)
        totals["open_ports"] += result.open_ports
        totals["incomplete"].update(result.incomplete_hosts)
        totals["notes"] += result.notes + ([f"partial: {result.why}"] if result.partial else [])
        totals["scan_type"] = result.scan_type
    totals["failed"] = len(store.current(status=("open", "reopened"), check="exposure"))
    return totals


def _host_progress(progress: Progress | None, expected: int) -> Callable[[int], None] | None:
    """nmap reports up hosts only: the registered and known hosts are the best total there is."""
    if progress is None:
        return None
    return lambda n: progress("services", n, max(n, expected))


def _expected(store, group, guard: ScopeGuard) -> set[str]:
    """Hosts whose result matters even when nmap does not report them: the registered ones and
    those with open exposure findings, inside the scanned targets."""
    out: set[str] = set()
    for t in group:
        allowed = set(guard.addresses(t))
        out |= {h.ip for h in guard.agencies[t.agency].hosts} & allowed
        out |= {r["host"] for r in store.current(agency=t.agency, status=("open", "reopened"), check="exposure")
                if r["host"]} & allowed
    return out
