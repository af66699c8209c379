"""The case engine with a fake transport (unit tests of the engine only)."""

from __future__ import annotations

import sqlite3

import pytest
from pb_helpers import alert

from findings.errors import StoreError, UsageError
from findings.model import to_document
from playbooks import CaseEngine, Wiring
from playbooks import operations as op
from playbooks.deadlines import Rule


def _states(view):
    return {s["id"]: s["state"] for s in view["steps"]}


def _open(engine, **kw):
    cid = engine.open_case("contain-test", agency="pb-a", findings=[to_document(alert(**kw))], host="198.19.49.10")
    return cid, engine.advance(cid)


def test_manual_step_and_approval_block_until_given(engine, transport):
    cid, view = _open(engine)
    assert _states(view)["triage"] == "waiting" and transport.calls == []
    view = op.complete_step(engine, cid, "triage", "an")
    assert _states(view)["who"] == "done" and _states(view)["approve-isolate"] == "waiting"
    assert view["status"] == "waiting"
    assert not any(argv[0] == "nft" for _, argv in transport.calls), "no isolation before approval"
    view = op.decide(engine, cid, "approve-isolate", "incident_lead", "lead-1", "approve")
    assert _states(view)["isolate"] == "pending", "one approver of two must not release the action"
    with pytest.raises(UsageError, match="second person"):
        op.decide(engine, cid, "approve-isolate", "incident_lead", "lead-1", "approve")
    with pytest.raises(UsageError, match="role"):
        op.decide(engine, cid, "approve-isolate", "soc", "someone", "approve")
    view = op.decide(engine, cid, "approve-isolate", "incident_lead", "lead-2", "approve")
    st = _states(view)
    assert st["isolate"] == st["block"] == st["release"] == "done" and st["lessons"] == "waiting"
    assert view["phase"] == "wrapup" and view["contained_at"] and view["response_ended_at"]
    view = op.complete_step(engine, cid, "lessons", "lead-1")
    assert view["status"] == "closed" and view["closed_at"]
    assert op.verify(engine, cid) == []


def test_decline_skips_the_covered_action(engine, transport):
    cid, _ = _open(engine)
    op.complete_step(engine, cid, "triage", "an")
    view = op.decide(engine, cid, "approve-isolate", "incident_lead", "lead-1", "decline")
    st = _states(view)
    assert st["approve-isolate"] == "declined" and st["isolate"] == "skipped"
    assert not any("citysec_isolate; add chain" in " ".join(argv) for _, argv in transport.calls)


def test_condition_skips_step_without_source(engine):
    cid, _ = _open(engine, source=None)
    op.complete_step(engine, cid, "triage", "an")
    op.decide(engine, cid, "approve-isolate", "incident_lead", "a", "approve")
    view = op.decide(engine, cid, "approve-isolate", "incident_lead", "b", "approve")
    assert _states(view)["block"] == "skipped"


def test_resume_after_crash_in_action_does_not_repeat(engine, transport, store, library, clock):
    cid, _ = _open(engine)
    op.complete_step(engine, cid, "triage", "an")
    op.decide(engine, cid, "approve-isolate", "incident_lead", "a", "approve")
    # the process dies inside isolate_host after nft ran: simulate by a transport that raises after
    calls = []

    class Dying:
        def exec(self, host, argv, *, timeout=60):
            rv = transport.exec(host, argv, timeout=timeout)
            calls.append(argv)
            if argv[-1].startswith("add table inet citysec_isolate; delete"):
                raise KeyboardInterrupt("crash")
            return rv
    dying = CaseEngine(store, library, Wiring(transport=Dying(), sensor_ips=("198.19.48.10",), privileged=()),
                       clock=clock)
    with pytest.raises(KeyboardInterrupt):
        op.decide(dying, cid, "approve-isolate", "incident_lead", "b", "approve")
    assert _states(engine.show(cid))["isolate"] == "running"
    before = len(transport.calls)
    fresh = CaseEngine(store, library, Wiring(transport=transport, sensor_ips=("198.19.48.10",), privileged=()),
                       clock=clock)
    assert fresh.resume_all() == [cid]
    view = fresh.show(cid)
    assert _states(view)["isolate"] == "done"
    isolate_runs = [a for _, a in transport.calls[before:] if "add chain inet citysec_isolate input" in " ".join(a)]
    assert isolate_runs == [], "the probe found the isolation in place: it must not run again"
    assert any(e["what"] == "action_found_done" for e in op_timeline(fresh, cid))
    # done steps are never run again by another resume
    n = len(transport.calls)
    fresh.resume_all()
    assert len(transport.calls) == n


def op_timeline(engine, cid):
    from playbooks.views import timeline
    return timeline(engine, cid)


def test_failed_action_blocks_then_retry(engine, transport):
    class Broken:
        def exec(self, host, argv, *, timeout=60):
            return 1, "", "who: not found"
    engine.w.transport = Broken()
    cid, _ = _open(engine)
    view = op.complete_step(engine, cid, "triage", "an")
    assert _states(view)["who"] == "failed" and view["status"] == "blocked"
    engine.w.transport = transport
    view = op.retry_step(engine, cid, "who", "an")
    assert _states(view)["who"] == "done"


