"""No Elasticsearch answer holds more than search.max_buckets: big requests are split, and the
split gives the figures SQLite gives (noida-db: by agency, as it ignores terms partitions)."""

from __future__ import annotations

import logging

import pytest
from report_helpers import ORGS, shipped

from findings.elastic import query_split as split
from findings.errors import RuntimeFailure
from findings.query import Ask, Where
from findings.elastic.query import ElasticQuery
from reports.period import parse_period
from reports.summary import period_figures
from tests.es_server import es_server  # noqa: F401  (fixture)

NS = "buckets"


class Recording(ElasticQuery):
    """Counts the answers that overflowed (a real cluster refuses them) and those within the limit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.within: list[dict] = []
        self.over = 0

    def _msearch(self, items):
        out = super()._msearch(items)
        for a in out:
            if a is None or self._overflows(a):
                self.over += 1
            else:
                self.within.append(a)
        return out


@pytest.fixture(scope="module")
def client(es_server, store):  # noqa: F811
    return shipped(es_server.url, store, NS)


@pytest.mark.es
@pytest.mark.parametrize("label", ["2026", "2026-H2"])
def test_split_requests_give_the_sqlite_figures(client, sqlite_query, label, caplog):
    # 12 findings (so-a 10, so-b 2): with 10 buckets an answer the latest-per-finding request
    # overflows and is asked per agency; every answer stays within the limit
    q = Recording(client, NS, max_buckets=10)
    with caplog.at_level(logging.WARNING, logger="citysec.query"):
        figures = period_figures(q, parse_period(label), ORGS)
    assert figures == period_figures(sqlite_query, parse_period(label), ORGS)
    assert q.partitions is False                   # noida-db ignores terms partitions: detected
    assert "ignores terms partitions" in caplog.text
    assert q.over > 0 and max(split.bucket_count(a.get("aggregations") or {}) for a in q.within) <= 10


@pytest.mark.es
def test_split_primitives_match_sqlite(client, sqlite_query):
    q = ElasticQuery(client, NS, max_buckets=10)
    end = parse_period("2026").end
    asks = [Ask.latest("history", Where(end=end), "fingerprint", ("agency", "host", "status")),
            Ask.group("history", Where(end=end), ("agency", "host"), times=True),
            Ask.group("history", Where(end=end), ("fingerprint",))]
    assert q.many(asks) == sqlite_query.many(asks)


@pytest.mark.es
def test_one_agency_over_the_limit_is_a_clear_error(client):
    q = ElasticQuery(client, NS, max_buckets=4)      # so-a alone has 10 findings
    with pytest.raises(RuntimeFailure, match="search.max_buckets"):
        q.latest("history", Where(), "fingerprint", ("agency",))


class Partitioning(ElasticQuery):
    """A server that honours terms partitions, answering a terms aggregation over 100 keys
    ('k00'..'k99', key i in partition i % n) with at most ``size`` keys per answer."""

    KEYS = tuple(f"k{i:02d}" for i in range(100))

    def __init__(self, max_buckets: int):
        super().__init__(client=None, namespace="x", max_buckets=max_buckets)
        self.asked: list[int] = []

    def _msearch(self, items):
        out = []
        for _, _, aggs in items:
            answer = {}
            for name, agg in aggs.items():
                inc = agg["terms"].get("include")
                keys = [k for i, k in enumerate(self.KEYS) if inc is None or i % inc["num_partitions"] == inc["partition"]]
                size = agg["terms"]["size"]
                answer[name] = {"buckets": [{"key": k, "doc_count": 1} for k in keys[:size]],
                                "sum_other_doc_count": max(0, len(keys) - size)}
            self.asked.append(sum(len(a["buckets"]) for a in answer.values()))
            out.append({"hits": {"total": {"value": 100}}, "aggregations": answer})
        return out


def test_partitions_are_used_where_the_server_honours_them():
    q = Partitioning(max_buckets=30)
    rows = q.group("history", Where(), ("fingerprint",))
    assert q.partitions is True
    assert [r["fingerprint"] for r in rows] == list(Partitioning.KEYS) and all(r["count"] == 1 for r in rows)
    assert len(q.asked) == 2 + 5 and max(q.asked) <= 30  # the request, the probe, 5 parts (100 × 1.25 / 30)


def test_bucket_counting_and_merging():
    answer = {"g0": {"sum_other_doc_count": 0, "buckets": [
        {"key": "a", "doc_count": 3, "g1": {"sum_other_doc_count": 2, "buckets": [{"key": "x", "doc_count": 1}]},
         "first": {"hits": {"hits": [{"_source": {}}]}}}]}}
    assert split.bucket_count(answer) == 2 and split.left_out(answer)
    a = Ask.group("history", Where(), ("agency",), times=True)
    merged = split.merge(a, [[{"agency": "a", "count": 2, "first": "2026-01-02", "last": "2026-01-05"}],
                             [{"agency": "a", "count": 1, "first": "2026-01-01", "last": "2026-01-03"},
                              {"agency": "b", "count": 1, "first": "2026-01-01", "last": "2026-01-01"}]])
    assert merged == [{"agency": "a", "count": 3, "first": "2026-01-01", "last": "2026-01-05"},
                      {"agency": "b", "count": 1, "first": "2026-01-01", "last": "2026-01-01"}]
    latest = Ask.latest("history", Where(), "check", ("status",))
    assert split.merge(latest, [[{"check": "c", "ts": "2026-02", "count": 2, "status": "open"}],
                                [{"check": "c", "ts": "2026-03", "count": 1, "status": "closed"}]]) == \
        [{"check": "c", "ts": "2026-03", "count": 3, "status": "closed"}]
    assert split.agency_groups(["c", "a", "b", "d", "e"], 2) == [["a", "c", "e"], ["b", "d"]]


@pytest.mark.es
def test_the_limit_is_read_from_the_cluster(client, caplog):
    """A cluster that reports search.max_buckets is obeyed; noida-db reports none: the default,
    with a warning."""
    from findings.elastic.query import MAX_BUCKETS, cluster_max_buckets

    class Settings:
        def __init__(self, answer):
            self.answer = answer

        def get_settings(self, **kw):
            assert kw == {"include_defaults": True, "flat_settings": True}
            return self.answer

    class Cluster:
        def __init__(self, answer):
            self.cluster = Settings(answer)

    assert cluster_max_buckets(Cluster({"persistent": {"search.max_buckets": "20000"},
                                        "defaults": {"search.max_buckets": "65536"}})) == 20000
    assert cluster_max_buckets(Cluster({"persistent": {}, "defaults": {"search.max_buckets": "65536"}})) == 65536
    with caplog.at_level(logging.WARNING, logger="citysec.query"):
        assert cluster_max_buckets(client) == MAX_BUCKETS
    assert "does not report search.max_buckets" in caplog.text
