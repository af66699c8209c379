"""The periodic figures equal what the stored findings say (tests/reports/dataset.py)."""

from __future__ import annotations

import dataset
import pytest
from report_helpers import ORGS

from reports.period import parse_period
from reports.summary import period_figures


@pytest.fixture(scope="module")
def h2(sqlite_query):
    return period_figures(sqlite_query, parse_period("2026-H2"), ORGS)


def test_headline_figures_per_agency(h2):
    assert h2["agencies"]["so-a"]["headline"] == dataset.EXPECTED_A
    assert h2["agencies"]["so-b"]["headline"] == dataset.EXPECTED_B
    assert h2["city"]["headline"]["hosts"] == 5
    assert h2["city"]["headline"]["av_coverage_pct"] == 40.0


def test_antivirus_lists_the_uncovered_hosts_with_reasons(h2):
    unc = {u["host"]: u["reason"] for u in h2["agencies"]["so-a"]["antivirus"]["uncovered"]}
    assert unc == {"198.18.90.12": ["av.outdated"], "198.18.90.13": ["av.missing"], "198.18.90.66": ["no-data"]}


def test_exposure_counts_open_forbidden_services_by_severity(h2):
    a, b = h2["agencies"]["so-a"]["exposure"], h2["agencies"]["so-b"]["exposure"]
    assert a["by_severity"]["high"] == 1 and a["new"] == 1            # telnet; rdp and vnc were closed
    assert [i["check"] for i in a["items"]] == ["exposure.telnet"]
    assert b["by_severity"]["medium"] == 1 and b["new"] == 0          # mysql open since H1


def test_time_to_fix_and_age(h2):
    a = h2["agencies"]["so-a"]
    assert a["time_to_fix"] == {"fixed": 1, "median_days": 3.0, "mean_days": 3.0}   # vnc 10/07 → 13/07
    assert a["open_by_age"] == {"0-30": 0, "31-90": 0, "91-180": 5, ">180": 0}
    assert h2["agencies"]["so-b"]["open_by_age"][">180"] == 1


def test_incidents_by_type_help_times_and_deadlines(h2):
    a, b = h2["agencies"]["so-a"]["incidents"], h2["agencies"]["so-b"]["incidents"]
    assert a["by_type"] == {"malware": 1} and a["alone"] == 1
    assert (a["contain_hours_avg"], a["close_hours_avg"], a["deadline_met"]) == (6.0, 48.0, 1)
    assert b["by_help"]["national"] == 1 and b["damage_vnd"] == 5_000_000 and b["deadline_missed"] == 1
    assert b["close_hours_avg"] is None and b["supporters"] == ["VNCERT/CC"]


def test_drills_read_from_exercise_records(h2):
    assert h2["agencies"]["so-a"]["drills"]["held"] == 0
    b = h2["agencies"]["so-b"]["drills"]
    assert b["held"] == 1 and b["ratings"]["S"] == 1 and b["score"] == 70.0
    assert [x["id"] for x in b["open_actions"]] == ["ca-1"]


def test_detections_and_rogue_devices(h2):
    assert h2["agencies"]["so-a"]["detections"]["by_check"] == {"log.ssh_bruteforce": 3}
    assert h2["agencies"]["so-a"]["rogue"]["items"][0]["host"] == "198.18.90.66"


def test_change_since_the_previous_period(h2):
    ch = h2["agencies"]["so-a"]["change"]
    # H1: only rdp failed on .11 (1 host, 1 exposure, 1 detection)
    assert ch["exposure_open"] == {"now": 1, "before": 1, "delta": 0}
    assert ch["hosts"] == {"now": 4, "before": 1, "delta": 3}
    assert ch["detections"] == {"now": 3, "before": 1, "delta": 2}


def test_remedies_ordered_by_risk_with_texts(h2):
    rem = h2["agencies"]["so-a"]["remedies"]
    risks = [r["risk"] for r in rem]
    assert risks == sorted(risks, reverse=True) and rem[0]["max_severity"] == "high"
    telnet = next(r for r in rem if r["check"] == "exposure.telnet")
    assert telnet["remediation"]["vi"].startswith("Tắt dịch vụ Telnet")


def test_annual_period_includes_both_halves(sqlite_query):
    year = period_figures(sqlite_query, parse_period("2026"), ORGS, compare=False)
    assert year["agencies"]["so-a"]["detections"]["total"] == 4
    assert year["agencies"]["so-a"]["time_to_fix"]["fixed"] == 2      # rdp (H1→H2) and vnc


def test_one_agency_only(sqlite_query):
    fig = period_figures(sqlite_query, parse_period("2026-H2"), ORGS, agency="so-b")
    assert list(fig["agencies"]) == ["so-b"] and fig["city"]["headline"] == dataset.EXPECTED_B


def test_a_drill_is_named_by_its_title_in_each_language():
    """The periodic report names a drill by its scenario's title; a run recorded before scenarios were
    bilingual has one title (name), used for both languages; a run without any is left out."""
    from reports.gather import exercise_names
    rows = [{"citysec.exercise.id": "r1", "citysec.exercise.name": "Diễn tập A", "citysec.exercise.name_en": "Drill A"},
            {"citysec.exercise.id": "r0", "citysec.exercise.name": "Diễn tập cũ", "citysec.exercise.name_en": None},
            {"citysec.exercise.id": "r9", "citysec.exercise.name": None, "citysec.exercise.name_en": None}]
    assert exercise_names(rows) == {"r1": {"vi": "Diễn tập A", "en": "Drill A"},
                                    "r0": {"vi": "Diễn tập cũ", "en": "Diễn tập cũ"}}
