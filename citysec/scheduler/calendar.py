"""The regulatory profile's report calendar: due dates, drafts ahead of them, reminders.

The profile (``config/profiles/<profile>.yaml``, chosen by the config's ``profile``, read and
validated by :func:`config.profiles.load_profile`) lists the periodic reports::

    reports:
      - id: form05-network-member
        due: ["06-20", "12-15"]            # month-day; [] for reports without a calendar date
        draft_days_before: 14

From it the scheduler makes the ``reports`` job due once on each draft date (``draft_days_before``
ahead of a due date), and ``citysec status`` shows a reminder from the draft date until the due date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from config.profiles import load_profile


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


def load_calendar(profile: str) -> list[CalendarEntry]:
    """The report calendar of a profile (a name such as ``nd85`` or a file). Reports without a
    calendar date (per drill, weekly) are left out. Raises ConfigError for a bad profile."""
    out = []
    for r in load_profile(profile).reports:
        dates = tuple((int(md[:2]), int(md[3:])) for md in r.due)
        if dates:
            out.append(CalendarEntry(r.id, dates, r.draft_days_before))
    return out


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
