"""Schedule strings: strict parsing, and when a job is next due (no sleeping, no wall clock)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from citysec.scheduler.spec import SpecError, is_due, next_after, next_due, parse_spec

HP = timezone(timedelta(hours=7))  # Hải Phòng local time


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=HP)


@pytest.mark.parametrize("text, unit, interval", [
    ("every 6 hours", "hours", 6), ("every day at 01:00", "days", 1), ("every 5 minutes", "minutes", 5),
    ("every 1 minute", "minutes", 1), ("every minute", "minutes", 1), ("every monday at 08:30", "weeks", 1),
    ("every hour at :15", "hours", 1), ("every 2 days at 23:59:30", "days", 2), ("every 10 seconds", "seconds", 10),
])
def test_valid_strings_parse(text, unit, interval):
    spec = parse_spec(text)
    assert (spec.unit, spec.interval) == (unit, interval)


@pytest.mark.parametrize("text, says", [
    ("daily", "is not a schedule"), ("every 6 hourz", "unknown unit 'hourz'"),
    ("every day at 25:00", "'at' takes HH:MM"), ("every day at 1:00", "'at' takes HH:MM"),
    ("every 5 minute", "write 'minutes'"), ("every hours", "write 'every hour'"),
    ("every 2 monday", "a weekday takes no number"), ("every 0 hours", "is not a schedule"),
    ("every 6 hours at 01:00", ":MM"), ("every 10 seconds at :10", "'at' needs"),
    ("every day at 01:00 please", "is not a schedule"), ("", "is not a schedule"),
])
def test_bad_strings_are_refused_with_the_reason(text, says):
    with pytest.raises(SpecError, match=says):
        parse_spec(text)


def test_next_after_interval_and_time_of_day():
    assert next_after(parse_spec("every 6 hours"), at(2026, 11, 30, 10, 0), HP) == at(2026, 11, 30, 16, 0)
    daily = parse_spec("every day at 01:00")
    assert next_after(daily, at(2026, 11, 30, 0, 30), HP) == at(2026, 11, 30, 1, 0)
    assert next_after(daily, at(2026, 11, 30, 1, 0), HP) == at(2026, 12, 1, 1, 0)   # strictly after
    assert next_after(parse_spec("every monday at 08:30"), at(2026, 11, 30, 9, 0), HP) == at(2026, 12, 7, 8, 30)
    assert next_after(parse_spec("every hour at :15"), at(2026, 11, 30, 9, 20), HP) == at(2026, 11, 30, 10, 15)


def test_times_of_day_are_local_time_not_utc():
    # 01:00 in Hải Phòng is 18:00 UTC the day before
    nxt = next_after(parse_spec("every day at 01:00"), datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc), HP)
    assert nxt.astimezone(timezone.utc) == datetime(2026, 11, 30, 18, 0, tzinfo=timezone.utc)


def test_a_job_that_never_ran_is_due_at_once():
    assert next_due(parse_spec("every day at 01:00"), None, HP) is None
    assert is_due(parse_spec("every day at 01:00"), None, at(2026, 11, 30, 12, 0), HP)


def test_after_downtime_one_run_not_one_per_missed_interval():
    spec = parse_spec("every 5 minutes")
    last = at(2026, 11, 30, 8, 0)
    down_until = at(2026, 11, 30, 11, 0)            # 36 intervals missed
    assert is_due(spec, last, down_until, HP)
    # the catch-up run starts at 11:00: the next decision starts from it, not from 08:05
    assert not is_due(spec, down_until, down_until + timedelta(minutes=4), HP)
    assert is_due(spec, down_until, down_until + timedelta(minutes=5), HP)


def test_draft_triggers_make_a_job_due_once():
    spec = parse_spec("every monday at 06:00")
    last = at(2026, 11, 30, 6, 0)                  # a Monday
    draft = at(2026, 12, 1, 0, 0)
    assert not is_due(spec, last, at(2026, 11, 30, 23, 0), HP, (draft,))
    assert is_due(spec, last, at(2026, 12, 1, 0, 5), HP, (draft,))
    # once it ran after the draft date, the trigger is spent
    assert not is_due(spec, at(2026, 12, 1, 0, 5), at(2026, 12, 2, 0, 0), HP, (draft,))
