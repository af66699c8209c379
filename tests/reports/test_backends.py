"""SQLite and Elasticsearch (noida-db, loaded by the real shipper) give identical figures."""

from __future__ import annotations

import pytest
from report_helpers import ORGS, shipped

from findings.query import Ask, Where
from findings.elastic.query import ElasticQuery
from reports import compliance, ranking
from reports.gather import gather, gather_many
from reports.period import compliance_year, parse_period
from reports.summary import period_figures
from tests.es_server import es_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.es
NS = "reports"


@pytest.fixture(scope="module")
def es_query(es_server, store):  # noqa: F811
    return ElasticQuery(shipped(es_server.url, store, NS), NS)


@pytest.mark.parametrize("label", ["2026-H2", "2026", "2026-H1"])
def test_periodic_figures_are_identical(sqlite_query, es_query, label):
    period = parse_period(label)
    a = period_figures(sqlite_query, period, ORGS)
    b = period_figures(es_query, period, ORGS)
    assert a["city"]["headline"]["hosts"] > 0
    for aid in a["agencies"]:
        for key in a["agencies"][aid]:
            assert a["agencies"][aid][key] == b["agencies"][aid][key], (aid, key)
    assert a == b


def test_primitives_are_identical(sqlite_query, es_query):
    w = Where(end=parse_period("2026").end)
    for by in (("agency",), ("agency", "host"), ("agency", "check", "verdict"), ("citysec.case.id",)):
        for source in ("history", "events"):
            assert sqlite_query.group(source, w, by, times=True) == es_query.group(source, w, by, times=True)
    assert sqlite_query.group("history", Where(agencies=("nobody",)), ()) == []
    assert es_query.group("history", Where(agencies=("nobody",)), ()) == []


def test_a_batch_answers_as_its_requests_one_by_one(sqlite_query, es_query):
    """Query.many (Elasticsearch: one search, a filters aggregation per request) gives each
    request's own rows: host grouping (two parts), no grouping, times, latest, several periods."""
    end, start = parse_period("2026").end, parse_period("2026").start
    asks = [Ask.group("history", Where(end=end), ("agency", "host"), times=True),
            Ask.group("history", Where(start=start, end=end, verdicts=("fail",)), ()),
            Ask.group("history", Where(agencies=("nobody",)), ()),
            Ask.latest("history", Where(end=parse_period("2026-H2").start), "fingerprint", ("agency", "host", "status", "first_seen")),
            Ask.latest("events", Where(end=end, datasets=("citysec.case",)), "citysec.case.id",
                       ("agency", "citysec.case.type", "citysec.case.deadline_met")),
            Ask.group("events", Where(end=end, kinds=("alert",)), ("agency", "check"))]
    one_by_one = [sqlite_query.group(a.source, a.where, a.by, times=a.times) if a.op == "group"
                  else sqlite_query.latest(a.source, a.where, a.by[0], a.fields) for a in asks]
    assert [bool(r) for r in one_by_one] == [True, True, False, True, True, True], [len(r) for r in one_by_one]
    assert one_by_one[2] == []
    assert sqlite_query.many(asks) == one_by_one
    assert es_query.many(asks) == one_by_one


def test_ranking_and_compliance_are_identical(sqlite_query, es_query):
    p = parse_period("2026-H2")
    weights = {"coverage": 0.25, "exposure": 0.25, "backups": 0.15, "time_to_fix": 0.1, "incidents": 0.15,
               "drills": 0.1}
    per = lambda q: [(pp.label, period_figures(q, pp, ORGS, compare=False)["agencies"]) for pp in p.history(2)]
    assert ranking.rank(per(sqlite_query), weights) == ranking.rank(per(es_query), weights)
    c = compliance_year(2026)
    systems = [compliance.System("s", "S", "so-a", 3, ("198.18.90.13",))]
    assert compliance.figures(systems, gather(sqlite_query, c).state, c) == \
        compliance.figures(systems, gather(es_query, c).state, c)


def test_missing_data_streams_give_no_rows(es_query):
    empty = ElasticQuery(es_query.es, "nothing_here")
    w = Where(end=parse_period("2026").end, datasets=("citysec.exercise",))
    assert empty.group("events", w, ("agency",)) == [] and empty.latest("events", w, "agency", ()) == []
    assert empty.group("history", Where(), ("agency", "host")) == []


@pytest.mark.parametrize("label", ["2026-H2", "2027-H1"])
def test_state_from_the_previous_period_equals_the_state_read_whole(sqlite_query, es_query, label):
    """A batch of a period and the one before it reads the history before the period once: the
    state at the end (merged from the state at the start and the period's own observations)
    is the state a period asked alone reads from its whole history."""
    p = parse_period(label)
    for q in (sqlite_query, es_query):
        now, before = gather_many(q, [p, p.previous()])
        alone = gather(q, p)
        assert now.state == alone.state and now.hosts == alone.hosts and now.remediation == alone.remediation
        assert before.state == gather(q, p.previous()).state
        assert before.state and {r["fingerprint"] for r in before.state} <= {r["fingerprint"] for r in now.state}
