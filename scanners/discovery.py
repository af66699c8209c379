"""Host discovery with scapy: ARP on local segments, ICMP echo + TCP SYN/ACK probes on routed ones.

Gathering (:func:`sweep`, raw packets from the sensor's namespace) is apart from judging
(:func:`judge`, pure): live hosts and the register → assets, rogue devices, stale hosts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable

from findings.checks import Check
from findings.errors import RuntimeFailure
from findings.model import Finding
from findings.netns import run_in_netns

from .targets import AgencyTargets

SYN_PORTS = (443, 22)        # SYN probes: a listening port answers SYN-ACK, a closed one RST
ACK_PORT = 80                # ACK probe: any live host answers RST
_SCAPY_LOCK = threading.Lock()   # scapy's routing table is process-wide


@dataclass(frozen=True)
class Live:
    ip: str
    mac: str | None = None
    vendor: str | None = None
    method: str = "icmp"        # arp, icmp, tcp


@dataclass
class SweepResult:
    live: dict[str, Live] = field(default_factory=dict)
    probed: int = 0
    packets: int = 0


def _scapy():
    try:
        from scapy import all as scapy  # heavy import: only when sweeping
    except ImportError as exc:
        raise RuntimeFailure(f"scapy cannot be imported: {exc}") from exc
    scapy.conf.verb = 0
    return scapy


def _vendor(scapy, mac: str | None) -> str | None:
    if not mac:
        return None
    try:
        name = scapy.conf.manufdb._get_manuf(mac)
    except (AttributeError, KeyError):
        return None
    return None if not name or name == mac else str(name)


def _arp(scapy, addrs: list[str], pps: int, timeout: float, res: SweepResult) -> list[str]:
    iface = scapy.conf.route.route(addrs[0])[0]
    pkts = [scapy.Ether(dst="ff:ff:ff:ff:ff:ff") / scapy.ARP(pdst=a) for a in addrs]
    ans, _ = scapy.srp(pkts, iface=iface, timeout=timeout, inter=1.0 / pps, verbose=0)
    res.packets += len(pkts)
    for _, r in ans:
        ip, mac = r[scapy.ARP].psrc, r[scapy.ARP].hwsrc
        if ip in addrs:
            res.live[ip] = Live(ip, mac, _vendor(scapy, mac), "arp")
    return [a for a in addrs if a not in res.live]


def _ip(scapy, addrs: list[str], pps: int, timeout: float, res: SweepResult) -> list[str]:
    pkts = []
    for a in addrs:
        pkts.append(scapy.IP(dst=a) / scapy.ICMP(id=0x4353, seq=1))
        pkts += [scapy.IP(dst=a) / scapy.TCP(sport=53535, dport=p, flags="S") for p in SYN_PORTS]
        pkts.append(scapy.IP(dst=a) / scapy.TCP(sport=53536, dport=ACK_PORT, flags="A", ack=1))
    ans, _ = scapy.sr(pkts, timeout=timeout, inter=1.0 / pps, verbose=0, multi=False)
    res.packets += len(pkts)
    for sent, r in ans:
        ip = r[scapy.IP].src
        if ip in addrs and (r.haslayer(scapy.TCP) or (r.haslayer(scapy.ICMP) and r[scapy.ICMP].type == 0)):
            method = "tcp" if r.haslayer(scapy.TCP) else "icmp"
            res.live.setdefault(ip, Live(ip, method=method))
    return [a for a in addrs if a not in res.live]


def _sweep_here(local: list[str], routed: list[str], pps: int, timeout: float, retries: int) -> SweepResult:
    scapy = _scapy()
    res = SweepResult(probed=len(local) + len(routed))
    with _SCAPY_LOCK:
        scapy.conf.route.resync()       # this thread's namespace, not the process's
        try:
            for _ in range(retries + 1):  # one srp() over a /24 misses replies: retry the silent
                if local:
                    local = _arp(scapy, local, pps, timeout, res)
                if routed:
                    routed = _ip(scapy, routed, pps, timeout, res)
                if not local and not routed:
                    break
        finally:
            scapy.conf.route.resync()
    return res


def sweep(local: Iterable[str], routed: Iterable[str], *, netns: str | None, pps: int,
          timeout: float = 1.0, retries: int = 1) -> SweepResult:
    """Probe addresses (already checked by the scope guard) from the sensor's namespace."""
    local, routed = list(local), list(routed)
    if not local and not routed:
        return SweepResult()
    return run_in_netns(netns, _sweep_here, local, routed, pps, timeout, retries)


def judge(agency: AgencyTargets, live: dict[str, Live], *, now: datetime,
          last_seen: dict[str, datetime], since: datetime | None, checks: Callable[[str], Check],
          sensor: str | None = None) -> list[Finding]:
    """Assets for every live host; rogue (live, not registered); stale (registered, unseen for
    longer than ``stale_after_days``, counted from the last sighting, or from ``since``, the
    first discovery of this agency, when never seen)."""
    registered = agency.registered()
    rogue, stale = checks("discovery.rogue"), checks("discovery.stale")
    out: list[Finding] = []
    for ip, h in sorted(live.items()):
        reg = registered.get(ip)
        out.append(Finding(check="discovery.asset", agency=agency.id, kind="asset", agency_name=agency.name,
                           message=f"{ip} is up ({h.method})", host_ip=ip, host_mac=h.mac,
                           host_name=reg.name if reg else None, dataset="citysec.discovery", sensor=sensor,
                           category=("host",), type=("info",), timestamp=now,
                           details={"method": h.method, "vendor": h.vendor, "registered": reg is not None}))
        verdict = "pass" if reg else "fail"
        msg = (f"{ip} is registered as {reg.name}" if reg else
               f"rogue device: {ip} is up on {agency.id}'s network but not in its register")
        out.append(rogue.finding(agency=agency.id, agency_name=agency.name, verdict=verdict, message=msg,
                                 host_ip=ip, host_mac=h.mac, sensor=sensor, timestamp=now,
                                 reason="live host not in the register" if not reg else "in the register",
                                 details={"method": h.method, "vendor": h.vendor}))
    limit = timedelta(days=agency.stale_after_days)
    for ip, reg in sorted(registered.items()):
        if ip in live:
            out.append(stale.finding(agency=agency.id, verdict="pass", host_ip=ip, host_name=reg.name,
                                     message=f"{reg.name} ({ip}) is up", timestamp=now, sensor=sensor))
            continue
        seen = last_seen.get(ip) or since
        if seen is None or now - seen <= limit:
            continue        # not seen now, but not for long enough to say
        when = f"last seen {seen:%Y-%m-%d}" if ip in last_seen else f"never seen since {seen:%Y-%m-%d}"
        out.append(stale.finding(agency=agency.id, agency_name=agency.name, verdict="fail", host_ip=ip,
                                 host_name=reg.name, timestamp=now, sensor=sensor,
                                 message=f"{reg.name} ({ip}) not seen for more than "
                                         f"{agency.stale_after_days} days ({when})",
                                 reason=f"stale_after_days={agency.stale_after_days}; {when}"))
    return out

