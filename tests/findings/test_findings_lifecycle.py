"""The lifecycle of a finding in the store: open, seen again, closed, reopened; what never closes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from findings.checks import Catalogue
from findings.store import Scope, Store

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CATALOGUE = Catalogue.from_mapping({
    "exposure.telnet": {
        "name": {"vi": "Telnet bị lộ", "en": "Telnet exposed"}, "severity": "high", "controls": ["TCVN11930:x.2.1.2", "CIS8:4.8"],
        "remediation": {"vi": "Tắt dịch vụ Telnet, dùng SSH.", "en": "Disable Telnet; use SSH."}},
    "exposure.scan": {
        "name": {"vi": "Quét được máy", "en": "Host could be scanned"}, "severity": "medium",
        "remediation": {"vi": "Kiểm tra kết nối tới máy.", "en": "Check the host is reachable."}},
})
TELNET, SCAN = CATALOGUE["exposure.telnet"], CATALOGUE["exposure.scan"]
SCOPE = Scope(checks=frozenset({"exposure."}), agencies=frozenset({"q-a", "q-b"}))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "f.db", clock=lambda: T0)
    yield s
    s.close()


def telnet(verdict: str, host: str = "198.18.202.11", at: datetime = T0, **kw):
    return TELNET.finding(agency=kw.pop("agency", "q-a"), verdict=verdict, host_ip=host, port=23,
                          transport="tcp", timestamp=at, **kw)


def run(store: Store, findings, *, at: datetime, complete: bool = True, scope: Scope = SCOPE):
    rid = store.start_run("services", run_id=f"services-{at:%H%M%S}-{len(findings)}-{complete}")
    res = store.record(findings, run_id=rid, scope=Scope(scope.checks, scope.agencies, scope.hosts, complete))
    store.finish_run(rid, "ok" if complete else "incomplete")
    return rid, res


def row(store: Store, f):
    return store.get(f.fingerprint)


def test_a_fail_opens_a_finding_with_the_checks_remediation_and_controls(store):
    f = telnet("fail", message="Telnet open on 198.18.202.11:23")
    _, res = run(store, [f], at=T0)
    assert res.opened == 1
    r = row(store, f)
    assert (r["status"], r["verdict"], r["severity"]) == ("open", "fail", "high")
    doc = json.loads(r["doc"])
    assert doc["citysec"]["remediation"] == {"vi": "Tắt dịch vụ Telnet, dùng SSH.", "en": "Disable Telnet; use SSH."}
    assert doc["citysec"]["controls"] == ["TCVN11930:x.2.1.2", "CIS8:4.8"]
    assert doc["rule"] == {"id": "exposure.telnet", "name": "Telnet exposed"}
    assert doc["citysec"]["status"] == "open" and doc["server"]["port"] == 23


def test_seeing_it_again_updates_last_seen_only(store):
    f1 = telnet("fail", at=T0)
    f2 = telnet("fail", at=T0 + timedelta(hours=6), message="banner changed")
    run(store, [f1], at=T0)
    _, res = run(store, [f2], at=T0 + timedelta(hours=6))
    assert res.updated == 1 and res.opened == 0
    r = row(store, f2)
    assert r["status"] == "open"
    assert r["first_seen"] == "2026-03-02T01:00:00.000Z" and r["last_seen"] == "2026-03-02T07:00:00.000Z"
    assert len(r["history"]) == 2


def test_a_complete_run_that_no_longer_sees_it_closes_it_and_seeing_it_again_reopens(store):
    f = telnet("fail")
    other = telnet("fail", host="198.18.202.12")
    run(store, [f, other], at=T0)
    _, res = run(store, [other], at=T0 + timedelta(hours=1))
    assert res.closed == 1
    assert row(store, f)["status"] == "closed" and row(store, other)["status"] == "open"
    _, res = run(store, [telnet("fail", at=T0 + timedelta(hours=2))], at=T0 + timedelta(hours=2))
    assert res.reopened == 1
    r = row(store, f)
    assert r["status"] == "reopened" and r["reopen_count"] == 1 and r["closed_at"] is None
    assert [h["status"] for h in r["history"]] == ["open", "closed", "reopened"]


def test_a_pass_closes_an_open_finding(store):
    run(store, [telnet("fail")], at=T0)
    _, res = run(store, [telnet("pass", at=T0 + timedelta(hours=1))], at=T0 + timedelta(hours=1))
    assert res.closed == 1 and row(store, telnet("pass"))["status"] == "closed"


def test_an_incomplete_run_closes_nothing(store):
    f = telnet("fail")
    run(store, [f], at=T0)
    _, res = run(store, [], at=T0 + timedelta(hours=1), complete=False)
    assert res.closed == 0 and row(store, f)["status"] == "open"


def test_a_host_with_an_error_or_incomplete_verdict_keeps_its_findings_open(store):
    f = telnet("fail", host="198.18.202.11")
    g = telnet("fail", host="198.18.202.12")
    h = telnet("fail", host="198.18.202.13")
    run(store, [f, g, h], at=T0)
    later = T0 + timedelta(hours=1)
    err = SCAN.finding(agency="q-a", verdict="error", host_ip="198.18.202.11", reason="nmap: host timeout",
                       timestamp=later)
    inc = SCAN.finding(agency="q-a", verdict="incomplete", host_ip="198.18.202.12",
                       reason="truncated XML", timestamp=later)
    _, res = run(store, [err, inc], at=later)
    assert row(store, f)["status"] == "open" and row(store, g)["status"] == "open"
    assert row(store, h)["status"] == "closed" and res.closed == 1
    assert row(store, err)["verdict"] == "error" and json.loads(row(store, err)["doc"])["event"]["reason"] == \
        "nmap: host timeout"


def test_a_complete_run_closes_only_inside_its_scope(store):
    a = telnet("fail", agency="q-a")
    b = telnet("fail", agency="q-b", host="198.18.203.11")
    run(store, [a, b], at=T0)
    only_a = Scope(frozenset({"exposure."}), frozenset({"q-a"}))
    run(store, [], at=T0 + timedelta(hours=1), scope=only_a)
    assert row(store, a)["status"] == "closed" and row(store, b)["status"] == "open"
    av_scope = Scope(frozenset({"av."}), frozenset({"q-b"}))
    run(store, [], at=T0 + timedelta(hours=2), scope=av_scope)
    assert row(store, b)["status"] == "open"
    hosts_scope = Scope(frozenset({"exposure."}), frozenset({"q-b"}), hosts=frozenset({"198.18.203.99"}))
    run(store, [], at=T0 + timedelta(hours=3), scope=hosts_scope)
    assert row(store, b)["status"] == "open"


def test_a_pass_never_seen_failing_is_recorded_closed_not_open(store):
    _, res = run(store, [telnet("pass")], at=T0)
    assert res.opened == 0 and res.passed == 1
    assert row(store, telnet("pass"))["status"] == "closed"
    assert store.current(status=("open", "reopened")) == []


def test_the_same_run_recording_the_same_observation_twice_keeps_one_history_row(store):
    rid = store.start_run("services", run_id="r1")
    store.record([telnet("fail")], run_id=rid)
    store.record([telnet("fail", message="again")], run_id=rid)
    assert len(row(store, telnet("fail"))["history"]) == 1
    ids = [r["doc_id"] for r in store.outbox_batch() if r["stream"] == "history"]
    assert len(ids) == len(set(ids)) == 1


def test_outbox_holds_one_state_document_per_fingerprint(store):
    for h in range(3):
        run(store, [telnet("fail", at=T0 + timedelta(hours=h))], at=T0 + timedelta(hours=h))
    streams = [r["stream"] for r in store.outbox_batch()]
    assert streams.count("state") == 1 and streams.count("history") == 3


def test_current_lists_most_severe_first(store):
    low = CATALOGUE.merged(Catalogue.from_mapping({"exposure.http": {
        "name": {"vi": "HTTP", "en": "HTTP"}, "severity": "low", "remediation": {"vi": "Dùng HTTPS.", "en": "Use HTTPS."}}}))
    f_low = low["exposure.http"].finding(agency="q-a", verdict="fail", host_ip="198.18.202.11", port=80,
                                         transport="tcp", timestamp=T0)
    f_crit = telnet("fail", severity="critical", host="198.18.202.12")
    f_med = SCAN.finding(agency="q-a", verdict="fail", host_ip="198.18.202.13", timestamp=T0)
    run(store, [f_low, telnet("fail"), f_crit, f_med], at=T0)
    assert [r["severity"] for r in store.current()] == ["critical", "high", "medium", "low"]
