"""A sensor's share: the agencies, networks and hosts one sensor owns. The one place that decides it.

Each network names the sensor that reaches it (``networks[].sensor``); a registered host belongs to
the network its address is in (validation puts every host in exactly one network of its agency).
So a sensor owns its networks, the hosts inside them, and the agencies with at least one of them.
An agency may be split between sensors: each sensor then owns only its part.

Every consumer asks :func:`share_of` — the scans and their scope guard, the collectors, the
syslog receiver's defaults, the reports of one sensor's store and the scheduler's gate. A pure
function of the city config and a sensor id; :attr:`citysec.app.App.share` caches it per command.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from config.schema import Agency, City, KnownHost, Network, Sensor
from findings.errors import UsageError, unknown


@dataclass(frozen=True)
class SensorNetwork:
    agency: Agency
    network: Network


@dataclass(frozen=True)
class Share:
    """What one sensor owns, in config order."""
    sensor: Sensor | None                      # None only in a config without sensors
    networks: tuple[SensorNetwork, ...]
    hosts: tuple[tuple[Agency, KnownHost], ...]

    @property
    def sensor_id(self) -> str | None:
        return self.sensor.id if self.sensor else None

    @property
    def netns(self) -> str | None:
        return self.sensor.netns if self.sensor else None

    @property
    def agencies(self) -> tuple[str, ...]:
        """Ids of the agencies with at least one network on this sensor."""
        return tuple(dict.fromkeys(sn.agency.id for sn in self.networks))

    def agency_ids(self, agency: str | None) -> list[str]:
        """This sensor's agencies, or just ``agency`` when it is one of them (else a UsageError)."""
        if agency is None:
            return list(self.agencies)
        if agency not in self.agencies:
            raise UsageError(f"agency {agency!r} has no network on sensor {self.sensor_id!r}; "
                             f"its agencies: {', '.join(self.agencies) or 'none'}")
        return [agency]

    def whole(self, agency: str) -> bool:
        """Does this sensor own every network of ``agency`` (not split with another sensor)?"""
        nets = [sn for sn in self.networks if sn.agency.id == agency]
        return bool(nets) and all(n.sensor == self.sensor_id for n in nets[0].agency.networks)

    def hosts_of(self, agency: str) -> list[KnownHost]:
        """The registered hosts of ``agency`` inside this sensor's networks."""
        return [h for a, h in self.hosts if a.id == agency]

    def owns(self, address: str) -> bool:
        """Is ``address`` inside one of this sensor's networks?"""
        ip = ipaddress.ip_address(address)
        return any(ip in sn.network.network for sn in self.networks)

    def cidrs(self) -> frozenset[str]:
        return frozenset(sn.network.cidr for sn in self.networks)


def resolve_sensor(city: City, sensor: str | None) -> str | None:
    """The sensor id to use, validated. None is allowed only when the city has at most one sensor
    (then it is that one). An unknown id is a UsageError naming the known ones (and a near miss)."""
    ids = [s.id for s in city.sensors]
    if sensor is None:
        if len(ids) > 1:
            raise UsageError(f"this config has {len(ids)} sensors ({', '.join(ids)}): say which one this "
                             "instance is with --sensor, CITYSEC_SENSOR or the config's `sensor`")
        return ids[0] if ids else None
    if sensor not in ids:
        raise unknown("sensor", sensor, ids)
    return sensor


def share_of(city: City, sensor: str | None) -> Share:
    """The share of ``sensor`` (see :func:`resolve_sensor` for None)."""
    sid = resolve_sensor(city, sensor)
    obj = next((s for s in city.sensors if s.id == sid), None)
    nets = tuple(SensorNetwork(a, n) for a in city.agencies for n in a.networks if n.sensor == sid)
    hosts = []
    for a in city.agencies:
        mine = [sn.network.network for sn in nets if sn.agency.id == a.id]
        hosts += [(a, h) for h in a.hosts if any(ipaddress.ip_address(h.ip) in n for n in mine)]
    return Share(obj, nets, tuple(hosts))
