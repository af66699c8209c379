"""What one sensor covers, and when scanning is allowed. Pure functions of the config and a time.

Several sensors: each instance of ``citysec run`` has a sensor id (``--sensor``, env
``CITYSEC_SENSOR`` or the config's ``sensor``) and scans and collects only the networks whose
``sensor`` is its id. Job code asks :func:`networks_for_sensor` / :func:`hosts_for_sensor`.

Scan windows and blackouts: the ``services`` job runs only inside a scan window and outside every
blackout (:func:`scan_allowed`). Window times and naive blackout times are the sensor's local time.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from findings.errors import UsageError, unknown

from config.schema import Agency, City, KnownHost, Network

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SensorNetwork:
    agency: Agency
    network: Network


def check_sensor(city: City, sensor: str | None) -> str | None:
    """The sensor id to use, validated. None only when the city has a single sensor (it is that one)."""
    ids = [s.id for s in city.sensors]
    if sensor is None:
        if len(ids) > 1:
            raise UsageError(f"this config has {len(ids)} sensors ({', '.join(ids)}): say which one this "
                             "instance is with --sensor, CITYSEC_SENSOR or the config's `sensor`")
        return ids[0] if ids else None
    if sensor not in ids:
        raise unknown("sensor", sensor, ids)
    return sensor


def networks_for_sensor(city: City, sensor: str | None) -> list[SensorNetwork]:
    """The (agency, network) pairs this sensor scans and collects: those whose ``sensor`` is its id."""
    sid = check_sensor(city, sensor)
    return [SensorNetwork(a, n) for a in city.agencies for n in a.networks if n.sensor == sid]


def agencies_for_sensor(city: City, sensor: str | None) -> list[str]:
    """Ids of the agencies with at least one network on this sensor, in config order."""
    seen: dict[str, None] = {}
    for sn in networks_for_sensor(city, sensor):
        seen.setdefault(sn.agency.id)
    return list(seen)


def hosts_for_sensor(city: City, sensor: str | None) -> list[tuple[Agency, KnownHost]]:
    """Registered hosts inside this sensor's networks (what its collectors reach)."""
    out = []
    nets = networks_for_sensor(city, sensor)
    for a in city.agencies:
        mine = [sn.network.network for sn in nets if sn.agency.id == a.id]
        out += [(a, h) for h in a.hosts if any(ipaddress.ip_address(h.ip) in n for n in mine)]
    return out


def _in_window(days: list[str], start: time, end: time, local: datetime) -> bool:
    t, day = local.time(), DAYS[local.weekday()]
    if start <= end:
        return day in days and start <= t <= end
    # crosses midnight: 22:00–06:00 on "mon" is Monday 22:00 to Tuesday 06:00
    yesterday = DAYS[(local.weekday() - 1) % 7]
    return (day in days and t >= start) or (yesterday in days and t <= end)


def _aware(ts: datetime, tz: tzinfo) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=tz)


def scan_allowed(city: City, agency: str, now: datetime, tz: tzinfo) -> tuple[bool, str]:
    """May ``agency`` be scanned at ``now``? (allowed, reason)."""
    pol = city.policies
    for b in pol.blackouts:
        if (not b.agencies or agency in b.agencies) and _aware(b.start, tz) <= now < _aware(b.end, tz):
            return False, f"blackout until {_aware(b.end, tz).isoformat()}" + (f" ({b.reason})" if b.reason else "")
    windows = [w for w in pol.scan_windows if not w.agencies or agency in w.agencies]
    if pol.scan_windows and not windows:
        return False, "no scan window applies to this agency"
    local = now.astimezone(tz)
    if windows and not any(_in_window(w.days, w.start, w.end, local) for w in windows):
        return False, "outside the scan windows"
    return True, "inside a scan window"


def scan_gate(city: City, sensor: str | None, now: datetime, tz: tzinfo) -> tuple[bool, str]:
    """The scheduler's gate for the services job: open when at least one agency of this sensor may
    be scanned now. (The scan itself should still skip the agencies :func:`scan_allowed` refuses.)"""
    reasons = []
    for agency in agencies_for_sensor(city, sensor):
        ok, why = scan_allowed(city, agency, now, tz)
        if ok:
            return True, why
        reasons.append(why)
    return False, reasons[0] if len(set(reasons)) == 1 else "no agency of this sensor may be scanned now"


def next_window_hint(city: City, sensor: str | None, now: datetime, tz: tzinfo,
                     step: timedelta = timedelta(minutes=15), horizon: timedelta = timedelta(days=8)) -> datetime | None:
    """The first quarter hour within a week when the gate opens (for `citysec status`)."""
    t = now
    while t < now + horizon:
        if scan_gate(city, sensor, t, tz)[0]:
            return t
        t += step
    return None
