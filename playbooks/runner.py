"""Run one action step of a case, so that a crash at any point resumes without doing it twice.

The step is marked ``running`` (attempt n) before the action starts. When a case resumes and
finds a step ``running``, the previous process died inside the action: the action's probe is
asked whether its effect is already in place, and only if not is it run again (actions are
idempotent, so even that second run changes nothing that was done).
"""

from __future__ import annotations


from findings.errors import CitysecError

from .actions import ACTIONS
from .casedb import findings_of, resolve


def run_action(engine, case: dict, pb, step, st: dict, actor: str) -> bool:
    action = ACTIONS[step.action]
    dry = bool(case["dry_run"])
    if dry and not action.dry_run:
        engine.set_step(case, step.id, "skipped", actor, "action_skipped", reason="no dry run for this action")
        return True
    try:
        params = _params(engine, case, step)
    except CitysecError as exc:
        engine.set_step(case, step.id, "failed", actor, "action_failed", action=step.action, error=str(exc))
        return False
    resumed = st["state"] == "running"
    attempt = st["attempts"] + 1
    with engine.transaction(case) as tx:
        tx.start_step(step.id, attempt)
        tx.audit(actor, "action_started", step=step.id, action=step.action, params=params, dry_run=dry,
                 attempt=attempt, resumed=resumed)
    ctx = engine.action_context(case, step.id, actor)
    try:
        result = action.probe(ctx, params) if (resumed and action.probe and not dry) else None
        found = result is not None
        if result is None:
            result = action.run(ctx, params, dry)
    except CitysecError as exc:
        engine.set_step(case, step.id, "failed", actor, "action_failed", action=step.action, error=str(exc))
        return False
    result = dict(result) | {"dry_run": dry}
    what = "action_found_done" if found else "action_done"
    engine.set_step(case, step.id, "done", actor, what, result=result, action=step.action,
                      result_summary=_summary(result))
    _after(engine, case, step.action, result, actor)
    return True


def _params(engine, case: dict, step) -> dict:
    return resolve(dict(step.params), case, findings_of(engine.store, case["id"]))


def _summary(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("output", "custody", "payload")}


def _after(engine, case: dict, action: str, result: dict, actor: str) -> None:
    """Side effects on the case record: custody items, generated reports meet deadlines."""
    if result.get("dry_run"):
        return
    if action == "collect_evidence":
        with engine.transaction(case) as tx:
            rec = tx.record()
            have = {(i["host"], i["path"], i["sha256"]) for i in rec.get("chain_of_custody", [])}
            rec.setdefault("chain_of_custody", []).extend(
                i for i in result["custody"] if (i["host"], i["path"], i["sha256"]) not in have)
            tx.save_record(rec)
    if action == "generate_report":
        from .operations import mark_report
        mark_report(engine, case, result["kind"], result.get("files", []), actor)
