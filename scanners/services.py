"""The service scan: nmap from the sensor, then every open (host, port) judged by the policies.

A host nmap did not finish (killed, truncated XML, ``--host-timeout``, an error instead of XML)
gets an ``exposure.scan`` finding with verdict ``incomplete`` and its findings stay as they were;
a host it finished gets ``exposure.scan`` pass. A partial run is recorded with an incomplete
scope, so it closes nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from findings.model import Finding
from findings.support.netns import connect_in_netns

from .catalogue import ExposureCatalogue
from .nmaprun import NmapPlan, NmapRun, run_nmap
from .policy import PortObservation, exposure_finding, judge
from .targets import AgencyTargets, Rule


@dataclass
class ServiceScan:
    findings: list[Finding] = field(default_factory=list)
    complete_hosts: set[str] = field(default_factory=set)
    incomplete_hosts: dict[str, str] = field(default_factory=dict)   # ip → why
    partial: bool = False
    why: str | None = None
    scan_type: str = "syn"
    notes: list[str] = field(default_factory=list)
    open_ports: int = 0


def http_paths(netns: str | None, ip: str, port: int, paths: Iterable[str], timeout: float = 3.0) -> tuple[str, ...]:
    """Paths that answer 200, 401 or 403 to a plain GET (an admin page over clear-text http)."""
    found = []
    for path in paths:
        try:
            with connect_in_netns(netns, ip, port, timeout) as s:
                s.settimeout(timeout)
                s.sendall(f"GET {path} HTTP/1.0\r\nHost: {ip}\r\nUser-Agent: citysec\r\n\r\n".encode())
                head = s.recv(64).decode("latin-1", "replace")
        except OSError:
            continue   # a path that does not answer is not evidence; the port itself was judged
        parts = head.split()
        if len(parts) > 1 and parts[0].startswith("HTTP/") and parts[1] in ("200", "401", "403"):
            found.append(path)
    return tuple(found)


def owner_of(ip: str, agencies: dict[str, AgencyTargets]) -> AgencyTargets | None:
    addr = ipaddress.ip_address(ip)
    for a in agencies.values():
        if any(addr in n.network for n in a.networks):
            return a
    return None


def _enrich(obs: PortObservation, cat: ExposureCatalogue, netns: str | None) -> PortObservation:
    """Ask the admin paths of a clear-text web port (gathering, before judging)."""
    http = cat.entries.get("http")
    usual = http.match.ports if http else frozenset()
    web = obs.transport == "tcp" and obs.tunnel != "ssl" and (
        (obs.service or "").startswith("http") or (obs.port, "tcp") in usual)
    paths = sorted({p for e in cat.entries.values() for p in e.match.http_paths})
    if not web or not paths:
        return obs
    return replace(obs, admin_paths=http_paths(netns, obs.host, obs.port, paths))


def judge_run(run: NmapRun, agencies: dict[str, AgencyTargets], rules: tuple[Rule, ...], cat: ExposureCatalogue,
              *, expected: Iterable[str], netns: str | None, sensor: str | None, run_id: str | None,
              enrich: bool = True) -> ServiceScan:
    """Turn one nmap run into findings. ``expected`` are the hosts whose result matters even if
    nmap did not report them (registered hosts, hosts with open findings)."""
    out = ServiceScan(partial=run.partial, why=run.why_partial,
                      scan_type=run.result.scan_types.get("tcp", "syn"))
    scan_check = cat.check("exposure.scan")
    for ip, host in sorted(run.result.hosts.items()):
        agency = owner_of(ip, agencies)
        if agency is None or host.state != "up":
            continue
        if host.timed_out:
            out.incomplete_hosts[ip] = "nmap --host-timeout expired: its partial results are dropped"
            continue
        out.complete_hosts.add(ip)
        reg = agency.registered().get(ip)
        for obs in host.ports:
            obs = _enrich(obs, cat, netns) if enrich else obs
            if reg is not None and obs.hostname is None:   # the register names the host
                obs = replace(obs, hostname=reg.name)
            out.open_ports += 1
            out.findings.append(exposure_finding(obs, agency, judge(obs, agency, rules, cat), cat,
                                                 sensor=sensor, run_id=run_id))
        out.findings.append(scan_check.finding(
            agency=agency.id, verdict="pass", host_ip=ip, host_name=reg.name if reg else None,
            host_mac=host.mac, sensor=sensor, run_id=run_id,
            message=f"{ip}: service scan complete ({len(host.ports)} open ports)",
            details={"open_ports": len(host.ports), "unsure_udp": [f"{p}/{t}" for p, t in host.unsure]}))
    if run.partial:
        for ip in sorted(set(expected) - out.complete_hosts):
            out.incomplete_hosts.setdefault(ip, run.why_partial or "nmap did not finish")
    for ip, why in sorted(out.incomplete_hosts.items()):
        agency = owner_of(ip, agencies)
        if agency is not None:
            out.findings.append(scan_check.finding(
                agency=agency.id, verdict="incomplete", host_ip=ip, sensor=sensor, run_id=run_id,
                message=f"{ip}: service scan incomplete", reason=why))
    return out


def scan(plan: NmapPlan, agencies: dict[str, AgencyTargets], rules: tuple[Rule, ...], cat: ExposureCatalogue,
         *, expected: Iterable[str] = (), netns: str | None = None, sensor: str | None = None,
         run_id: str | None = None, on_host: Callable[[int], None] | None = None,
         on_start: Callable | None = None) -> ServiceScan:
    run = run_nmap(plan, netns=netns, on_host=on_host, on_start=on_start)
    result = judge_run(run, agencies, rules, cat, expected=expected, netns=netns, sensor=sensor, run_id=run_id)
    if not plan.privileged:
        result.notes.append("not root: TCP connect scan (-sT), no UDP ports scanned")
    return result


__all__ = ["ServiceScan", "http_paths", "judge_run", "scan"]
