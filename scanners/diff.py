"""Changes between service scans: new, gone, changed and unchanged per host and port, with each
port's lifecycle status (open, closed, reopened) from the store.

The baseline is the last services run that started before ``since`` (default: the run before
the latest one); the current state is the latest run. A port of a host the latest run could not
finish is "unknown", never "gone".
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from findings.model import iso
from findings.store import Store

CLOSE_REASON = "not seen by complete run"


def _runs(store: Store, since: datetime | None) -> tuple[str | None, str | None]:
    rows = store.query("SELECT id, started FROM runs WHERE job='services' AND outcome='ok' ORDER BY started")
    if not rows:
        return None, None
    current = rows[-1]["id"]
    if since is None:
        return (rows[-2]["id"] if len(rows) > 1 else None), current
    before = [r["id"] for r in rows if r["started"] < iso(since)]
    return (before[-1] if before else None), current


def _observed(store: Store, run_id: str | None, agency: str | None) -> dict[str, dict[str, Any]]:
    if run_id is None:
        return {}
    sql = ("SELECT fingerprint, check_id, agency, host, verdict, doc FROM history WHERE run_id=?"
           " AND check_id LIKE 'exposure.%' AND check_id != 'exposure.scan'")
    params: list[Any] = [run_id]
    if agency:
        sql += " AND agency=?"
        params.append(agency)
    out = {}
    for r in store.query(sql, params):
        doc = json.loads(r["doc"])
        if (doc.get("event", {}).get("reason") or "").startswith(CLOSE_REASON):
            continue   # a lifecycle closure, not an observation
        out[r["fingerprint"]] = {
            "agency": r["agency"], "host": r["host"], "port": doc.get("server", {}).get("port"),
            "transport": doc.get("network", {}).get("transport"), "check": r["check_id"],
            "verdict": r["verdict"], "service": doc.get("service", {}).get("name"),
            "version": doc.get("service", {}).get("version")}
    return out


def _incomplete(store: Store, run_id: str | None) -> set[str]:
    if run_id is None:
        return set()
    return {r["host"] for r in store.query("SELECT host FROM history WHERE run_id=? AND check_id='exposure.scan'"
                                           " AND verdict IN ('incomplete','error')", (run_id,))}


def diff(store: Store, *, agency: str | None = None, since: datetime | None = None) -> dict[str, Any]:
    base_id, cur_id = _runs(store, since)
    base, cur = _observed(store, base_id, agency), _observed(store, cur_id, agency)
    unknown_hosts = _incomplete(store, cur_id)
    status = {r["fingerprint"]: r["status"] for r in store.query(
        "SELECT fingerprint, status FROM current WHERE check_id LIKE 'exposure.%'")}
    out: dict[str, list] = {"new": [], "gone": [], "changed": [], "unchanged": [], "unknown": []}
    for fp in sorted(set(base) | set(cur), key=lambda f: ((base.get(f) or cur.get(f))["host"] or "",
                                                         (base.get(f) or cur.get(f))["port"] or 0)):
        b, c = base.get(fp), cur.get(fp)
        item = dict(c or b, fingerprint=fp, status=status.get(fp))
        if b and not c:
            out["unknown" if b["host"] in unknown_hosts else "gone"].append(item)
        elif c and not b:
            out["new"].append(item)
        elif (b["verdict"], b["service"], b["version"]) != (c["verdict"], c["service"], c["version"]):
            item["before"] = {k: b[k] for k in ("verdict", "service", "version")}
            out["changed"].append(item)
        else:
            out["unchanged"].append(item)
    return {"baseline_run": base_id, "current_run": cur_id, "agency": agency,
            "since": iso(since) if since else None, **out,
            "counts": {k: len(v) for k, v in out.items()}}
