"""When scanning is allowed. Pure functions of the config and a time.

Several sensors: each instance of ``citysec run`` has a sensor id (``--sensor``, env
``CITYSEC_SENSOR`` or the config's ``sensor``); what it scans and collects is its share
(:func:`citysec.share.share_of`), and the gate below looks only at the agencies of that share.

Scan windows and blackouts: the ``services`` job runs only inside a scan window and outside every
blackout (:func:`scan_allowed`). Window times and naive blackout times are the sensor's local time.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from config.schema import City

from citysec.share import share_of

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
    for agency in share_of(city, sensor).agencies:
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
