"""What people do to a case: finish a manual step, note, set a record field, approve or decline,
generate a report; and what the engine checks: the audit chain, the deadlines."""

from __future__ import annotations

from datetime import datetime

from findings.errors import UsageError
from findings.model import Finding, iso

from . import audit, deadlines
from .actions import ACTIONS
from .actions.report import KINDS
from .casedb import LIST_FIELDS, TERMINAL, audit_rows, case_row, steps_of
from .fields import check_field


def _step(engine, case: dict, step_id: str):
    pb = engine.playbook(case["playbook"]).playbook
    try:
        return pb.step(step_id)
    except KeyError:
        raise UsageError(f"case {case['id']}: playbook {pb.id} has no step {step_id!r};"
                         f" steps: {', '.join(s.id for _, s in pb.steps())}") from None


def complete_step(engine, case_id: str, step_id: str, actor: str, note: str | None = None) -> dict:
    """A manual step done (any time), or a failed action finished by hand."""
    case = case_row(engine.store, case_id)
    step = _step(engine, case, step_id)
    state = steps_of(engine.store, case["id"])[step_id]["state"]
    if step.kind == "approval":
        raise UsageError(f"{step_id} is an approval: use `case approve` or `case decline`")
    if state in TERMINAL:
        raise UsageError(f"step {step_id} is already {state}")
    if step.kind == "action" and state != "failed":
        raise UsageError(f"step {step_id} is an automated action ({state}); only a failed one can be done by hand")
    with engine.transaction(case) as tx:
        tx.acknowledge()
        tx.set_step(step_id, "done", actor, "step_done" if step.kind == "manual" else "step_done_by_hand",
                    result={"note": note} if note else {}, note=note)
    return engine.advance(case["id"], actor)


def retry_step(engine, case_id: str, step_id: str, actor: str) -> dict:
    case = case_row(engine.store, case_id)
    _step(engine, case, step_id)
    if steps_of(engine.store, case["id"])[step_id]["state"] != "failed":
        raise UsageError(f"step {step_id} has not failed: nothing to retry")
    engine.set_step(case, step_id, "pending", actor, "step_retry")
    return engine.advance(case["id"], actor)


def note(engine, case_id: str, text: str, actor: str, step_id: str | None = None) -> None:
    case = case_row(engine.store, case_id)
    if step_id:
        _step(engine, case, step_id)
    with engine.transaction(case) as tx:
        tx.acknowledge()
        rec = tx.record()
        rec.setdefault("comments", []).append({"at": tx.now(), "by": actor, "step": step_id, "text": text})
        tx.save_record(rec)
        tx.audit(actor, "note", step=step_id, text=text)


def set_field(engine, case_id: str, name: str, value: str, actor: str) -> str | int:
    """Set (list fields: append) a record field; the value is checked first (see ``fields``)."""
    value = check_field(name, value, {r.when for r in engine.w.deadline_rules if r.when})
    case = case_row(engine.store, case_id)
    with engine.transaction(case) as tx:
        tx.acknowledge()
        rec = tx.record()
        if name in LIST_FIELDS:
            rec.setdefault(name, []).append(value)
        else:
            rec[name] = value
        tx.save_record(rec)
        tx.audit(actor, "field_set", field=name, value=value)
    return value


def decide(engine, case_id: str, step_id: str, role: str, actor: str, decision: str) -> dict:
    """Approve or decline an approval step as ``role``. A decline skips the steps it covers."""
    case = case_row(engine.store, case_id)
    step = _step(engine, case, step_id)
    if step.kind != "approval":
        raise UsageError(f"step {step_id} is not an approval step")
    if role != step.role:
        raise UsageError(f"step {step_id} must be decided by role {step.role!r}, not {role!r}")
    if steps_of(engine.store, case["id"])[step_id]["state"] in TERMINAL:
        raise UsageError(f"step {step_id} is already decided")
    with engine.transaction(case) as tx:
        tx.decide(step_id, actor, role, decision)
        tx.acknowledge()
        tx.audit(actor, f"approval_{decision}", step=step_id, role=role)
        if decision == "decline":
            tx.set_step(step_id, "declined", actor, "approval_declined", role=role)
            for target in step.covers:
                tx.set_step(target, "skipped", actor, "step_skipped", reason=f"declined at {step_id}")
    return engine.advance(case["id"], actor)


def generate_report(engine, case_id: str, kind: str, actor: str, langs: list[str] | None = None,
                    dry_run: bool = False) -> dict:
    if kind not in KINDS:
        raise UsageError(f"report kind must be one of {', '.join(KINDS)}")
    case = case_row(engine.store, case_id)
    ctx = engine.action_context(case, None, actor)
    result = ACTIONS["generate_report"].run(ctx, {"kind": kind, "langs": langs or ["vi", "en"]}, dry_run)
    if not dry_run:
        mark_report(engine, case, kind, result["files"], actor)
    return result


def mark_report(engine, case: dict, kind: str, files: list[str], actor: str) -> None:
    with engine.transaction(case) as tx:
        for rule in engine.w.deadline_rules:
            if rule.report == kind:
                tx.deadline_met(rule.name)
        tx.audit(actor, "report_generated", kind=kind, files=files)


def verify(engine, case_id: str) -> list[str]:
    case = case_row(engine.store, case_id)
    return audit.verify_chain(audit_rows(engine.store, case["id"]), case["audit_head"], case["audit_count"])


def case_deadlines(engine, case: dict, now: datetime) -> list[deadlines.Deadline]:
    met = {r["name"]: r["met_at"] for r in engine.store.query(
        "SELECT name, met_at FROM case_deadlines WHERE case_id=?", (case["id"],))}
    return deadlines.compute(engine.w.deadline_rules, severity=case["severity"], detected_at=case["detected_at"],
                             response_ended_at=case["response_ended_at"], met=met, now=now,
                             conditions=frozenset(case["record"].get("conditions", [])))


def raise_missed_deadlines(engine, actor: str = "citysec") -> list[tuple[str, str]]:
    """For every case, each deadline missed and not yet raised: an audit entry and an alert. A dry
    run is no incident: nothing is due for it."""
    now, raised = engine.clock(), []
    rows = engine.store.query("SELECT id FROM cases WHERE dry_run=0 ORDER BY opened_at")
    for r in rows:
        case = case_row(engine.store, r["id"])
        done = {x["name"] for x in engine.store.query(
            "SELECT name FROM case_deadlines WHERE case_id=? AND missed_raised_at IS NOT NULL", (case["id"],))}
        for d in case_deadlines(engine, case, now):
            if not d.missed or d.name in done:
                continue
            with engine.transaction(case) as tx:
                tx.deadline_raised(d.name)
                tx.audit(actor, "deadline_missed", deadline=d.name, due=iso(d.due))
            engine.store.record([Finding(
                check="case.deadline_missed", agency=case["agency"], kind="alert", dataset="citysec.case",
                severity="high", subject=f"{case['id']}:{d.name}", timestamp=now,
                message=f"case {case['id']}: deadline {d.name} ({d.report} report) was due {iso(d.due)}",
                details={"id": case["id"], "deadline": d.name, "due": iso(d.due), "playbook": case["playbook"]})])
            raised.append((case["id"], d.name))
    return raised
