"""The regulatory profile's report calendar: due dates, drafts ahead of them, reminders.

The profile (``config/profiles/<profile>.yaml``, chosen by the config's ``profile``) lists the
periodic reports and their due dates. This module reads the part the scheduler needs::

    reports:
      - id: form05-network-member          # or a mapping: {form05-network-member: {...}}
        due: ["06-20", "12-15"]            # month-day (also "20/06"); one value or a list
        draft_days_before: 14              # optional (default 14)

From it the scheduler makes the ``reports`` job due once on each draft date (``draft_days_before``
ahead of a due date), and ``citysec status`` shows a reminder from the draft date until the due
date. No profile file, or none with ``reports``, means no calendar (and no reminders).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from importlib import resources
from typing import Any

from findings.errors import ConfigError

from .yamlpos import load_one

DEFAULT_DRAFT_DAYS = 14
_MD = re.compile(r"(?P<m>\d{1,2})-(?P<d>\d{1,2})")
_DM = re.compile(r"(?P<d>\d{1,2})/(?P<m>\d{1,2})")


@dataclass(frozen=True)
class Deadline:
    report: str
    due: date
    draft_from: date

    def as_dict(self) -> dict[str, str]:
        return {"report": self.report, "due": self.due.isoformat(), "draft_from": self.draft_from.isoformat()}


@dataclass(frozen=True)
class CalendarEntry:
    report: str
    dates: tuple[tuple[int, int], ...]      # (month, day)
    draft_days: int


def profile_path(profile: str) -> str:
    return str(resources.files("config").joinpath("profiles", f"{profile}.yaml"))


def load_calendar(path: str) -> list[CalendarEntry]:
    """The report calendar of a profile file; [] when the file or its ``reports`` is absent."""
    if not os.path.exists(path):
        return []
    data, _ = load_one(path)
    reports = data.get("reports") if isinstance(data, dict) else None
    if reports is None:
        return []
    items = reports.items() if isinstance(reports, dict) else ((None, r) for r in reports)
    out = []
    for key, item in items:
        if not isinstance(item, dict) or "due" not in item:
            continue  # a report without a calendar date (e.g. per drill): nothing to schedule
        rid = str(key or item.get("id") or item.get("name") or "report")
        dues = item["due"] if isinstance(item["due"], list) else [item["due"]]
        lead = item.get("draft_days_before", item.get("draft_days", DEFAULT_DRAFT_DAYS))
        if not isinstance(lead, int) or lead < 0:
            raise ConfigError(f"{path}: reports {rid}: draft_days_before must be a whole number ≥ 0")
        out.append(CalendarEntry(rid, tuple(_month_day(path, rid, d) for d in dues), lead))
    return out


def _month_day(path: str, rid: str, value: Any) -> tuple[int, int]:
    if isinstance(value, date):
        return value.month, value.day
    text = str(value).strip()
    m = _MD.fullmatch(text) or _DM.fullmatch(text)
    if m:
        month, day = int(m["m"]), int(m["d"])
        try:
            date(2024, month, day)  # a leap year: 02-29 is a valid calendar date
            return month, day
        except ValueError:
            pass
    raise ConfigError(f"{path}: reports {rid}: due {value!r} is not a month-day like '12-15' or '15/12'")


def deadlines(calendar: list[CalendarEntry], today: date, horizon_days: int = 366) -> list[Deadline]:
    """Due dates from ``today`` (inclusive) up to the horizon, with their draft dates, soonest first."""
    out = []
    for entry in calendar:
        for year in (today.year - 1, today.year, today.year + 1):
            for month, day in entry.dates:
                try:
                    due = date(year, month, day)
                except ValueError:
                    continue  # 29 February in a common year
                dl = Deadline(entry.report, due, due - timedelta(days=entry.draft_days))
                if today - timedelta(days=entry.draft_days) <= due <= today + timedelta(days=horizon_days):
                    out.append(dl)
    return sorted(set(out), key=lambda d: (d.due, d.report))


def draft_triggers(calendar: list[CalendarEntry], now: datetime, tz: tzinfo) -> tuple[datetime, ...]:
    """Local midnights of the draft dates near ``now``: each makes the reports job due once."""
    today = now.astimezone(tz).date()
    return tuple(datetime.combine(d.draft_from, time(0), tzinfo=tz)
                 for d in deadlines(calendar, today - timedelta(days=31), horizon_days=400))


def reminders(calendar: list[CalendarEntry], today: date) -> list[dict[str, str]]:
    """Reports whose draft period is open: from the draft date to the due date."""
    return [d.as_dict() | {"days_left": str((d.due - today).days)}
            for d in deadlines(calendar, today) if d.draft_from <= today <= d.due]
