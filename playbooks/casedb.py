"""Case persistence in the findings store's SQLite file: tables, rows, and the case view that
steps' parameters and conditions read (``$case.host``, ``$finding.source_ip``)."""

from __future__ import annotations

import json
from typing import Any

from findings.errors import UsageError
from findings.model import from_document
from findings.schema import Schema, sql_migrations
from findings.store import Store

# the case tables (playbooks/migrations/NNNN_*.sql)
SCHEMA = Schema("playbooks", sql_migrations("playbooks"))
TERMINAL = ("done", "skipped", "declined")
# Fields a responder may set on a case: the NIST SP 800-61 record and Decision 05/2017 art. 11.4.
LIST_FIELDS = ("indicators", "related_incidents", "contacts", "evidence", "comments", "measures",
               "helpers", "attachments", "public_addresses", "services", "security_measures", "supporters",
               "conditions")
TEXT_FIELDS = ("summary", "impact", "symptoms", "harm_estimate", "spread", "infrastructure_provider",
               "first_result", "recommendations", "detection_method", "handled", "root_cause", "lessons",
               "help", "damage_vnd")
SETTABLE = LIST_FIELDS + TEXT_FIELDS


def ensure_tables(store: Store) -> None:
    """The case tables in ``store`` (created or migrated once per Store)."""
    store.require(SCHEMA)


def case_row(store: Store, case_id: str) -> dict[str, Any]:
    rows = store.query("SELECT * FROM cases WHERE id=? OR id LIKE ? LIMIT 2", (case_id, case_id + "%"))
    exact = [r for r in rows if r["id"] == case_id]
    if len(exact) == 1 or len(rows) == 1:
        row = dict((exact or rows)[0])
        row["record"] = json.loads(row["record"])
        return row
    raise UsageError(f"no single case with id {case_id!r}")


def steps_of(store: Store, case_id: str) -> dict[str, dict[str, Any]]:
    rows = store.query("SELECT * FROM case_steps WHERE case_id=?", (case_id,))
    return {r["step_id"]: dict(r) | {"result": json.loads(r["result"])} for r in rows}


def findings_of(store: Store, case_id: str) -> list[dict[str, Any]]:
    return [json.loads(r["doc"]) for r in store.query(
        "SELECT doc FROM case_findings WHERE case_id=? ORDER BY rowid", (case_id,))]


def approvals_of(store: Store, case_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in store.query(
        "SELECT step_id, actor, role, decision, at FROM case_approvals WHERE case_id=? ORDER BY at", (case_id,))]


def audit_rows(store: Store, case_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in store.query("SELECT * FROM case_audit WHERE case_id=? ORDER BY seq", (case_id,))]


def lookup(case: dict[str, Any], findings: list[dict[str, Any]], ref: str) -> Any:
    """The value of ``case.<field>`` or ``finding.<field>`` (the first finding), or None (pure)."""
    root, _, rest = ref.partition(".")
    if root == "case":
        node: Any = {**case.get("record", {}).get("context", {}), **case}
    else:
        if not findings:
            return None
        f = from_document(findings[0])
        node = {k: getattr(f, k) for k in f.__slots__} | {"details": dict(f.details)}
    for part in rest.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def resolve(params: Any, case: dict, findings: list[dict]) -> Any:
    """Parameters with every ``$case.x`` / ``$finding.x`` replaced by its value (pure)."""
    if isinstance(params, str) and params.startswith("$"):
        value = lookup(case, findings, params[1:])
        if value is None:
            raise UsageError(f"parameter {params}: the case has no such value")
        return value
    if isinstance(params, dict):
        return {k: resolve(v, case, findings) for k, v in params.items()}
    if isinstance(params, list):
        return [resolve(v, case, findings) for v in params]
    return params


def condition_holds(cond, case: dict, findings: list[dict]) -> bool:
    if cond is None:
        return True
    value = lookup(case, findings, cond.field)
    if cond.present is not None and (value not in (None, "", [])) != cond.present:
        return False
    if cond.equals is not None and value != cond.equals:
        return False
    if cond.in_ is not None and value not in cond.in_:
        return False
    return True
