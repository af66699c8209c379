"""The `reports` job drafts what the profile says is due, once."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import dataset

from citysec.cli.context import App
from citysec.jobs.reports import plan, reports
from config.profiles import load_profile

HERE = Path(__file__).parent


def test_plan_follows_the_profile_dates():
    prof = load_profile("nd85")
    in_december = {(k, p.label) for k, p in plan(prof, datetime(2026, 12, 10).date())}
    assert in_december == {("periodic", "2026-H1"), ("member", "2026"), ("compliance", "C2026")}
    in_june = {(k, p.label) for k, p in plan(prof, datetime(2026, 6, 10).date())}
    assert in_june == {("periodic", "2025-H2"), ("member", "2026-H1")}
    assert {k for k, _ in plan(prof, datetime(2026, 3, 1).date())} == {"periodic"}


def test_job_writes_drafts_once(tmp_path):
    shutil.copy(HERE / "city.yaml", tmp_path / "city.yaml")
    dataset.build(tmp_path / "citysec.db")
    app = App(config_path=str(tmp_path / "city.yaml"))
    now = datetime(2026, 12, 10, 3, tzinfo=UTC)
    first = reports(app, "run-1", now=now)
    assert first == {"due": 5, "written": 5, "kept": 0}      # periodic city + 2 agencies, member, compliance
    drafts = sorted(p.name for p in (tmp_path / "reports-out" / "drafts").iterdir())
    assert "member-2026.vi.html" in drafts and "periodic-2026-H1-so-a.vi.html" in drafts
    assert reports(app, "run-2", now=now) == {"due": 5, "written": 0, "kept": 5}
