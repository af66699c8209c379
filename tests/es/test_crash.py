"""Outages: the server killed mid-ship, down before a ship, losing acknowledged writes."""

from __future__ import annotations

import json
import subprocess
import time

from elasticsearch import Elasticsearch
from es_helpers import CITYSEC, as_json, citysec, findings, write_config

from findings import Store
from tests.es_server import EsServer

LOGS = "logs-citysec.*-test"


def exactly_once(es: Elasticsearch, store: Store) -> None:
    """Every history document and state once on the server, nothing else."""
    es.indices.refresh(index=f"{LOGS},citysec-state")
    history = [r[0] for r in store.query("SELECT id FROM history")]
    states = [r[0] for r in store.query("SELECT fingerprint FROM current")]
    assert es.count(index=LOGS)["count"] == len(history)
    assert es.count(index="citysec-state")["count"] == len(states)
    for index, ids in ((LOGS, history), ("citysec-state", states)):
        seen: set[str] = set()
        for i in range(0, len(ids), 5000):
            chunk = ids[i:i + 5000]
            hits = es.search(index=index, query={"ids": {"values": chunk}}, size=len(chunk), source=False)
            seen |= {h["_id"] for h in hits["hits"]["hits"]}
        assert seen == set(ids)


def test_server_killed_mid_ship_then_restarted(tmp_path):
    server = EsServer(tmp_path / "noida").start()
    try:
        config = write_config(tmp_path, server.url)
        store = Store(tmp_path / "citysec.db", synchronous="NORMAL")
        store.record(findings(8000, "big"), run_id="big")
        total = store.outbox_depth()
        assert total == 16000
        as_json(citysec(config, "es", "setup", "--json"))

        ship = subprocess.Popen([CITYSEC, "--config", str(config), "ship", "--retry-for", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while store.outbox_depth() > total - 4000 and ship.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ship.poll() is None, "the ship ended before the server could be killed"
        server.kill()
        _out, err = ship.communicate(timeout=120)
        assert ship.returncode == 3, err
        assert "unreachable" in err and "stay in the outbox" in err
        left = store.outbox_depth()
        assert 0 < left < total

        server.start()
        second = as_json(citysec(config, "ship", "--json"))
        print("second ship after the crash:", second)
        assert second["remaining"] == 0 and second["dead_letters"] == 0
        # what the dead server had acknowledged but not kept came back from the sent journal
        assert second["sent"] + second["already"] >= left
        exactly_once(Elasticsearch(server.url), store)
    finally:
        server.stop()


def test_down_before_ship_then_back_within_the_retry_period(tmp_path):
    server = EsServer(tmp_path / "noida").start()
    try:
        config = write_config(tmp_path, server.url)
        store = Store(tmp_path / "citysec.db", synchronous="NORMAL")
        store.record(findings(500, "r1"), run_id="r1")
        server.stop()
        ship = subprocess.Popen([CITYSEC, "--config", str(config), "ship", "--json", "--retry-for", "120"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert ship.poll() is None  # still retrying, with backoff
        server.start()
        out, err = ship.communicate(timeout=180)
        assert ship.returncode == 0, err
        assert json.loads(out)["retries"] > 0  # connection refused, backed off, then delivered
        exactly_once(Elasticsearch(server.url), store)
    finally:
        server.stop()


def test_unreachable_exits_3_and_keeps_the_outbox(tmp_path):
    from tests.es_server import free_port
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    store = Store(tmp_path / "citysec.db")
    store.record(findings(20, "r1"), run_id="r1")
    proc = citysec(config, "ship", "--retry-for", "0.5")
    assert proc.returncode == 3
    assert "unreachable" in proc.stderr and "40 documents stay in the outbox" in proc.stderr
    assert store.outbox_depth() == 40
    status = as_json(citysec(config, "status", "--json"))
    assert status["elasticsearch"]["reachable"] is False
    assert status["store"]["outbox_depth"] == 40
    runs = store.runs("ship")
    assert runs[0]["outcome"] == "failed" and "unreachable" in runs[0]["error"]


def test_acknowledged_writes_the_server_lost_are_sent_again(city, es_server):
    config, store = city
    es = Elasticsearch(es_server.url)
    store.record(findings(100, "r1"), run_id="r1")
    as_json(citysec(config, "ship", "--json"))
    lost = [r[0] for r in store.query("SELECT id FROM history LIMIT 30")]
    es.indices.refresh(index=LOGS)
    es.delete_by_query(index=LOGS, query={"ids": {"values": lost}}, refresh=True)
    es.indices.refresh(index=LOGS)
    assert es.count(index=LOGS)["count"] == 70
    with store.write() as c:  # a minute later: past the settle time, the journal is looked up
        c.execute("UPDATE outbox_sent SET sent_at = sent_at - 60")
    again = as_json(citysec(config, "ship", "--json"))
    assert again["requeued"] == 30 and again["sent"] == 30
    exactly_once(es, store)
