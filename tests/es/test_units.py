"""Pure pieces of the sink: judging a bulk response, names, versions, backoff, the retry policy."""

from __future__ import annotations

import json

import elastic_transport
import pytest
from elasticsearch import ApiError

from findings import Finding, to_document
from findings.elastic.client import ElasticUnreachable, Retrier, backoff, redact
from findings.elastic.ship import action_line, classify, state_version
from findings.elastic.templates import mappings, stream_name
from findings.errors import RuntimeFailure


def row(seq, stream="history", dataset="citysec.exposure", doc_id="d", body=None, attempts=0):
    body = body or json.dumps({"@timestamp": "2026-01-02T03:04:05.678Z"})
    return {"seq": seq, "stream": stream, "dataset": dataset, "doc_id": doc_id, "body": body, "attempts": attempts}


def test_classify_bulk_items():
    rows = [row(i) for i in range(1, 6)]
    items = [{"create": {"status": 201}}, {"create": {"status": 409, "error": {"type": "version_conflict"}}},
             {"create": {"status": 400, "error": {"type": "document_parsing_exception", "reason": "bad ip",
                                                   "caused_by": {"type": "x", "reason": "not an IP"}}}},
             {"create": {"status": 429, "error": {"type": "es_rejected_execution_exception", "reason": "busy"}}},
             {"index": {"status": 503, "error": "unavailable"}}]
    done, already, dead, retry = classify(rows, items)
    assert done == [1] and already == [2]
    assert dead == [(3, 400, "document_parsing_exception: bad ip (caused by x: not an IP)")]
    assert [(r["seq"], s) for r, s, _ in retry] == [(4, 429), (5, 503)]


def test_action_lines_and_names():
    create = json.loads(action_line(row(7, doc_id="abc"), "haiphong"))
    assert create == {"create": {"_index": "logs-citysec.exposure-haiphong", "_id": "abc"}}
    state = json.loads(action_line(row(7, stream="state", doc_id="fp"), "haiphong"))["index"]
    assert state["_index"] == "citysec-state" and state["_id"] == "fp" and state["version_type"] == "external"
    assert stream_name("citysec.Bad-Area x", "ns") == "logs-citysec.bad_area_x-ns"


def test_state_versions_grow_with_time_then_seq():
    early = row(999, stream="state", body=json.dumps({"@timestamp": "2026-01-01T00:00:00.000Z"}))
    late = row(5, stream="state", body=json.dumps({"@timestamp": "2026-01-01T00:00:00.001Z"}))
    same_ms_later_seq = row(6, stream="state", body=json.dumps({"@timestamp": "2026-01-01T00:00:00.001Z"}))
    assert state_version(early) < state_version(late) < state_version(same_ms_later_seq)


def test_mapping_covers_every_field_of_a_document():
    doc = to_document(Finding(check="antivirus.age", agency="so-tttt", verdict="fail", host_ip="198.18.1.5",
                              host_name="pc", host_mac="aa:bb:cc:dd:ee:ff", port=22, transport="tcp",
                              service_name="ssh", service_version="OpenSSH", check_name="AV age",
                              sensor="city-soc", run_id="r", controls=("CIS8:10.1",), subject="x",
                              remediation={"vi": "a", "en": "b"}, details={"k": 1}, source_ip="198.18.1.9",
                              user_name="u", reason="why", agency_name="Sở", category=("host",),
                              type=("info",)), status="open", first_seen=None)
    props = mappings()["properties"]

    def walk(node, mapping, path=""):
        for key, value in node.items():
            assert key in mapping, f"{path}{key} is not mapped"
            sub = mapping[key]
            if isinstance(value, dict) and sub.get("type") not in ("flattened",):
                walk(value, sub["properties"], f"{path}{key}.")
    walk(doc, props)


def test_backoff_grows_and_is_capped():
    assert all(0.125 <= backoff(0) <= 0.25 for _ in range(50))
    assert all(backoff(20) <= 15 for _ in range(50))


def test_redact_drops_userinfo():
    assert redact("https://elastic:s3cret@es.example:9200/") == "https://es.example:9200/"


class Flaky:
    def __init__(self, errors):
        self.errors, self.calls = list(errors), 0

    def __call__(self):
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def api_error(status):
    meta = elastic_transport.ApiResponseMeta(status=status, http_version="1.1", headers={}, duration=0.0,
                                             node=elastic_transport.NodeConfig("http", "h", 9200))
    return ApiError(message=f"status {status}", meta=meta, body={})


def test_retrier_retries_429_5xx_and_connection_errors():
    slept, troubles = [], []
    fn = Flaky([api_error(429), api_error(503), elastic_transport.ConnectionError("refused")])
    r = Retrier(where="x", retry_for=60, sleep=slept.append, on_trouble=lambda: troubles.append(1))
    assert r(fn, "bulk") == "ok" and fn.calls == 4 and len(slept) == 3 and troubles == [1]


def test_retrier_gives_up_after_the_period_and_not_on_4xx():
    now = [0.0]
    r = Retrier(where="http://h:9200", retry_for=5, sleep=lambda s: now.__setitem__(0, now[0] + s),
                clock=lambda: now[0])
    with pytest.raises(ElasticUnreachable, match="unreachable during bulk for 5 s"):
        r(Flaky([elastic_transport.ConnectionError("refused")] * 1000), "bulk")
    with pytest.raises(RuntimeFailure, match="refused bulk .401."):
        r(Flaky([api_error(401)]), "bulk")