def test_tampered_audit_log_fails_verification(engine, store):
    cid, _ = _open(engine)
    op.note(engine, cid, "called the agency", "an")
    assert op.verify(engine, cid) == []
    with pytest.raises(StoreError, match="append-only"), store.write() as c:
        c.execute("UPDATE case_audit SET actor='mallory' WHERE case_id=? AND seq=2", (cid,))
    # someone with the file drops the guard and rewrites an entry
    raw = sqlite3.connect(store.path)
    raw.execute("DROP TRIGGER case_audit_no_update")
    raw.execute("UPDATE case_audit SET data=replace(data, 'called', 'never called') WHERE case_id=? AND what='note'",
                (cid,))
    raw.commit()
    problems = op.verify(engine, cid)
    assert any("content changed" in p for p in problems)


def test_deleted_last_entry_is_detected(engine, store):
    cid, _ = _open(engine)
    raw = sqlite3.connect(store.path)
    raw.execute("DROP TRIGGER case_audit_no_delete")
    raw.execute("DELETE FROM case_audit WHERE case_id=? AND seq=(SELECT MAX(seq) FROM case_audit WHERE case_id=?)",
                (cid, cid))
    raw.commit()
    assert any("records" in p for p in op.verify(engine, cid))


def test_deadlines_count_from_detection_and_are_raised_when_missed(engine, store, clock):
    engine.w.deadline_rules = [Rule("notice", "notice", 24), Rule("final_report", "final", 72, "response_end")]
    cid, view = _open(engine)  # detected 07:30, opened 08:00
    d = {x["name"]: x for x in view["deadlines"]}
    assert d["notice"]["due"] == "2026-12-01T07:30:00.000Z" and d["notice"]["left"] == "23h 30m"
    assert d["final_report"]["due"] is None and not d["final_report"]["missed"]
    clock.advance(hours=23)
    assert op.raise_missed_deadlines(engine) == []
    clock.advance(hours=1)
    assert op.raise_missed_deadlines(engine) == [(cid, "notice")]
    assert op.raise_missed_deadlines(engine) == [], "raised once"
    alerts = store.events(kind="alert", check="case.deadline_missed")
    assert len(alerts) == 1 and cid in alerts[0]["doc"]
    assert {x["name"]: x for x in engine.show(cid)["deadlines"]}["notice"]["missed"]


def test_report_meets_its_deadline(engine, clock, tmp_path):
    engine.w.deadline_rules = [Rule("notice", "notice", 120)]
    cid, _ = _open(engine)
    out = op.generate_report(engine, cid, "notice", "an")
    assert all(p.startswith(str(tmp_path)) for p in out["files"])
    clock.advance(days=10)
    d = engine.show(cid)["deadlines"][0]
    assert d["met_at"] and not d["missed"] and op.raise_missed_deadlines(engine) == []


def test_case_events_reach_the_outbox(engine, store):
    cid, _ = _open(engine)
    rows = store.query("SELECT body FROM outbox WHERE dataset='citysec.case'")
    assert rows and all('"kind":"event"' in r["body"] for r in rows)
    assert any(f'"id":"{cid}"' in r["body"] and '"action":"opened"' in r["body"] for r in rows)


def test_manual_start_refused_when_playbook_forbids(engine, library):
    from playbooks.schema import Playbook
    lp = library["contain-test"]
    library["no-manual"] = type(lp)(Playbook.model_validate(
        {**lp.playbook.model_dump(by_alias=True), "id": "no-manual", "manual_start": False}), lp.path, lp.sha256, {})
    with pytest.raises(UsageError, match="by hand"):
        engine.open_case("no-manual", agency="pb-a")


def test_action_param_from_missing_reference_fails_clearly(engine):
    cid = engine.open_case("contain-test", agency="pb-a", findings=[], host=None)
    view = op.complete_step(engine, cid, "triage", "an")
    assert _states(view)["who"] == "failed"
    assert "no such value" in view["steps"][1]["result"].get("error", "") or any(
        "no such value" in str(e["data"]) for e in op_timeline(engine, cid))


def test_a_transaction_writes_a_change_and_its_audit_entry_together_or_neither(engine, store):
    from playbooks.casedb import case_row, steps_of
    cid, _ = _open(engine)
    case = case_row(store, cid)
    events = store.query("SELECT COUNT(*) FROM events")[0][0]
    with pytest.raises(UsageError, match="changed my mind"), engine.transaction(case) as tx:
        tx.set_step("triage", "done", "an", "step_done")
        raise UsageError("changed my mind")
    assert steps_of(store, cid)["triage"]["state"] == "waiting"
    assert case_row(store, cid)["audit_count"] == case["audit_count"]
    assert store.query("SELECT COUNT(*) FROM events")[0][0] == events, "no event for what was not written"
    with engine.transaction(case) as tx:
        tx.set_step("triage", "done", "an", "step_done")
    assert steps_of(store, cid)["triage"]["state"] == "done"
    assert case_row(store, cid)["audit_count"] == case["audit_count"] + 1
    assert op.verify(engine, cid) == []
    assert store.query("SELECT COUNT(*) FROM events")[0][0] == events + 1
