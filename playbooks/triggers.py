"""Triggers: which new findings and alerts open a case. ``trigger_matches`` and
``correlation_key`` are pure; ``evaluate`` reads what the store received since its cursor (alerts
from ``events``, failed checks from ``history``) and opens one case per incident: a finding whose
playbook already has an open case with the same correlation key (same agency and host, or for
brute force the same source address) is attached to that case instead of opening another."""

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
    """The playbooks whose case a finding opens or joins. One problem is one incident: a playbook
    superseded by another matching one (``supersedes``) does not take it."""
    hits = [pb for pb in playbooks if any(trigger_matches(t, doc, zone) for t in pb.triggers)]
    replaced = {other for pb in hits for other in pb.supersedes}
    return [pb for pb in hits if pb.id not in replaced]


def doc_host(doc: dict) -> str | None:
    """The host a finding is about: its address, else its name."""
    h = doc.get("host", {})
    return (h.get("ip") or [None])[0] or h.get("name")


def correlation_key(pb: Playbook, doc: dict, host: str | None = None) -> str:
    """What identifies the incident a finding belongs to, for playbook ``pb`` (pure): the agency and
    the host, or with ``correlate: source`` the agency and the source address (a brute force from
    one address against several hosts is one incident). A finding without a source falls back to
    its host."""
    agency = doc["organization"]["id"]
    source = doc.get("source", {}).get("ip")
    if pb.correlate == "source" and source:
        return f"{agency}|source:{source}"
    return f"{agency}|host:{host or doc_host(doc) or '-'}"


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
             context_of: Callable[[str, str | None], dict] = lambda a, h: {}, actor: str = "citysec",
             host_of: Callable[[str, str | None], str | None] = lambda a, h: h) -> dict:
    """Open (or attach to) cases for what arrived since the last call. Returns counts. ``host_of``
    (agency, address or name) → the host's one name for it (its address when the city knows it),
    so an alert that names a host and a check that gives its address are the same incident."""
    docs, tops = _new_docs(engine.store)
    playbooks = [lp.playbook for lp in engine.library.values()]
    counts = {"seen": len(docs), "opened": 0, "attached": 0}
    for doc in docs:
        agency = doc["organization"]["id"]
        host = host_of(agency, doc_host(doc))
        for pb in matching_playbooks(playbooks, doc, zone_of(agency, host)):
            ctx = context_of(agency, host)
            key = correlation_key(pb, doc, host)
            existing = engine.open_incident(pb.id, key, doc["citysec"].get("fingerprint"))
            if existing:
                counts["attached"] += engine.attach(existing, doc, actor)
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
