"""Plain values the scanners work from, built by the composition root (config/) from the city config.

The scanners never import the config package: they take these frozen dataclasses.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime, time

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Net:
    cidr: str
    zone: str
    segment: str = "routed"                   # "local": ARP works from the sensor
    exclude: tuple[str, ...] = ()
    sensor: str | None = None

    @property
    def network(self) -> IPNet:
        return ipaddress.ip_network(self.cidr)

    @property
    def excluded(self) -> tuple[IPNet, ...]:
        return tuple(ipaddress.ip_network(e, strict=False) for e in self.exclude)


@dataclass(frozen=True)
class RegisteredHost:
    name: str
    ip: str
    mac: str | None = None


@dataclass(frozen=True)
class AgencyTargets:
    id: str
    name: str
    kind: str
    networks: tuple[Net, ...]
    hosts: tuple[RegisteredHost, ...] = ()
    stale_after_days: int = 14
    allow_intrusive: bool = False

    def zone_of(self, ip: str) -> str | None:
        addr = ipaddress.ip_address(ip)
        for n in self.networks:
            if addr in n.network:
                return n.zone
        return None

    def registered(self) -> dict[str, RegisteredHost]:
        return {h.ip: h for h in self.hosts}


@dataclass(frozen=True)
class Rule:
    """One entry of policies.services: who it applies to, what it allows and forbids."""
    index: int
    zones: frozenset[str] = frozenset()
    agencies: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    allow: frozenset[str] = frozenset()
    forbid: frozenset[str] = frozenset()
    reason: str | None = None

    def applies(self, agency: AgencyTargets, zone: str | None) -> bool:
        return ((not self.zones or zone in self.zones) and (not self.agencies or agency.id in self.agencies)
                and (not self.kinds or agency.kind in self.kinds))


@dataclass(frozen=True)
class Window:
    days: frozenset[str]
    start: time
    end: time
    agencies: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Blackout:
    start: datetime
    end: datetime
    agencies: frozenset[str] = frozenset()
    reason: str = ""


@dataclass(frozen=True)
class ScanPolicy:
    """What the city's policies say to the scanners."""
    rules: tuple[Rule, ...] = ()
    windows: tuple[Window, ...] = ()
    blackouts: tuple[Blackout, ...] = ()
    top_ports: int = 100
    host_timeout_seconds: int = 300
    version_intensity: int = 7
    discovery_rate_pps: int = 200
    sweep_rate_pps: int = 5000
    extra: dict = field(default_factory=dict)
