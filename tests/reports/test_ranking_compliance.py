"""The readiness score is reproducible and explained; compliance per criterion with evidence."""

from __future__ import annotations

import pytest
from report_helpers import ORGS

from findings.errors import UsageError
from reports import compliance, member, ranking
from reports.gather import gather
from reports.period import compliance_year, parse_period
from reports.summary import period_figures

W = {"coverage": 0.25, "exposure": 0.25, "backups": 0.15, "time_to_fix": 0.1, "incidents": 0.15, "drills": 0.1}


@pytest.fixture(scope="module")
def per(sqlite_query):
    return [(p.label, period_figures(sqlite_query, p, ORGS, compare=False)["agencies"])
            for p in parse_period("2026-H2").history(3)]


def test_score_is_the_weighted_mean_of_its_documented_parts(per):
    result = ranking.rank(per, W)
    a = next(r for r in result["ranking"] if r["agency"] == "so-a")
    # so-a: coverage 25; exposure 3 of 4 hosts clean = 75; backups 50; median fix 3 days → 100;
    # incidents 1 of 1 on time → 100; no drill → no data: left out of the weighted mean
    assert {c: p["value"] for c, p in a["parts"].items()} == {
        "coverage": 25.0, "exposure": 75.0, "backups": 50.0, "time_to_fix": 100.0, "incidents": 100.0,
        "drills": None}
    assert a["score"] == pytest.approx((0.25 * 25 + 0.25 * 75 + 0.15 * 50 + 0.1 * 100 + 0.15 * 100) / 0.9, abs=0.05)
    assert a["parts"]["drills"]["points"] is None
    assert a["parts"]["drills"]["no_data"] and a["rank"] == 1
    assert [t["period"] for t in a["trend"]] == ["2025-H2", "2026-H1", "2026-H2"]
    assert ranking.rank(per, W) == result                              # reproducible


def test_weights_change_the_order(per):
    drills_only = {c: 0.0 for c in W} | {"drills": 1.0}
    assert ranking.rank(per, drills_only)["ranking"][0]["agency"] == "so-b"


def test_bad_weights_are_a_usage_error(per):
    with pytest.raises(UsageError, match="reports.weights"):
        ranking.rank(per, {"coverage": 1.0, "luck": 2.0})


def test_compliance_per_criterion_with_evidence_and_roadmap(sqlite_query):
    c = compliance_year(2026)
    systems = [compliance.System("a", "A", "so-a", 3, ("198.18.90.13",)),
               compliance.System("b", "B", "so-b", 2, ("198.18.91.11",))]
    fig = compliance.figures(systems, gather(sqlite_query, c).state, c)
    a = {x["criterion"]: x for x in fig["systems"][0]["criteria"]}
    assert a["7.2.2.5"]["met"] is False and a["7.2.2.5"]["failing"] == [("av.missing", "198.18.90.13")]
    assert a["7.2.2.5"]["target"] == "2027-03-15"                     # high: 90 days after 14/12
    assert a["7.1.5.1"]["met"] is None                                # no rogue check on that host
    b = {x["criterion"]: x for x in fig["systems"][1]["criteria"]}
    assert b["6.2.2.5"]["met"] is True and b["6.2.2.2"]["met"] is False


def test_member_report_form05(sqlite_query):
    figs = period_figures(sqlite_query, parse_period("2026-H2"), ORGS, compare=False)
    f = member.form05(figs["city"]["incidents"])
    rows = {r["type"]: r for r in f["by_type"]}
    assert rows["phishing"]["national"] == 1 and rows["phishing"]["damage_vnd"] == 5_000_000
    assert rows["malware"]["self"] == 1 and f["total"]["total"] == 2 and f["supporters"] == ["VNCERT/CC"]
