"""Host discovery with scapy: ARP on local segments, ICMP echo + TCP SYN/ACK probes on routed ones.

Gathering (:func:`sweep`: probe templates from scapy, sent and received by :mod:`rawprobe` from the
sensor's namespace, silent addresses asked again) is apart from judging
(:func:`judge`, pure): live hosts and the register → assets, rogue devices, stale hosts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from findings.checks import Check
from findings.errors import RuntimeFailure
from findings.model import Finding
from findings.support.netns import run_in_netns

from . import rawprobe
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
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)   # "no route for 0.0.0.0" of templates
    return scapy


def _vendor(scapy, mac: str | None) -> str | None:
    if not mac:
        return None
    try:
        name = scapy.conf.manufdb.lookup(mac)[1]   # (short, long); (mac, mac) when unknown
    except (AttributeError, KeyError):
        return None
    return None if not name or name == mac else str(name)


def _templates(scapy) -> dict[str, bytes]:
    """Probe templates built once by scapy; rawprobe patches addresses and checksums."""
    return {
        "icmp": bytes(scapy.IP(src="0.0.0.0", dst="0.0.0.0") / scapy.ICMP(id=rawprobe.ICMP_ID, seq=1)),
        "tcp": bytes(scapy.IP(src="0.0.0.0", dst="0.0.0.0") / scapy.TCP(window=1024)),
        "arp": bytes(scapy.Ether(dst="ff:ff:ff:ff:ff:ff") / scapy.ARP(op=1, pdst="0.0.0.0")),
    }


def _sweep_here(local: list[str], routed: list[str], pps: int, timeout: float, retries: int) -> SweepResult:
    scapy = _scapy()
    res = SweepResult(probed=len(local) + len(routed))
    tpl = _templates(scapy)
    if local:
        with _SCAPY_LOCK:
            scapy.conf.route.resync()       # this thread's namespace, not the process's
            iface = scapy.conf.route.route(local[0])[0]
            scapy.conf.route.resync()
    for _ in range(retries + 1):  # one pass over a /24 misses replies: retry the silent addresses
        if local:
            for ip, mac in rawprobe.arp_sweep(local, iface, pps, timeout, tpl["arp"]).items():
                res.live[ip] = Live(ip, mac, _vendor(scapy, mac), "arp")
            res.packets += len(local)
        if routed:
            for ip, method in rawprobe.ip_sweep(routed, pps, timeout, SYN_PORTS, ACK_PORT, tpl).items():
                res.live[ip] = Live(ip, method=method)
            res.packets += len(routed) * (2 + len(SYN_PORTS))
        local = [a for a in local if a not in res.live]
        routed = [a for a in routed if a not in res.live]
        if not local and not routed:
            break
    return res


def sweep(local: Iterable[str], routed: Iterable[str], *, netns: str | None, pps: int,
          timeout: float = 1.0, retries: int = 1) -> SweepResult:
    """Probe addresses (already checked by the scope guard) from the sensor's namespace."""
    local, routed = list(local), list(routed)
    if not local and not routed:
        return SweepResult()
    try:
        return run_in_netns(netns, _sweep_here, local, routed, pps, timeout, retries)
    except PermissionError as exc:
        raise RuntimeFailure(f"discovery sends raw packets: run as root or with CAP_NET_RAW ({exc})") from exc


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

