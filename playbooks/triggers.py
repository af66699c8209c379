"""Triggers: which new findings and alerts open a case. ``matches`` is pure; ``evaluate`` reads
what the store received since its cursor (alerts from ``events``, failed checks from
``history``), opens one case per playbook and finding identity, and attaches repeats to it."""

from __future__ import annotations

import json
from collections.abc import Callable

from findings.model import SEVERITIES

from .schema import Playbook, Trigger


def trigger_matches(t: Trigger, doc: dict, zone: str | None) -> bool:
    cs, ev = doc.get("citysec", {}), doc.get("event", {})
    check = cs.get("check", "")
    if not any(check == c or (c.endswith(".") and check.startswith(c)) for c in t.checks):
        return False
    if ev.get("kind") not in t.kinds:
        return False
    if ev.get("kind") == "state" and cs.get("verdict") != "fail":
        return False
    if SEVERITIES.index(cs.get("severity", "info")) < SEVERITIES.index(t.severity_at_least):
        return False
    if t.agencies and doc.get("organization", {}).get("id") not in t.agencies:
        return False
    return not t.zones or zone in t.zones


def matching_playbooks(playbooks: list[Playbook], doc: dict, zone: str | None) -> list[Playbook]:
    return [pb for pb in playbooks if any(trigger_matches(t, doc, zone) for t in pb.triggers)]


def _cursor(store, name: str) -> int:
    rows = store.query("SELECT value FROM case_cursor WHERE name=?", (name,))
    return rows[0][0] if rows else 0


def _new_docs(store) -> tuple[list[dict], dict[str, int]]:
    ev, hi = _cursor(store, "events"), _cursor(store, "history")
    top_e = store.query("SELECT COALESCE(MAX(rowid), 0) FROM events")[0][0]
    top_h = store.query("SELECT COALESCE(MAX(rowid), 0) FROM history")[0][0]
    alerts = store.query("SELECT rowid, doc FROM events WHERE kind='alert' AND rowid>? AND rowid<=?"
                         " AND dataset!='citysec.case' ORDER BY rowid", (ev, top_e))
    fails = store.query("SELECT rowid, doc FROM history WHERE verdict='fail' AND rowid>? AND rowid<=?"
                        " ORDER BY rowid", (hi, top_h))
    return [json.loads(r["doc"]) for r in [*alerts, *fails]], {"events": top_e, "history": top_h}


def evaluate(engine, *, zone_of: Callable[[str, str | None], str | None] = lambda a, h: None,
             context_of: Callable[[str, str | None], dict] = lambda a, h: {}, actor: str = "citysec") -> dict:
    """Open (or attach to) cases for what arrived since the last call. Returns counts."""
    docs, tops = _new_docs(engine.store)
    playbooks = [lp.playbook for lp in engine.library.values()]
    counts = {"seen": len(docs), "opened": 0, "attached": 0}
    for doc in docs:
        agency = doc["organization"]["id"]
        host = (doc.get("host", {}).get("ip") or [None])[0] or doc.get("host", {}).get("name")
        for pb in matching_playbooks(playbooks, doc, zone_of(agency, host)):
            ctx = context_of(agency, host)
            key = doc["citysec"]["fingerprint"]
            existing = engine.store.query("SELECT id FROM cases WHERE playbook=? AND trigger_key=? AND status!='closed'",
                                          (pb.id, key))
            if existing:
                counts["attached"] += engine.attach(existing[0]["id"], doc, actor)
                continue
            case_id = engine.open_case(pb.id, agency=agency, findings=[doc], host=host, system=ctx.get("system_id"),
                                       level=ctx.get("level"), context=ctx, actor=actor, trigger_key=key,
                                       by_hand=False)
            counts["opened"] += 1
            engine.advance(case_id, actor)
    with engine.store.write() as c:
        for name, value in tops.items():
            c.execute("INSERT INTO case_cursor VALUES (?,?) ON CONFLICT(name) DO UPDATE SET value=excluded.value",
                      (name, value))
    return counts
