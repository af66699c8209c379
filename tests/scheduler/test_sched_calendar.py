"""The regulatory profile's report calendar: due dates, draft dates, reminders (the real nd85 profile)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from config.profiles import profile_file
from citysec.scheduler.calendar import deadlines, draft_triggers, load_calendar, reminders
from findings.errors import ConfigError

HP = timezone(timedelta(hours=7))


def test_nd85_calendar_deadlines_and_reminders():
    cal = load_calendar("nd85")
    by_id = {c.report: c for c in cal}
    assert by_id["form05-network-member"].dates == ((6, 20), (12, 15))
    assert by_id["form05-network-member"].draft_days == 14
    assert "exercise-aar" not in by_id                     # no calendar date: nothing to schedule
    ds = [(d.report, d.due.isoformat()) for d in deadlines(cal, date(2026, 11, 30))]
    assert ds[0] == ("form05-network-member", "2026-12-15")
    assert reminders(cal, date(2026, 11, 30)) == []
    on_10_dec = {r["report"]: r for r in reminders(cal, date(2026, 12, 10))}
    assert on_10_dec["form05-network-member"] == {"report": "form05-network-member", "due": "2026-12-15",
                                                  "draft_from": "2026-12-01", "days_left": "5"}
    assert on_10_dec["level-compliance-operator"]["draft_from"] == "2026-12-10"
    assert "level-compliance-owner" not in on_10_dec       # its draft period opens on 15 December
    trig = draft_triggers(cal, datetime(2026, 11, 30, 12, tzinfo=HP), HP)
    assert datetime(2026, 12, 1, tzinfo=HP) in trig and datetime(2026, 12, 10, tzinfo=HP) in trig


def test_a_bad_due_date_in_a_profile_is_a_config_error(tmp_path):
    text = Path(profile_file("nd85")).read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('due: ["12-20"]', 'due: ["31-02"]'), encoding="utf-8")
    with pytest.raises(ConfigError, match="31-02"):
        load_calendar(str(bad))
