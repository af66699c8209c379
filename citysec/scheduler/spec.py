"""Schedule strings ("every 6 hours", "every day at 01:00") and when a job is due.

The strings are parsed strictly with a small grammar, then handed to the ``schedule`` library's
fluent API, which validates the unit/``at`` combination (``every 6 hours at 25:00`` fails there).
The *decision* — is a job due now? — does not use the library's wall clock: it is a pure function
of the job's last start (read from the run history in the store) and an injected ``now``. That is
what makes catch-up after downtime run a job once, not once per missed interval, and what lets the
tests drive the schedule without sleeping.

Times of day (``at 01:00``) are the sensor's local time: the ``tz`` passed in (the systemd unit
sets ``TZ=Asia/Ho_Chi_Minh``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

import schedule

UNITS = ("second", "minute", "hour", "day", "week")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_GRAMMAR = re.compile(
    r"every(?:\s+(?P<n>[1-9][0-9]{0,5}))?\s+(?P<what>[a-z]+?)(?:\s+at\s+(?P<at>\S+))?")


class SpecError(ValueError):
    """A schedule string that does not parse; the message says what is wrong."""


@dataclass(frozen=True)
class Spec:
    """A parsed schedule: every ``interval`` ``unit`` (seconds…weeks), optionally at a time of
    day (``at``) and, for weekly ones, on a weekday (``weekday``, 0 = Monday)."""

    text: str
    unit: str                   # plural, as the schedule library names it: "hours"
    interval: int
    at: time | None = None
    weekday: int | None = None

    @property
    def period(self) -> timedelta:
        return timedelta(**{self.unit: self.interval})


def parse_spec(text: str) -> Spec:
    """Parse ``every [N] UNIT[s] [at TIME]`` or ``every WEEKDAY [at HH:MM]``. Raises SpecError."""
    if not isinstance(text, str):
        raise SpecError(f"expected a string like 'every 6 hours', got {type(text).__name__}")
    m = _GRAMMAR.fullmatch(text.strip().lower())
    if m is None:
        raise SpecError(f"{text!r} is not a schedule: write 'every N minutes|hours|days|weeks', "
                        "'every day at HH:MM' or 'every monday at HH:MM'")
    n, what, at = int(m["n"] or 1), m["what"], m["at"]
    builder = schedule.Scheduler().every(n)
    weekday = None
    if what in WEEKDAYS:
        if m["n"]:
            raise SpecError(f"{text!r}: a weekday takes no number (write 'every {what}')")
        weekday = WEEKDAYS.index(what)
        builder = getattr(builder, what)
    elif what.rstrip("s") in UNITS:
        unit = what.rstrip("s")
        if what == unit and n != 1:
            raise SpecError(f"{text!r}: write '{unit}s' after a number other than 1")
        if what != unit and not m["n"]:
            raise SpecError(f"{text!r}: write 'every {unit}' or 'every N {what}'")
        builder = getattr(builder, unit + "s")
    else:
        raise SpecError(f"{text!r}: unknown unit {what!r}; use seconds, minutes, hours, days, "
                        "weeks or a weekday")
    if at is not None:
        _check_at(text, builder.unit, at)
        try:
            builder = builder.at(at)
        except schedule.ScheduleValueError as exc:
            raise SpecError(f"{text!r}: {exc}") from None
    return Spec(text=text, unit=builder.unit, interval=builder.interval,
                at=builder.at_time, weekday=weekday)


_AT_FORMS = {"days": (r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?", "HH:MM"),
             "weeks": (r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?", "HH:MM"),
             "hours": (r":[0-5][0-9]", ":MM (minutes past the hour)"),
             "minutes": (r":[0-5][0-9]", ":SS (seconds past the minute)")}


def _check_at(text: str, unit: str, at: str) -> None:
    form = _AT_FORMS.get(unit)
    if form is None:
        raise SpecError(f"{text!r}: 'at' needs days, hours, minutes or a weekday")
    if not re.fullmatch(form[0], at):
        raise SpecError(f"{text!r}: with {unit}, 'at' takes {form[1]}, not {at!r}")


def next_after(spec: Spec, moment: datetime, tz: tzinfo) -> datetime:
    """The first run time strictly after ``moment`` (aware), the same rule as the ``schedule``
    library's ``_schedule_next_run`` with ``moment`` in place of its wall clock."""
    local = moment.astimezone(tz)
    nxt = local
    if spec.weekday is not None:
        days = (spec.weekday - nxt.weekday()) % 7
        nxt = nxt + timedelta(days=days)
    if spec.at is not None:
        nxt = _move_to_at(spec, nxt)
    if spec.interval != 1:
        nxt += spec.period
    while nxt <= local:
        nxt += spec.period
    return nxt


def _move_to_at(spec: Spec, moment: datetime) -> datetime:
    kwargs = {"second": spec.at.second, "microsecond": 0}
    if spec.unit in ("days", "weeks"):
        kwargs["hour"] = spec.at.hour
    if spec.unit in ("days", "hours", "weeks"):
        kwargs["minute"] = spec.at.minute
    return moment.replace(**kwargs)


def next_due(spec: Spec, last_start: datetime | None, tz: tzinfo,
             triggers: tuple[datetime, ...] = ()) -> datetime | None:
    """When the job is next due. ``None`` means now: it never ran. ``triggers`` are extra
    moments (report draft dates) that make it due once when they pass after the last start."""
    if last_start is None:
        return None
    due = next_after(spec, last_start, tz)
    later = [t for t in triggers if t > last_start]
    return min([due, *later])


def is_due(spec: Spec, last_start: datetime | None, now: datetime, tz: tzinfo,
           triggers: tuple[datetime, ...] = ()) -> bool:
    """Due when the next run time after the last start has passed. However many intervals were
    missed while citysec was down, the answer is one run: the next decision starts from it."""
    due = next_due(spec, last_start, tz, triggers)
    return due is None or due <= now
