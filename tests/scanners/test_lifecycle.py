"""Recorded nmap runs through the judge and the store: a partial run marks hosts incomplete and
closes nothing; a complete run closes what is gone. Discovery's judge: rogue and stale hosts."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from findings.store import Scope, Store
from scanners.diff import diff
from scanners.discovery import Live, judge
from scanners.nmaprun import NmapRun
from scanners.nmapxml import parse
from scanners.services import judge_run

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "scanners")


def run_of(name: str, rc: int = 0) -> NmapRun:
    with open(os.path.join(FIXTURES, name), "rb") as fh:
        return NmapRun(parse(fh.read()), rc, "", ["nmap"])


def record(store, result, run_id):
    store.start_run("services", run_id=run_id)
    scope = Scope(checks=frozenset({"exposure."}), agencies=frozenset({"soc", "ward", "dept"}),
                  hosts=frozenset(result.complete_hosts), complete=not result.partial)
    rec = store.record(result.findings, run_id=run_id, scope=scope)
    store.finish_run(run_id, "ok")
    return rec


def test_partial_run_is_incomplete_and_closes_nothing(tmp_path, agencies, policy, cat):
    store = Store(tmp_path / "s.db")
    full = judge_run(run_of("complete.xml"), agencies, policy.rules, cat, expected=(), netns=None,
                     sensor="sc-soc", run_id="r1", enrich=False)
    assert not full.partial and not full.incomplete_hosts
    fails = {(f.host_ip, f.port, f.check) for f in full.findings if f.verdict == "fail"}
    assert ("198.19.17.12", 8080, "exposure.http-admin") in fails
    assert ("198.19.16.20", 161, "exposure.snmp-public") in fails
    assert ("198.19.19.10", 9200, "exposure.elasticsearch") in fails
    record(store, full, "r1")
    open_before = {r["fingerprint"] for r in store.current(status=("open", "reopened"))}

    killed = judge_run(run_of("truncated.xml", rc=-9), agencies, policy.rules, cat,
                       expected={"198.19.17.12", "198.19.18.10", "198.19.19.10"}, netns=None, sensor="sc-soc",
                       run_id="r2", enrich=False)
    assert killed.partial and "killed (signal 9)" in killed.why
    assert set(killed.incomplete_hosts) == {"198.19.17.12", "198.19.18.10", "198.19.19.10"}
    rec = record(store, killed, "r2")
    assert rec.closed == 0
    assert open_before <= {r["fingerprint"] for r in store.current(status=("open", "reopened"))}
    scan = {r["host"]: r["verdict"] for r in store.current(check="exposure.scan")}
    assert scan["198.19.18.10"] == "incomplete" and scan["198.19.16.20"] == "pass"
    d = diff(store)
    assert d["counts"]["gone"] == 0 and d["counts"]["unchanged"] > 0    # a killed run makes nothing "gone"


def test_complete_run_closes_a_stopped_service_and_diff_shows_it(tmp_path, agencies, policy, cat):
    store = Store(tmp_path / "s.db")
    first = judge_run(run_of("complete.xml"), agencies, policy.rules, cat, expected=(), netns=None,
                      sensor=None, run_id="r1", enrich=False)
    record(store, first, "r1")
    second = judge_run(run_of("complete.xml"), agencies, policy.rules, cat, expected=(), netns=None,
                       sensor=None, run_id="r2", enrich=False)
    second.findings = [f for f in second.findings if not (f.host_ip == "198.19.17.11" and f.port == 23)]
    rec = record(store, second, "r2")
    assert rec.closed == 1
    (telnet,) = store.current(check="exposure.telnet")
    assert telnet["status"] == "closed"
    d = diff(store)
    assert d["hosts"]["198.19.17.11"] == {"baseline_run": "r1", "current_run": "r2"}
    assert [(i["host"], i["port"]) for i in d["gone"]] == [("198.19.17.11", 23)]
    assert d["gone"][0]["status"] == "closed" and d["counts"]["new"] == 0 and d["counts"]["unchanged"] > 10


def test_discovery_judge_flags_rogue_and_stale(cat, agencies):
    now = datetime(2026, 11, 30, tzinfo=UTC)
    live = {ip: Live(ip) for ip in ("198.19.17.11", "198.19.17.12", "198.19.17.66")}
    out = judge(agencies["ward"], live, now=now, checks=cat.check, since=now - timedelta(days=30),
                last_seen={"198.19.17.99": now - timedelta(days=8)})
    verdicts = {(f.check, f.host_ip): f.verdict for f in out if f.kind == "state"}
    assert verdicts[("discovery.rogue", "198.19.17.66")] == "fail"
    assert verdicts[("discovery.rogue", "198.19.17.11")] == "pass"
    assert verdicts[("discovery.stale", "198.19.17.99")] == "fail"          # 8 days > stale_after_days 7
    assert sum(f.kind == "asset" for f in out) == 3
    recent = judge(agencies["ward"], live, now=now, checks=cat.check, since=now - timedelta(days=30),
                   last_seen={"198.19.17.99": now - timedelta(days=2)})
    assert ("discovery.stale", "198.19.17.99") not in {(f.check, f.host_ip) for f in recent}


def test_findings_carry_the_registered_host_name(agencies, policy, cat):
    """A person reads host names, not addresses: the register names every known host."""
    result = judge_run(run_of("complete.xml"), agencies, policy.rules, cat, expected=(), netns=None,
                       sensor=None, run_id="r1", enrich=False)
    names = {f.host_ip: f.host_name for f in result.findings}
    registered = {h.ip: h.name for a in agencies.values() for h in a.hosts}
    assert names and all(names[ip] == registered[ip] for ip in names if ip in registered)
    assert any(ip in registered for ip in names)


def test_a_run_closes_only_findings_on_the_ports_it_looked_at(tmp_path, agencies, policy, cat):
    store = Store(tmp_path / "s.db")
    record(store, judge_run(run_of("complete.xml"), agencies, policy.rules, cat, expected=(), netns=None,
                            sensor=None, run_id="r1", enrich=False), "r1")
    store.start_run("portsweep", run_id="r2")
    sweep = Scope(checks=frozenset({"exposure."}), agencies=frozenset({"soc", "ward", "dept"}),
                  hosts=frozenset({"198.19.16.20", "198.19.17.11"}), complete=True,
                  ports=frozenset((p, "tcp") for p in range(1, 101)))      # a TCP sweep of 1-100 saw nothing
    store.record([], run_id="r2", scope=sweep)
    status = {(r["host"], r["port"]): r["status"] for r in store.current(check="exposure") if r["port"]}
    assert status[("198.19.17.11", 23)] == "closed"                        # telnet 23/tcp: looked at, gone
    assert status[("198.19.16.20", 161)] == "open"                         # snmp-public 161/udp: not asked
