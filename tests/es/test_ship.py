"""`citysec ship` against noida-db: every document delivered, exactly once, state kept current."""

from __future__ import annotations

import json

from elasticsearch import Elasticsearch
from es_helpers import alerts, as_json, citysec, findings

from findings import Finding, Scope

LOGS = "logs-citysec.*-test"


def counts(es: Elasticsearch) -> tuple[int, int]:
    es.indices.refresh(index=f"{LOGS},citysec-state", ignore_unavailable=True)
    return es.count(index=LOGS)["count"], es.count(index="citysec-state")["count"]


def ids_present(es: Elasticsearch, index: str, ids: list[str]) -> set[str]:
    seen: set[str] = set()
    for i in range(0, len(ids), 1000):
        chunk = ids[i:i + 1000]
        hits = es.search(index=index, query={"ids": {"values": chunk}}, size=len(chunk), source=False)
        seen |= {h["_id"] for h in hits["hits"]["hits"]}
    return seen


def test_ship_delivers_everything_once(city, es_server):
    config, store = city
    es = Elasticsearch(es_server.url)
    store.record(findings(1200, "run-1"), run_id="run-1")
    store.record(alerts(300, "run-1"), run_id="run-1")
    history = [r[0] for r in store.query("SELECT id FROM history")]
    events = [r[0] for r in store.query("SELECT id FROM events")]
    fingerprints = [r[0] for r in store.query("SELECT fingerprint FROM current")]

    first = as_json(citysec(config, "ship", "--json"))
    assert first["sent"] == 1200 + 1200 + 300 and first["dead_letters"] == 0
    assert first["remaining"] == 0 and store.outbox_depth() == 0
    assert counts(es) == (1500, 1200)
    assert ids_present(es, LOGS, history + events) == set(history + events)
    assert ids_present(es, "citysec-state", fingerprints) == set(fingerprints)
    es.indices.refresh(index="logs-citysec.logs-test")
    assert es.count(index="logs-citysec.logs-test")["count"] == 300  # dataset citysec.logs

    second = as_json(citysec(config, "ship", "--json"))
    assert second["sent"] == 0 and second["batches"] == 0
    assert counts(es) == (1500, 1200)

    # the same documents once more (as after a crash between bulk and bookkeeping): no duplicate
    with store.write() as c:
        c.execute("INSERT INTO outbox (stream, dataset, doc_id, body) SELECT 'history', dataset, id, doc FROM history")
        c.execute("INSERT INTO outbox (stream, dataset, doc_id, body) SELECT 'event', dataset, id, doc FROM events")
        c.execute("INSERT INTO outbox (stream, dataset, doc_id, body)"
                  " SELECT 'state', dataset, fingerprint, doc FROM current")
    third = as_json(citysec(config, "ship", "--json"))
    assert third["already"] >= 1500  # every history and event document: 409, already there
    assert third["already"] + third["sent"] == 2700 and third["dead_letters"] == 0
    assert counts(es) == (1500, 1200)


def test_state_index_follows_the_lifecycle(city, es_server):
    config, store = city
    es = Elasticsearch(es_server.url)
    open_ = findings(50, "run-a")
    store.record(open_, run_id="run-a")
    as_json(citysec(config, "ship", "--json"))
    # a complete run that sees none of them closes all 50
    scope = Scope(checks=frozenset({"exposure."}), agencies=frozenset(f.agency for f in open_))
    store.record([], run_id="run-b", scope=scope)
    as_json(citysec(config, "ship", "--json"))
    es.indices.refresh(index="citysec-state")
    doc = es.get(index="citysec-state", id=open_[0].fingerprint)["_source"]
    assert doc["citysec"]["status"] == "closed" and doc["citysec"]["verdict"] == "pass"
    closed = es.count(index="citysec-state", query={"bool": {"filter": [
        {"term": {"citysec.status": "closed"}},
        {"terms": {"citysec.fingerprint": [f.fingerprint for f in open_]}}]}})["count"]
    assert closed == 50


def test_scanned_text_never_creates_fields_and_new_areas_are_mapped(city, es_server):
    config, store = city
    es = Elasticsearch(es_server.url)
    weird = [Finding(check="firmware.version", agency="so-tttt", verdict="fail", host_ip=f"198.18.9.{i}",
                     details={f"key-{i}-{j}": f"value {j}" for j in range(40)}) for i in range(1, 60)]
    store.record(weird, run_id="run-fw")
    result = as_json(citysec(config, "ship", "--json"))
    assert result["dead_letters"] == 0 and result["remaining"] == 0
    mapping = es.indices.get_mapping(index="logs-citysec.firmware-test")["logs-citysec.firmware-test"]
    cs = mapping["mappings"]["properties"]["citysec"]["properties"]
    assert cs["firmware"] == {"type": "flattened", "ignore_above": 4096}
    assert not any(k.startswith("key-") for k in json.dumps(mapping).split('"'))
    es.indices.refresh(index="logs-citysec.firmware-test")
    hits = es.count(index="logs-citysec.firmware-test", query={"term": {"citysec.firmware.key-7-3": "value 3"}})
    assert hits["count"] == 1
