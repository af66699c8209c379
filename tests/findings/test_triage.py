"""Triage on a real SQLite store: decisions, their end (date, change, withdrawal), the log's chain,
what gets queued for notification, deadlines and overdue findings."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from findings import Finding, Store, UsageError, triage
from findings.deadlines import Deadlines, overdue, queue_overdue, within_deadline
from tests.config.triage_support import Clock


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(tmp_path, clock):
    return Store(tmp_path / "s.db", clock=clock)


def telnet(clock, verdict="fail", severity="high", version="Linux telnetd", run="r1", port=23):
    return Finding(check="exposure.telnet", agency="ward", verdict=verdict, severity=severity,
                   message="telnet open", host_ip="198.19.208.11", port=port, transport="tcp",
                   service_name="telnet", service_version=version, details={"product": version},
                   timestamp=clock.now, run_id=run)


def queued(store):
    return [(r["kind"], r["fingerprint"]) for r in store.query("SELECT * FROM notify_queue ORDER BY ts, kind")]


def test_false_positive_stays_through_scans_and_flips_back_at_its_date(store, clock):
    f = telnet(clock)
    store.record([f])
    entry = triage.decide(store, f.fingerprint[:10], "false_positive", reason="a honeypot", by="lan",
                          until=clock.now + timedelta(days=10))
    assert entry["seq"] == 1 and entry["actor"] == "lan"
    for i in range(3):
        clock.now += timedelta(days=1)
        store.record([telnet(clock, run=f"r{i + 2}")])
        assert f.fingerprint in triage.active(store)
    assert [k for k, _ in queued(store)] == ["new"]       # the first sighting only
    clock.now += timedelta(days=8)
    assert f.fingerprint not in triage.active(store)     # its date passed: not in force any more
    ended = triage.expire(store)
    assert [e["action"] for e in ended] == ["expired"]
    assert [k for k, _ in queued(store)] == ["new", "expired"]
    assert triage.expire(store) == []                    # once
    assert store.get(f.fingerprint)["status"] == "open"


def test_acceptance_ends_when_the_product_changes_or_the_severity_rises(store, clock):
    store.record([telnet(clock)])
    fp = telnet(clock).fingerprint
    triage.decide(store, fp, "accepted", reason="replacement ordered", by="lan", approved_by="director",
                  until=clock.now + timedelta(days=90))
    store.record([telnet(clock, run="r2")])
    assert fp in triage.active(store)
    store.record([telnet(clock, version="BusyBox telnetd", run="r3")])
    assert fp not in triage.active(store)
    last = triage.log(store)[-1]
    assert last["action"] == "ended" and "product changed" in last["data"]["reason"]
    assert ("triage_ended", fp) in queued(store)
    triage.decide(store, fp, "accepted", reason="again", by="lan", until=clock.now + timedelta(days=9))
    store.record([telnet(clock, version="BusyBox telnetd", severity="critical", run="r4")])
    assert fp not in triage.active(store)
    assert "severity rose" in triage.log(store)[-1]["data"]["reason"]


def test_bad_input_is_refused_naming_what_is_wrong_and_nothing_is_written(store, clock):
    store.record([telnet(clock)])
    fp = telnet(clock).fingerprint
    cases = [
        ({"key": "ffff0000", "kind": "false_positive", "reason": "x", "by": "a"}, "unknown finding id"),
        ({"key": fp, "kind": "accepted", "reason": "x", "by": "a"}, "--until is missing"),
        ({"key": fp, "kind": "accepted", "reason": "x", "by": "a", "until": clock.now - timedelta(days=1)}, "in the past"),
        ({"key": fp, "kind": "false_positive", "reason": "  ", "by": "a"}, "--reason is missing"),
        ({"key": fp, "kind": "false_positive", "reason": "x", "by": ""}, "--by is missing"),
    ]
    for kw, words in cases:
        with pytest.raises(UsageError, match=words.replace("-", r"\-")):
            triage.decide(store, kw.pop("key"), kw.pop("kind"), **kw)
    assert triage.log(store) == [] and triage.active(store) == {}
    with pytest.raises(UsageError, match="neither accepted nor a false positive"):
        triage.withdraw(store, fp, by="a")


def test_the_log_detects_a_modified_line(store, clock):
    store.record([telnet(clock)])
    fp = telnet(clock).fingerprint
    triage.decide(store, fp, "false_positive", reason="scanner artefact", by="lan")
    triage.withdraw(store, fp, by="lan", reason="it is real")
    triage.decide(store, fp, "accepted", reason="budget 2027", by="lan", until=clock.now + timedelta(days=30))
    assert triage.verify(store) == []
    conn = sqlite3.connect(store.path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE triage_log SET actor='x' WHERE seq=2")
    # someone who drops the trigger and rewrites a line is still caught by the chain
    conn.execute("DROP TRIGGER triage_log_no_update")
    data = json.loads(conn.execute("SELECT data FROM triage_log WHERE seq=2").fetchone()[0])
    data["reason"] = "never mind"
    conn.execute("UPDATE triage_log SET data=? WHERE seq=2", (json.dumps(data),))
    conn.commit()
    problems = triage.verify(store)
    assert problems == ["triage log entry 2 (withdrawn by lan at 2026-11-30T08:00:00.000Z): content changed"]


def test_each_decision_goes_to_the_outbox_as_a_triage_event(store, clock):
    store.record([telnet(clock)])
    fp = telnet(clock).fingerprint
    triage.decide(store, fp, "false_positive", reason="lab", by="lan")
    rows = store.query("SELECT * FROM outbox WHERE dataset='citysec.triage'")
    assert len(rows) == 1
    doc = json.loads(rows[0]["body"])
    assert doc["event"]["kind"] == "event" and doc["user"]["name"] == "lan"
    assert doc["citysec"]["triage"]["reason"] == "lab" and doc["citysec"]["fingerprint"] == fp


def test_new_reopened_and_severity_rise_are_queued_once(store, clock):
    f = telnet(clock)
    store.record([f])
    store.record([f])                                    # the same observation again
    clock.now += timedelta(hours=1)
    store.record([telnet(clock, severity="critical", run="r2")])
    store.record([telnet(clock, verdict="pass", severity="info", run="r3")])
    clock.now += timedelta(hours=1)
    store.record([telnet(clock, severity="critical", run="r4")])
    assert [k for k, _ in queued(store)] == ["new", "severity_up", "reopened"]


def test_overdue_per_severity_and_agency_and_share_fixed_within_deadline(store, clock):
    d = Deadlines({"critical": 15, "high": 30}, {"ward": {"high": 10}})
    start = clock.now
    store.record([telnet(clock), telnet(clock, port=2323)])
    other = Finding(check="exposure.ftp", agency="dept", verdict="fail", severity="high", host_ip="198.19.209.5",
                    port=21, transport="tcp", timestamp=clock.now, run_id="r1")
    store.record([other])
    clock.now += timedelta(days=11)
    assert {r["agency"] for r in overdue(store, d)} == {"ward"}   # ward: 10 days; dept: 30
    triage.decide(store, telnet(clock, port=2323).fingerprint, "accepted", reason="r", by="b",
                  until=clock.now + timedelta(days=60))
    assert [r["port"] for r in overdue(store, d)] == [23]
    assert queue_overdue(store, d) == 1 and queue_overdue(store, d) == 1
    assert [k for k, _ in queued(store)].count("overdue") == 1       # once per opening
    store.record([other.with_(verdict="pass", severity="info", timestamp=clock.now, run_id="r2")])
    share = within_deadline(store, d, start, clock.now + timedelta(days=1))
    assert share["ward"] == {"met": 0, "late": 0, "overdue": 1, "accepted": 1, "pct": 0.0}
    assert share["dept"]["met"] == 1 and share["dept"]["pct"] == 100.0
