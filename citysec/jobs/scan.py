"""Jobs `discovery` and `services`: wire the city config, the sensor and the store to scanners/."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from functools import lru_cache
from typing import Any

import config
from findings.errors import RuntimeFailure
from findings.model import parse_ts, utcnow
from findings.store import Scope
from findings.support.netns import run_in_netns
from findings.support.yamlpos import load_one
from scanners import discovery as disc
from scanners import services as svc
from scanners import synsweep
from scanners.catalogue import ExposureCatalogue
from scanners.nmaprun import NmapPlan, is_root, nmap_path
from scanners.plan import blocked, parse_ports, port_sets, scripts_for, window_left
from scanners.scope import ScopeGuard
from scanners.targets import AgencyTargets, Blackout, Net, RegisteredHost, Rule, ScanPolicy, Window

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
                      p.discovery_rate_pps, p.sweep_rate_pps)


def _setup(app, agency: str | None, now: datetime, targets: tuple[str, ...] = ()):
    """The sensor, every agency's targets, the scope guard of this sensor's share (:mod:`citysec.share`)
    and the agencies to scan: the share's, or with explicit targets any agency (the guard then names
    the sensor that reaches a target of another sensor's network)."""
    share = app.share
    sensor = share.sensor
    agencies = {a.id: agency_targets(a) for a in app.city.agencies}
    guard = ScopeGuard(agencies.values(), share.sensor_id,
                       [sensor.address] if sensor and sensor.address else [])
    policy = scan_policy(app.city)
    ids = app.agency_ids(agency) if targets else share.agency_ids(agency)
    skipped = {aid: why for aid in ids if (why := blocked(policy, aid, now))}
    return sensor, agencies, guard, policy, [a for a in ids if a not in skipped], skipped


def discovery(app, run_id: str, *, agency: str | None = None, targets: tuple[str, ...] = (),
              progress: Progress | None = None, timeout: float = 1.0) -> dict[str, Any]:
    now = utcnow()
    sensor, agencies, guard, policy, ids, skipped = _setup(app, agency, now, targets)
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
    sensor, agencies, guard, policy, ids, skipped = _setup(app, agency, now, targets)
    chosen = guard.targets(ids, targets)              # ScopeError before any packet
    nmap_path()                                       # MissingTool (exit 3) before any packet
    cat, store = load_exposure(), app.store
    tcp, udp = port_sets(policy, cat, ports, seen=_seen_ports(store, chosen) if not ports else (set(), set()))
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
                      hosts=frozenset(result.complete_hosts), complete=not result.partial,
                      ports=swept_ports(tcp, udp if root else ()))
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


SWEEP_CHUNK = 64     # hosts swept together (port-major); each chunk is recorded when it is done


def portsweep(app, run_id: str, *, agency: str | None = None, targets: tuple[str, ...] = (),
              ports: str | None = None, progress: Progress | None = None,
              on_start: Callable | None = None, retries: int = 3) -> dict[str, Any]:
    """Every TCP port (or ``ports``) of every live host: a SYN sweep (scanners/synsweep.py), then
    nmap -sV and the safe scripts on the open ports only, judged like the service scan. TCP only
    (UDP is the daily scan's, unless ``ports`` names UDP ports): the run closes only TCP findings.
    While nmap looks at one chunk of hosts the next chunk is swept; chunks are recorded as they
    finish; a cut sweep closes nothing for the hosts it did not finish."""
    now = utcnow()
    sensor, agencies, guard, policy, ids, skipped = _setup(app, agency, now)
    chosen = guard.targets(ids, targets)              # ScopeError before any packet
    nmap_path()                                       # MissingTool (exit 3) before any packet
    cat, store = load_exposure(), app.store
    tcp, udp = parse_ports(ports) if ports else (list(range(1, 65536)), [])
    netns, sid = (sensor.netns, sensor.id) if sensor else (None, None)
    totals: dict[str, Any] = {"hosts": 0, "live": 0, "open_ports": 0, "probes": 0, "incomplete": {},
                              "notes": [], "skipped": skipped, "sweep_seconds": 0.0, "nmap_seconds": 0.0}
    if not is_root():
        raise RuntimeFailure("the full sweep sends raw SYN probes: run it as root (or with CAP_NET_RAW)")
    groups: dict[tuple[str, ...], list] = {}
    for t in chosen:
        groups.setdefault(scripts_for(agencies[t.agency].allow_intrusive), []).append(t)
    ctx = _Sweep(app, run_id, cat, agencies, policy, guard, netns, sid, totals, on_start, retries, udp)
    with ThreadPoolExecutor(max_workers=1) as pool:   # one nmap at a time, beside the next chunk's sweep
        for scripts, group in groups.items():
            local = [x for t in group if t.net.segment == "local" for x in guard.addresses(t)]
            routed = [x for t in group if t.net.segment != "local" for x in guard.addresses(t)]
            guard.check(local + routed)
            live = sorted(disc.sweep(local, routed, netns=netns, pps=policy.sweep_rate_pps, timeout=1.0).live,
                          key=lambda ip: tuple(int(x) for x in ip.split(".")) if "." in ip else (ip,))
            totals["live"] += len(live)
            for i in range(0, len(live), SWEEP_CHUNK):
                if progress:
                    progress("portsweep", i, len(live))
                ctx.chunk(pool, live[i:i + SWEEP_CHUNK], tcp, scripts)
        ctx.finish()
    if progress:
        progress("portsweep", totals["live"], totals["live"])
    totals["failed"] = len(store.current(status=("open", "reopened"), check="exposure"))
    totals["sweep_seconds"] = round(totals["sweep_seconds"], 2)
    totals["nmap_seconds"] = round(totals["nmap_seconds"], 2)
    return totals


