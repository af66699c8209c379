"""Triage decisions reach Elasticsearch as `citysec.triage` events, mapped (no dead letter)."""

from __future__ import annotations

from datetime import UTC, datetime

from elasticsearch import Elasticsearch
from es_helpers import as_json, citysec, findings

from findings import triage


def test_triage_decisions_are_shipped_as_events(city, es_server):
    config, store = city
    store.record(findings(2, "run-1"), run_id="run-1")
    fps = [r["fingerprint"] for r in store.current()]
    triage.decide(store, fps[0], "accepted", reason="ngân sách 2027", by="Bình", approved_by="Giám đốc",
                  until=datetime(2099, 6, 30, tzinfo=UTC))
    triage.decide(store, fps[1], "false_positive", reason="honeypot", by="An")
    out = as_json(citysec(config, "ship", "--json"))
    assert out["dead_letters"] == 0 and out["remaining"] == 0
    es = Elasticsearch(es_server.url)
    es.indices.refresh(index="logs-citysec.triage-test")
    hits = es.search(index="logs-citysec.triage-test", query={"term": {"citysec.triage.kind": "accepted"}})["hits"]
    assert hits["total"]["value"] == 1
    doc = hits["hits"][0]["_source"]
    assert doc["user"]["name"] == "Bình" and doc["citysec"]["triage"]["approved_by"] == "Giám đốc"
    assert doc["citysec"]["fingerprint"] == fps[0] and doc["event"]["kind"] == "event"
