"""The scope guard: every target inside a configured agency network reached by this sensor and
outside every exclusion, checked before a packet is sent. Anything else is a ScopeError (exit 2).

The sensor's own addresses are left out of the targets (nmap fails with a pcap error when it
scans its own interface address, and there is nothing to learn there).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from findings.errors import ScopeError

from .targets import AgencyTargets, IPAddr, IPNet, Net

MAX_EXPAND = 1 << 16   # a sweep larger than a /16 is a configuration mistake


@dataclass(frozen=True)
class Target:
    """One network (or part of it) of one agency, to sweep or scan."""
    agency: str
    net: Net
    network: IPNet                            # the whole network or the requested part of it


class ScopeGuard:
    def __init__(self, agencies: Iterable[AgencyTargets], sensor: str | None,
                 sensor_addresses: Iterable[str] = ()):
        self.agencies = {a.id: a for a in agencies}
        self.sensor = sensor
        self.own = frozenset(ipaddress.ip_address(a) for a in sensor_addresses if a)

    def _reached(self, net: Net) -> bool:
        return self.sensor is None or net.sensor in (None, self.sensor)

    def owner(self, addr: IPAddr | IPNet) -> tuple[AgencyTargets, Net] | None:
        for a in self.agencies.values():
            for n in a.networks:
                inside = addr in n.network if not isinstance(addr, (ipaddress.IPv4Network, ipaddress.IPv6Network)) \
                    else addr.version == n.network.version and addr.subnet_of(n.network)
                if inside:
                    return a, n
        return None

    def targets(self, agency_ids: Iterable[str], requested: Iterable[str] = ()) -> list[Target]:
        """The targets of these agencies: their networks this sensor reaches, or the ``requested``
        addresses/CIDRs after checking each one. Raises ScopeError naming the first bad target."""
        ids = list(agency_ids)
        requested = list(requested)
        if not requested:
            return [Target(aid, n, n.network) for aid in ids for n in self.agencies[aid].networks
                    if self._reached(n)]
        out = []
        for text in requested:
            try:
                want = ipaddress.ip_network(text, strict=False)
            except ValueError:
                raise ScopeError(f"target {text!r} is not an address or a CIDR") from None
            found = self.owner(want)
            if found is None:
                raise ScopeError(f"target {text} is outside every configured agency network: refused")
            agency, net = found
            if agency.id not in ids:
                raise ScopeError(f"target {text} belongs to agency {agency.id!r}, not to the agencies "
                                 f"asked for ({', '.join(ids)})")
            if not self._reached(net):
                raise ScopeError(f"target {text} is in {net.cidr}, reached by sensor {net.sensor!r}, "
                                 f"not by this sensor {self.sensor!r}")
            for ex in net.excluded:
                if want.overlaps(ex) and want.num_addresses <= ex.num_addresses:
                    raise ScopeError(f"target {text} is excluded ({ex} in the exclusions of {net.cidr}): refused")
            out.append(Target(agency.id, net, want))
        return out

    def addresses(self, target: Target) -> list[str]:
        """The addresses of a target minus exclusions and the sensor's own addresses."""
        net = target.network
        if net.num_addresses > MAX_EXPAND:
            raise ScopeError(f"{net} has {net.num_addresses} addresses: more than {MAX_EXPAND} to sweep")
        hosts = [net.network_address] if net.num_addresses == 1 else list(net.hosts())
        excluded = target.net.excluded
        return [str(h) for h in hosts if h not in self.own and not any(h in ex for ex in excluded)]

    def left_out(self, target: Target) -> list[str]:
        """What nmap must be told to --exclude for a target: the exclusions and the sensor's addresses."""
        out = [str(ex) for ex in target.net.excluded if ex.overlaps(target.network)]
        return out + [str(a) for a in sorted(self.own) if a in target.network]

    def check(self, addresses: Iterable[str]) -> None:
        """The last gate before packets: every address owned by an agency network this sensor
        reaches, outside every exclusion, not the sensor itself."""
        for text in addresses:
            addr = ipaddress.ip_address(text)
            found = self.owner(addr)
            if found is None or not self._reached(found[1]):
                raise ScopeError(f"{text} is outside the networks this sensor may scan: refused")
            if any(addr in ex for ex in found[1].excluded) or addr in self.own:
                raise ScopeError(f"{text} is excluded from scanning: refused")
