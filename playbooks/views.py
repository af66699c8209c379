"""Read-only views of cases: one case with its steps, record, deadlines and times; the list; the
timeline (its audit log)."""

from __future__ import annotations

import json
from typing import Any

from findings.model import parse_ts

from .casedb import TERMINAL, approvals_of, audit_rows, case_row, findings_of, steps_of

NIST_FIELDS = ("status", "summary", "indicators", "related_incidents", "actions", "chain_of_custody", "impact",
               "contacts", "evidence", "comments", "next_steps")


def _seconds(a: str | None, b: str | None) -> float | None:
    return (parse_ts(b) - parse_ts(a)).total_seconds() if a and b else None


def case_view(engine, case_id: str) -> dict[str, Any]:
    from .operations import case_deadlines
    case = case_row(engine.store, case_id)
    pb = engine.playbook(case["playbook"]).playbook
    steps = steps_of(engine.store, case["id"])
    out_steps = []
    for phase, s in pb.steps():
        st = steps[s.id]
        out_steps.append({"id": s.id, "phase": phase.id, "kind": s.kind, "title": s.title.model_dump(),
                          "role": s.role, "action": s.action, "state": st["state"], "attempts": st["attempts"],
                          "started_at": st["started_at"], "ended_at": st["ended_at"], "result": st["result"],
                          "checklist": [c.model_dump() for c in s.checklist], "evidence": s.evidence,
                          "time_limit": s.time_limit, "approvers": s.approvers if s.kind == "approval" else None})
    rec = case["record"]
    view = {k: case[k] for k in ("id", "playbook", "playbook_version", "playbook_sha256", "title", "incident_type",
                                 "severity", "agency", "host", "system", "level", "status", "phase", "dry_run",
                                 "detected_at", "opened_at", "acknowledged_at", "contained_at",
                                 "response_ended_at", "closed_at", "audit_count")}
    view["title_en"] = pb.title.en
    view["phase_model"] = pb.phase_model
    view["steps"] = out_steps
    view["approvals"] = approvals_of(engine.store, case["id"])
    view["findings"] = findings_of(engine.store, case["id"])
    view["record"] = rec
    view["nist"] = nist_record(view, rec)
    view["times"] = {"to_acknowledge": _seconds(case["detected_at"], case["acknowledged_at"]),
                     "to_contain": _seconds(case["detected_at"], case["contained_at"]),
                     "to_close": _seconds(case["detected_at"], case["closed_at"])}
    view["deadlines"] = [d.as_dict() for d in case_deadlines(engine, case, engine.clock())]
    return view


def nist_record(view: dict, rec: dict) -> dict[str, Any]:
    """The NIST SP 800-61 incident record fields of a case (pure)."""
    actions = [{"step": s["id"], "action": s["action"], "state": s["state"], "at": s["ended_at"]}
               for s in view["steps"] if s["kind"] == "action" and s["state"] != "pending"]
    indicators = list(rec.get("indicators", []))
    for f in view["findings"]:
        for key in ("source", "user", "host"):
            val = f.get(key, {}).get("ip") or f.get(key, {}).get("name")
            if val and key != "host":
                indicators.append(f"{key}: {val if isinstance(val, str) else val[0]}")
    evidence = list(rec.get("evidence", [])) + [i["stored_as"] for i in rec.get("chain_of_custody", [])]
    return {"status": view["status"], "summary": rec.get("summary"), "indicators": sorted(set(indicators)),
            "related_incidents": rec.get("related_incidents", []), "actions": actions,
            "chain_of_custody": rec.get("chain_of_custody", []), "impact": rec.get("impact"),
            "contacts": rec.get("contacts", []) + [f"{c.get('name')} ({c.get('role')})"
                                                    for c in rec.get("context", {}).get("contacts", [])],
            "evidence": evidence, "comments": rec.get("comments", []),
            "next_steps": [s["id"] for s in view["steps"] if s["state"] not in TERMINAL]}


def list_cases(engine, *, status: str | None = None, agency: str | None = None) -> list[dict[str, Any]]:
    where, params = ["1=1"], []
    if status == "active":
        where.append("status!='closed'")
    elif status:
        where.append("status=?"), params.append(status)
    if agency:
        where.append("agency=?"), params.append(agency)
    return [dict(r) for r in engine.store.query(
        "SELECT id, playbook, severity, agency, host, status, phase, dry_run, detected_at, opened_at, closed_at"
        " FROM cases WHERE " + " AND ".join(where) + " ORDER BY opened_at DESC", params)]


def timeline(engine, case_id: str) -> list[dict[str, Any]]:
    case = case_row(engine.store, case_id)
    return [{"seq": r["seq"], "ts": r["ts"], "actor": r["actor"], "what": r["what"], "data": json.loads(r["data"]),
             "hash": r["hash"]} for r in audit_rows(engine.store, case["id"])]
