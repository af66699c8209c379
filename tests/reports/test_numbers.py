"""Numbers that are right: a false positive leaves every figure, no data is not zero, totals add
up, and the ranking neither punishes cases still in time nor rewards having none."""

from __future__ import annotations

from dataset import A, B
from report_helpers import ORGS

from reports import member, periodic, ranking
from reports.period import parse_period
from reports.summary import period_figures

W = {"coverage": 0.25, "exposure": 0.25, "backups": 0.15, "time_to_fix": 0.1, "incidents": 0.15, "drills": 0.1}
H2 = parse_period("2026-H2")
TELNET = (A, "exposure.telnet", "198.18.90.13", 23)


def test_a_false_positive_leaves_every_figure(sqlite_query):
    before = period_figures(sqlite_query, H2, ORGS)
    after = period_figures(sqlite_query, H2, ORGS, false_positives=frozenset({TELNET}))
    a0, a1 = before["agencies"][A], after["agencies"][A]
    assert a1["exposure"]["open"] == a0["exposure"]["open"] - 1
    assert a1["headline"]["open_findings"] == a0["headline"]["open_findings"] - 1
    assert sum(a1["open_by_age"].values()) == sum(a0["open_by_age"].values()) - 1
    assert "exposure.telnet" in {r["check"] for r in a0["remedies"]}
    assert "exposure.telnet" not in {r["check"] for r in a1["remedies"]}
    assert after["city"]["headline"]["exposure_open"] == before["city"]["headline"]["exposure_open"] - 1
    assert after["city"]["change"]["exposure_open"]["now"] == after["city"]["headline"]["exposure_open"]
    r0 = ranking.components(a0)
    r1 = ranking.components(a1)
    assert r1["exposure"] > r0["exposure"]
    assert before["agencies"][B] == after["agencies"][B]                 # another agency is untouched


def test_a_period_without_observations_says_no_data_instead_of_zeros(sqlite_query):
    empty = period_figures(sqlite_query, parse_period("2024-H1"), ORGS)
    assert empty["city"]["no_data"] and set(empty["city"]["headline"].values()) == {None}
    assert all(fig["no_data"] for fig in empty["agencies"].values())
    doc = periodic.build(empty, parse_period("2024-H1"), ORGS, "vi")
    assert doc.notices and "không có dữ liệu" in doc.notices[0]
    h1 = period_figures(sqlite_query, parse_period("2026-H1"), ORGS)     # the previous half has no data
    assert not h1["city"]["no_data"] and h1["previous_no_data"]
    assert h1["city"]["change"]["hosts"]["now"] > 0
    assert h1["city"]["change"]["hosts"]["before"] is None and h1["city"]["change"]["hosts"]["delta"] is None
    doc = periodic.build(h1, parse_period("2026-H1"), ORGS, "vi")
    change = next(s for s in doc.sections if s.id == "change")
    assert change.paragraphs and change.tables[0].rows[0]["before"] == "—"


def test_the_ranking_trend_shows_no_data_for_periods_without_data(sqlite_query):
    per = [(p.label, period_figures(sqlite_query, p, ORGS, compare=False)["agencies"])
           for p in H2.history(4)]
    result = ranking.rank(per, W)
    a = next(r for r in result["ranking"] if r["agency"] == A)
    assert a["trend"][0]["period"] == "2025-H1" and a["trend"][0]["score"] is None
    assert a["trend"][-1]["score"] == a["score"] is not None
    doc = ranking.build(result, {o.id: o.label("vi") for o in ORGS}, "vi", [])
    rows = doc.sections[0].tables[0].rows
    assert rows[0]["p0"] == "không có dữ liệu" and rows[0]["p0"] != rows[0]["score"]
    assert [c.label for c in doc.sections[0].tables[0].columns][3:] == [
        "6 tháng đầu năm 2025", "6 tháng cuối năm 2025", "6 tháng đầu năm 2026"]


def _incidents(*cases: dict) -> dict:
    from reports import cases as cs
    return {"antivirus": {"hosts": 1, "coverage_pct": 100.0}, "exposure": {"items": []},
            "backups": {"pct": None}, "time_to_fix": {"median_days": None}, "open_by_age": {},
            "drills": {"score": None}, "incidents": cs.incidents(list(cases))}


def _case(met, help_="self", type_="malware"):
    return {"type": type_, "help": help_, "deadline_met": met, "damage_vnd": 0, "supporters": [],
            "contain_hours": None, "close_hours": None}


def test_cases_still_in_time_are_not_scored_zero_and_no_case_is_not_full_marks():
    in_time = ranking.components(_incidents(_case(None)))
    none = ranking.components(_incidents())
    assert in_time["incidents"] is None and none["incidents"] is None
    assert ranking.components(_incidents(_case(True), _case(False), _case(None)))["incidents"] == 50.0
    s_in_time, s_none = ranking.score(_incidents(_case(None)), W), ranking.score(_incidents(), W)
    assert s_in_time["score"] == s_none["score"] == 100.0                 # only coverage has data
    assert s_none["parts"]["incidents"]["no_data"] and s_none["parts"]["incidents"]["points"] is None


def test_form05_totals_are_the_sums_of_their_rows():
    from reports import cases as cs
    items = cs.case_list(
        [{"citysec.case.id": f"c{i}", "citysec.case.action": "opened", "first": "2026-09-01T00:00:00Z"}
         for i in range(4)],
        [{"citysec.case.id": "c0", "agency": A, "citysec.case.type": "other", "citysec.case.help": "self"},
         {"citysec.case.id": "c1", "agency": A, "citysec.case.type": "other", "citysec.case.help": "unknown-help"},
         {"citysec.case.id": "c2", "agency": B, "citysec.case.type": "made-up", "citysec.case.help": "national",
          "citysec.case.damage_vnd": 7},
         {"citysec.case.id": "c3", "agency": B, "citysec.case.type": "malware", "citysec.case.help": "foreign"}],
        H2)
    f = member.form05(cs.incidents(items))
    for row in f["by_type"]:
        assert row["total"] == row["self"] + row["outside"] + row["foreign"] + row["national"]
    for k in ("total", "self", "outside", "foreign", "national", "damage_vnd"):
        assert f["total"][k] == sum(r[k] for r in f["by_type"])
    assert f["total"]["total"] == 4
    other = next(r for r in f["by_type"] if r["type"] == "other")
    assert (other["total"], other["self"], other["national"]) == (3, 2, 1)