class _Sweep:
    """The sweep's pipeline: sweep a chunk, hand its open ports to nmap in the background, record
    the previous chunk when its nmap is done. ``stop`` says why later chunks are not swept."""

    def __init__(self, app, run_id, cat, agencies, policy, guard, netns, sid, totals, on_start, retries, udp):
        self.app, self.store, self.run_id, self.cat, self.agencies = app, app.store, run_id, cat, agencies
        self.policy, self.guard, self.netns, self.sid, self.totals = policy, guard, netns, sid, totals
        self.on_start, self.retries, self.udp = on_start, retries, tuple(udp)
        self.stop: str | None = None
        self.ports: frozenset[tuple[int, str]] | None = None
        self.pending: tuple[Future, dict[str, str], list[str]] | None = None

    def chunk(self, pool: ThreadPoolExecutor, chunk: list[str], tcp, scripts) -> None:
        self.ports = self.ports or swept_ports(tcp, self.udp)
        owners = {ip: svc.owner_of(ip, self.agencies).id for ip in chunk}
        now = utcnow()
        self.stop = self.stop or next((f"{a}: {why}" for a in sorted(set(owners.values()))
                                       if (why := blocked(self.policy, a, now))), None)
        if self.stop:
            self.finish()
            _record_incomplete(self.store, self.cat, chunk, owners, self.stop, self.run_id, self.sid, self.totals)
            return
        lefts = [x for a in set(owners.values()) if (x := window_left(self.policy, a, now)) is not None]
        deadline = time.monotonic() + min(lefts) if lefts else None
        self.guard.check(chunk)                       # the last gate before the SYN probes
        res = run_in_netns(self.netns, synsweep.sweep, chunk, tcp, pps=self.policy.sweep_rate_pps,
                           retries=self.retries, deadline=deadline)
        self.totals["probes"] += res.sent
        self.totals["sweep_seconds"] += sum(p.seconds for p in res.passes)
        self.finish()                                 # the previous chunk's nmap, recorded
        if res.cut or self.stop:
            self.stop = self.stop or res.cut
            _record_incomplete(self.store, self.cat, chunk, owners, self.stop, self.run_id, self.sid, self.totals)
            return
        silent = {ip: n for ip, n in res.silent.items() if n}
        if silent:
            self.totals["notes"].append("never answered (filtered) after retries: "
                                        + ", ".join(f"{ip} {n} ports" for ip, n in sorted(silent.items())))
        found = sorted({p for ports in res.open.values() for p in ports})
        if not found and not self.udp:
            self._record_closed(chunk, owners)
            return
        hosts = tuple(ip for ip in chunk if res.open.get(ip)) if not self.udp else tuple(chunk)
        plan = NmapPlan(targets=hosts, tcp=tuple(found), udp=self.udp, scripts=scripts,
                        host_timeout_seconds=self.policy.host_timeout_seconds,
                        version_intensity=self.policy.version_intensity, privileged=True,
                        extra=("-Pn", "--min-hostgroup", str(len(hosts))))
        quiet = [ip for ip in chunk if ip not in hosts]
        self.pending = (pool.submit(self._nmap, plan, hosts), owners, quiet)

    def _nmap(self, plan: NmapPlan, hosts) -> svc.ServiceScan:
        t = time.monotonic()
        try:
            return svc.scan(plan, self.agencies, self.policy.rules, self.cat, expected=hosts, netns=self.netns,
                            sensor=self.sid, run_id=self.run_id, on_start=self.on_start)
        finally:
            self.totals["nmap_seconds"] += time.monotonic() - t

    def finish(self) -> None:
        """Wait for the chunk nmap is looking at and record it."""
        if self.pending is None:
            return
        fut, owners, quiet = self.pending
        self.pending = None
        result = fut.result()
        if quiet:                                     # no open TCP port: nothing for nmap to look at
            self._record_closed(quiet, owners)
        scope = Scope(checks=frozenset({"exposure."}), agencies=frozenset(owners.values()),
                      hosts=frozenset(result.complete_hosts), complete=not result.partial,
                      ports=self.ports)
        totals = self.totals
        _add(totals, self.store.record(result.findings, run_id=self.run_id, scope=scope).as_dict())
        totals["hosts"] += len(result.complete_hosts)
        totals["open_ports"] += result.open_ports
        totals["incomplete"].update(result.incomplete_hosts)
        totals["notes"] += result.notes + ([f"partial: {result.why}"] if result.partial else [])
        if result.partial:
            self.stop = self.stop or f"nmap did not finish: {result.why}"

    def _record_closed(self, hosts: list[str], owners: dict[str, str]) -> None:
        """Hosts swept completely with no open TCP port: every TCP finding of theirs is closed."""
        check = self.cat.check("exposure.scan")
        findings = [check.finding(agency=owners[ip], verdict="pass", host_ip=ip, sensor=self.sid, run_id=self.run_id,
                                  message=f"{ip}: full sweep complete (0 open ports)", details={"open_ports": 0})
                    for ip in hosts]
        rec = self.store.record(findings, run_id=self.run_id, scope=Scope(
            checks=frozenset({"exposure."}), agencies=frozenset(owners[ip] for ip in hosts), hosts=frozenset(hosts),
            complete=True, ports=self.ports))
        _add(self.totals, rec.as_dict())
        self.totals["hosts"] += len(hosts)


