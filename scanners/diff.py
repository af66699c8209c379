"""Changes between service scans: new, gone, changed and unchanged per host and port, with each
port's lifecycle status (open, closed, reopened) from the store.

Per host, the latest scan that finished on it (``exposure.scan`` pass) is compared with the one
before it (or, with ``since``, the last one before that time). Runs that could not finish a host
(killed, timed out) and runs that targeted other hosts do not count for it, so a partial or
targeted scan never makes ports look "gone".
"""

import json
from datetime import datetime
from typing import Any

from findings.model import iso
from findings.store import Store

CLOSE_REASON = "not seen by complete run"


def _scans(store: Store, agency: str | None) -> dict[str, list[tuple[str, str]]]:
    """host → [(ts, run_id)] of the scans that finished on it, oldest first."""
    sql = "SELECT host, ts, run_id FROM history WHERE check_id='exposure.scan' AND verdict='pass'"
    params: list[Any] = []
    if agency:
        sql += " AND agency=?"
        params.append(agency)
    out: dict[str, list[tuple[str, str]]] = {}
    for r in store.query(sql + " ORDER BY ts", params):
        out.setdefault(r["host"], []).append((r["ts"], r["run_id"]))
    return out


def _observed(store: Store, run_id: str | None, host: str) -> dict[str, dict[str, Any]]:
    if run_id is None:
        return {}
    out = {}
    for r in store.query("SELECT fingerprint, check_id, agency, host, verdict, doc FROM history WHERE run_id=?"
                         " AND host=? AND check_id LIKE 'exposure.%' AND check_id != 'exposure.scan'",
                         (run_id, host)):
        doc = json.loads(r["doc"])
        if (doc.get("event", {}).get("reason") or "").startswith(CLOSE_REASON):
            continue   # a lifecycle closure, not an observation
        out[r["fingerprint"]] = {
            "agency": r["agency"], "host": r["host"], "port": doc.get("server", {}).get("port"),
            "transport": doc.get("network", {}).get("transport"), "check": r["check_id"],
            "verdict": r["verdict"], "service": doc.get("service", {}).get("name"),
            "version": doc.get("service", {}).get("version")}
    return out


def _pair(scans: list[tuple[str, str]], since: datetime | None) -> tuple[str | None, str]:
    current = scans[-1][1]
    if since is None:
        return (scans[-2][1] if len(scans) > 1 else None), current
    before = [run for ts, run in scans if ts < iso(since)]
    return (before[-1] if before else None), current


def diff(store: Store, *, agency: str | None = None, since: datetime | None = None) -> dict[str, Any]:
    status = {r["fingerprint"]: r["status"] for r in store.query(
        "SELECT fingerprint, status FROM current WHERE check_id LIKE 'exposure.%'")}
    out: dict[str, list] = {"new": [], "gone": [], "changed": [], "unchanged": []}
    hosts = {}
    for host, scans in sorted(_scans(store, agency).items()):
        base_id, cur_id = _pair(scans, since)
        hosts[host] = {"baseline_run": base_id, "current_run": cur_id}
        if base_id is None and since is None:
            continue   # scanned once: nothing to compare with
        base, cur = _observed(store, base_id, host), _observed(store, cur_id, host)
        for fp in sorted(set(base) | set(cur), key=lambda f: (base.get(f) or cur.get(f))["port"] or 0):
            b, c = base.get(fp), cur.get(fp)
            item = dict(c or b, fingerprint=fp, status=status.get(fp))
            if b and not c:
                out["gone"].append(item)
            elif c and not b:
                out["new"].append(item)
            elif (b["verdict"], b["service"], b["version"]) != (c["verdict"], c["service"], c["version"]):
                item["before"] = {k: b[k] for k in ("verdict", "service", "version")}
                out["changed"].append(item)
            else:
                out["unchanged"].append(item)
    return {"agency": agency, "since": iso(since) if since else None, "hosts": hosts, **out,
            "counts": {k: len(v) for k, v in out.items()}}
