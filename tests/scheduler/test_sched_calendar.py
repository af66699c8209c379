"""The regulatory profile's report calendar: due dates, draft dates, reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from config.sched_calendar import deadlines, draft_triggers, load_calendar, reminders
from findings.errors import ConfigError

HP = timezone(timedelta(hours=7))
PROFILE = """
reports:
  - id: form05-network-member
    due: ["06-20", "12-15"]
    draft_days_before: 14
  - id: level-compliance
    due: 20/12
  - id: after-action
    period: per drill
"""


def test_profile_calendar_deadlines_and_reminders(tmp_path):
    path = tmp_path / "nd85.yaml"
    path.write_text(PROFILE, encoding="utf-8")
    cal = load_calendar(str(path))
    assert [(c.report, c.dates, c.draft_days) for c in cal] == [
        ("form05-network-member", ((6, 20), (12, 15)), 14), ("level-compliance", ((12, 20),), 14)]
    ds = deadlines(cal, date(2026, 11, 30))
    assert [(d.report, d.due.isoformat()) for d in ds][:3] == [
        ("form05-network-member", "2026-12-15"), ("level-compliance", "2026-12-20"),
        ("form05-network-member", "2027-06-20")]
    assert reminders(cal, date(2026, 11, 30)) == []
    assert [r["report"] for r in reminders(cal, date(2026, 12, 10))] == ["form05-network-member",
                                                                         "level-compliance"]
    assert reminders(cal, date(2026, 12, 16))[0] == {"report": "level-compliance", "due": "2026-12-20",
                                                     "draft_from": "2026-12-06", "days_left": "4"}
    trig = draft_triggers(cal, datetime(2026, 11, 30, 12, tzinfo=HP), HP)
    assert datetime(2026, 12, 1, tzinfo=HP) in trig and datetime(2026, 12, 6, tzinfo=HP) in trig


def test_no_profile_file_means_no_calendar(tmp_path):
    assert load_calendar(str(tmp_path / "missing.yaml")) == []


def test_a_bad_due_date_is_a_config_error(tmp_path):
    path = tmp_path / "nd85.yaml"
    path.write_text("reports:\n  - {id: x, due: 31-02}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"reports x: due '31-02' is not a month-day"):
        load_calendar(str(path))