def swept_ports(tcp, udp) -> frozenset[tuple[int, str]]:
    """The (port, transport) pairs a run looked at: it closes findings on those only."""
    return frozenset((p, "tcp") for p in tcp) | frozenset((p, "udp") for p in udp)


def _record_incomplete(store, cat, hosts, owners, why, run_id, sid, totals) -> None:
    check = cat.check("exposure.scan")
    findings = [check.finding(agency=owners[ip], verdict="incomplete", host_ip=ip, sensor=sid, run_id=run_id,
                              message=f"{ip}: full sweep incomplete", reason=why) for ip in hosts]
    rec = store.record(findings, run_id=run_id, scope=Scope(
        checks=frozenset({"exposure."}), agencies=frozenset(owners.values()), hosts=frozenset(), complete=False))
    _add(totals, rec.as_dict())
    totals["incomplete"].update({ip: why for ip in hosts})


def _add(totals: dict[str, Any], counts: dict[str, Any]) -> None:
    for k, v in counts.items():
        totals[k] = totals.get(k, 0) + v


def _seen_ports(store, chosen) -> tuple[set[int], set[int]]:
    """Every port ever found open (any exposure finding, open or closed) on the targets' hosts."""
    tcp: set[int] = set()
    udp: set[int] = set()
    for aid in sorted({t.agency for t in chosen}):
        for r in store.current(agency=aid, check="exposure"):
            if r.get("port") and r.get("host") and any(
                    ipaddress.ip_address(r["host"]) in t.network for t in chosen if t.agency == aid):
                (udp if r.get("transport") == "udp" else tcp).add(int(r["port"]))
    return tcp, udp


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
