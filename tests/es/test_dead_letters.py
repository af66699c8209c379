"""Documents the server rejects: dead letters with its reason, the rest shipped, never retried forever."""

from __future__ import annotations

import json
import re

from elasticsearch import Elasticsearch
from es_helpers import as_json, citysec, findings

from findings import Finding


def test_mapping_conflict_goes_to_dead_letters_with_the_reason(city, es_server):
    config, store = city
    es = Elasticsearch(es_server.url)
    good = findings(200, "r1")
    # host.ip is mapped as ip: an address a collector got wrong is an incompatible value
    bad = Finding(check="exposure.telnet", agency="so-tttt", verdict="fail", host_ip="not-an-ip", port=23,
                  transport="tcp", run_id="r1")
    store.record([*good[:100], bad, *good[100:]], run_id="r1")
    # and a document with a key our strict namespace does not know
    body = json.loads(store.query("SELECT body FROM outbox WHERE stream='history' LIMIT 1")[0][0])
    body["citysec"]["scanned_banner_field"] = "BusyBox"
    body["event"]["id"] = "crafted-strict-0001"
    with store.write() as c:
        c.execute("INSERT INTO outbox (stream, dataset, doc_id, body) VALUES ('history', 'citysec.exposure', ?, ?)",
                  ("crafted-strict-0001", json.dumps(body)))

    result = as_json(citysec(config, "ship", "--json"))
    assert result["dead_letters"] == 3  # bad's history and state, the crafted one
    assert result["sent"] == 400 and result["remaining"] == 0

    dead = {d["doc_id"]: d for d in store.dead_letters()}
    assert set(dead) == {bad.id, bad.fingerprint, "crafted-strict-0001"}
    assert dead[bad.id]["status"] == 400
    assert "document_parsing_exception" in dead[bad.id]["reason"] and "host.ip" in dead[bad.id]["reason"]
    assert "strict_dynamic_mapping_exception" in dead["crafted-strict-0001"]["reason"]
    assert "scanned_banner_field" in dead["crafted-strict-0001"]["reason"]
    es.indices.refresh(index="logs-citysec.*-test,citysec-state")
    assert es.count(index="logs-citysec.*-test")["count"] == 200
    assert es.count(index="citysec-state")["count"] == 200

    status = as_json(citysec(config, "status", "--json"))
    assert status["store"]["dead_letters"] == 3
    assert status["elasticsearch"]["reachable"] is True
    reasons = [d["reason"] for d in status["elasticsearch"]["latest_dead_letters"]]
    assert any("host.ip" in r for r in reasons)
    text = citysec(config, "status")
    assert text.returncode == 0 and re.search(r"^  dead letters +3$", text.stdout, re.M), text.stdout

    # not retried by later ships; put back on request, rejected again, never dropped
    again = as_json(citysec(config, "ship", "--json"))
    assert again["batches"] == 0 and len(store.dead_letters()) == 3
    requeued = as_json(citysec(config, "ship", "--requeue-dead-letters", "--json"))
    assert requeued["dead_letters"] == 3 and len(store.dead_letters()) == 3
    assert store.outbox_depth() == 0
