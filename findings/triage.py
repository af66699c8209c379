"""Triage: false positives and accepted risks (with expiry), and their tamper-evident log.

A triage decision lays over a finding; it never changes the finding's lifecycle. The finding
stays in the store and keeps being checked: a false positive or an accepted risk ends

- at its date (``until``, see :func:`expire`): the finding counts as untriaged again;
- when what it was decided for changes (:func:`after_record`, called by the store inside the
  transaction that records an observation): the service's name, product or version, or a
  severity that rises;
- when someone withdraws it (:func:`withdraw`).

Every decision (and every end) is an entry of ``triage_log``: append-only (SQLite triggers refuse
UPDATE and DELETE), each entry's hash over the previous hash and the entry, the head hash and the
count in ``meta``; :func:`verify` finds a changed, removed or added entry. Each entry also goes to
Elasticsearch through the outbox (dataset ``citysec.triage``), in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from findings.chain import GENESIS, link_hash
from findings.chain import verify as verify_chain
from findings.errors import UsageError
from findings.model import SEVERITIES, from_document, iso, parse_ts

KINDS = ("false_positive", "accepted")
RANK = {s: i for i, s in enumerate(SEVERITIES)}
SYSTEM = "citysec"          # the actor of automatic ends (expiry, a change)


def identity(doc: dict[str, Any]) -> dict[str, Any]:
    """What a decision is about, besides the fingerprint: the service as it was seen."""
    cs = doc.get("citysec", {})
    return {"service": doc.get("service", {}).get("name"), "version": doc.get("service", {}).get("version"),
            "product": (cs.get("exposure") or {}).get("product"), "severity": cs.get("severity")}


def _changed(decided: dict[str, Any], seen: dict[str, Any]) -> str | None:
    """Why a decision no longer holds for what is seen now (None: it holds)."""
    for key in ("service", "product", "version"):
        if decided.get(key) and seen.get(key) != decided.get(key):
            return f"{key} changed from {decided[key]!r} to {seen.get(key)!r}"
    if RANK.get(seen.get("severity"), 0) > RANK.get(decided.get("severity"), 0):
        return f"severity rose from {decided['severity']} to {seen['severity']}"
    return None


# -- the log -------------------------------------------------------------------------------------
def _fields(r: dict[str, Any]) -> tuple:
    return r["seq"], r["ts"], r["actor"], r["action"], r["fingerprint"], r["data"]


def _head(c: sqlite3.Connection) -> tuple[str, int]:
    rows = dict(c.execute("SELECT key, value FROM meta WHERE key IN ('triage_head','triage_count')").fetchall())
    return rows.get("triage_head", GENESIS), int(rows.get("triage_count", 0))


def _append(c: sqlite3.Connection, now: datetime, actor: str, action: str, row: dict[str, Any],
            data: dict[str, Any]) -> dict[str, Any]:
    """One log entry and its Elasticsearch event, inside the caller's write transaction."""
    prev, count = _head(c)
    seq, ts = count + 1, iso(now)
    body = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)
    h = link_hash(prev, seq, ts, actor, action, row["fingerprint"], body)
    c.execute("INSERT INTO triage_log (seq, ts, actor, action, fingerprint, agency, data, prev, hash)"
              " VALUES (?,?,?,?,?,?,?,?,?)", (seq, ts, actor, action, row["fingerprint"], row["agency"], body, prev, h))
    c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [("triage_head", h), ("triage_count", str(seq))])
    _ship(c, now, actor, action, row, data | {"seq": seq, "hash": h, "prev": prev})
    return {"seq": seq, "ts": ts, "actor": actor, "action": action, "fingerprint": row["fingerprint"],
            "agency": row["agency"], "data": data, "hash": h}


def _ship(c: sqlite3.Connection, now: datetime, actor: str, action: str, row: dict, data: dict) -> None:
    from findings.model import to_document
    f = from_document(json.loads(row["doc"])).with_(
        kind="event", verdict=None, dataset="citysec.triage", timestamp=now, run_id=None, user_name=actor,
        category=("configuration",), type=("change",), details=data | {"action": action},
        message=f"triage {action}: {row['check_id']} {row['host'] or ''} by {actor}".strip())
    doc = to_document(f)
    doc["event"]["id"] = doc_id = hashlib.sha256(f"triage\x1f{data['seq']}\x1f{data['hash']}".encode()).hexdigest()[:32]
    c.execute("INSERT OR IGNORE INTO outbox (stream, dataset, doc_id, body) VALUES ('event', 'citysec.triage', ?, ?)",
              (doc_id, json.dumps(doc, ensure_ascii=False, separators=(",", ":"))))


def log(store) -> list[dict[str, Any]]:
    return [dict(r) | {"data": json.loads(r["data"])} for r in store.query("SELECT * FROM triage_log ORDER BY seq")]


def verify(store) -> list[str]:
    """Problems of the triage log; empty when every entry, the order and the count hold."""
    rows = [dict(r) for r in store.query("SELECT * FROM triage_log ORDER BY seq")]
    head, count = _head(store.read())
    problems = verify_chain(rows, _fields, prefix="triage log ", what="action")
    if len(rows) != count:
        problems.append(f"the store records {count} triage log entries, the log holds {len(rows)}")
    elif rows and head != rows[-1]["hash"]:
        problems.append("the triage log's head hash does not match its last entry")
    return problems


# -- decisions -----------------------------------------------------------------------------------
def _finding(c: sqlite3.Connection, key: str) -> dict[str, Any]:
    if not key or not key.strip():
        raise UsageError("give a finding id (its fingerprint or a unique prefix)")
    rows = c.execute("SELECT * FROM current WHERE kind='state' AND fingerprint LIKE ? LIMIT 2", (key + "%",)).fetchall()
    if not rows:
        raise UsageError(f"unknown finding id {key!r} (see citysec findings list)")
    if len(rows) > 1:
        raise UsageError(f"finding id {key!r} is ambiguous: give more of it")
    return dict(rows[0])


def _required(value: str | None, what: str) -> str:
    if value is None or not str(value).strip():
        raise UsageError(f"{what} is missing: say {'why' if what == '--reason' else 'who'}")
    return str(value).strip()


def decide(store, key: str, kind: str, *, reason: str, by: str, until: datetime | None = None,
           approved_by: str | None = None, replace: bool = False) -> dict[str, Any]:
    """Mark a finding a false positive or an accepted risk. Checks everything before writing.
    A decision in force is replaced only with ``replace`` (never silently: an approved acceptance
    must not give way to an unapproved one by a second `findings accept`)."""
    if kind not in KINDS:
        raise UsageError(f"unknown triage kind {kind!r}; known: {', '.join(KINDS)}")
    reason, by = _required(reason, "--reason"), _required(by, "--by")
    now = store.clock()
    if kind == "accepted" and until is None:
        raise UsageError("--until is missing: an accepted risk needs the date it ends")
    if until is not None and until <= now:
        raise UsageError(f"--until {iso(until)} is in the past (now {iso(now)})")
    with store.write() as c:
        row = _finding(c, key)
        _refuse_replacing(c, row["fingerprint"], now, replace)
        seen = identity(json.loads(row["doc"]))
        data = {"kind": kind, "reason": reason, "by": by, "approved_by": approved_by,
                "until": iso(until) if until else None, "decided_for": seen, "check": row["check_id"],
                "host": row["host"], "port": row["port"]}
        c.execute("INSERT OR REPLACE INTO triage (fingerprint, agency, kind, reason, by, approved_by, at, until,"
                  " decided_for) VALUES (?,?,?,?,?,?,?,?,?)",
                  (row["fingerprint"], row["agency"], kind, reason, by, approved_by, iso(now), data["until"],
                   json.dumps(seen, ensure_ascii=False)))
        return _append(c, now, by, kind, row, data)


def _refuse_replacing(c: sqlite3.Connection, fp: str, now: datetime, replace: bool) -> None:
    t = c.execute("SELECT kind, by, approved_by, at, until FROM triage WHERE fingerprint=?", (fp,)).fetchone()
    if t is None or replace or (t[4] is not None and parse_ts(t[4]) <= now):
        return
    kind, by, approved_by, at, until = t
    what = "an accepted risk" if kind == "accepted" else "a false positive"
    raise UsageError(f"finding {fp[:12]} is already {what} (by {by} at {at}"
                     + (f", approved by {approved_by}" if approved_by else "") + (f", until {until}" if until else "")
                     + "): give --replace to replace that decision, or `findings unaccept` it first")


def withdraw(store, key: str, *, by: str, reason: str | None = None) -> dict[str, Any]:
    """End a finding's false positive or accepted risk (``findings unaccept``)."""
    by = _required(by, "--by")
    with store.write() as c:
        row = _finding(c, key)
        t = c.execute("SELECT kind FROM triage WHERE fingerprint=?", (row["fingerprint"],)).fetchone()
        if t is None:
            raise UsageError(f"finding {row['fingerprint'][:12]} is neither accepted nor a false positive")
        c.execute("DELETE FROM triage WHERE fingerprint=?", (row["fingerprint"],))
        return _append(c, store.clock(), by, "withdrawn", row, {"kind": t[0], "reason": reason or ""})


def _end(c: sqlite3.Connection, now: datetime, fp: str, kind: str, why: str, action: str) -> dict[str, Any]:
    row = dict(c.execute("SELECT * FROM current WHERE fingerprint=?", (fp,)).fetchone())
    c.execute("DELETE FROM triage WHERE fingerprint=?", (fp,))
    return _append(c, now, SYSTEM, action, row, {"kind": kind, "reason": why})


def expire(store) -> list[dict[str, Any]]:
    """End every decision whose date has passed; each end is logged and queued for notification."""
    now = store.clock()
    with store.write() as c:
        due = c.execute("SELECT fingerprint, kind, until FROM triage WHERE until IS NOT NULL AND until <= ?",
                        (iso(now),)).fetchall()
        out = []
        for fp, kind, until in due:
            entry = _end(c, now, fp, kind, f"{kind} until {until} expired", "expired")
            queue(c, now, "expired", fp, marker=until, extra={"kind": kind, "until": until})
            out.append(entry)
    return out


def active(store, agency: str | None = None) -> dict[str, dict[str, Any]]:
    """The decisions in force now, by fingerprint (one whose date passed is not in force, even
    before :func:`expire` ran)."""
    sql = "SELECT * FROM triage WHERE (until IS NULL OR until > ?)" + (" AND agency=?" if agency else "")
    params = (iso(store.clock()), agency) if agency else (iso(store.clock()),)
    return {r["fingerprint"]: dict(r) | {"decided_for": json.loads(r["decided_for"])}
            for r in store.query(sql, params)}


def parse_until(value: str | None) -> datetime | None:
    """``--until``: an ISO date (the decision holds through that day, Vietnam time) or date-time."""
    if value is None:
        return None
    from datetime import timedelta, timezone
    try:
        if len(value) == 10:
            day = datetime.fromisoformat(value).replace(tzinfo=timezone(timedelta(hours=7)))
            return day + timedelta(days=1, milliseconds=-1)   # through that day
        return parse_ts(value)
    except ValueError:
        raise UsageError(f"--until {value!r}: give a date like 2027-06-30 or an ISO date-time") from None


# -- what the store calls while recording ----------------------------------------------------------
def queue(c: sqlite3.Connection, now: datetime, kind: str, fp: str, *, marker: str,
           extra: dict[str, Any] | None = None) -> None:
    """Queue a change to notify (once: the id is derived from the change)."""
    row = c.execute("SELECT agency, check_id, host, port, severity, status, doc FROM current WHERE fingerprint=?",
                    (fp,)).fetchone()
    if row is None:
        return
    doc = json.loads(row["doc"])
    data = {"check": row["check_id"], "name": doc.get("rule", {}).get("name"), "host": row["host"],
            "port": row["port"], "severity": row["severity"], "status": row["status"],
            "message": doc.get("message", ""), "service": doc.get("service", {}).get("version")} | (extra or {})
    nid = hashlib.sha256(f"{kind}\x1f{fp}\x1f{marker}".encode()).hexdigest()[:32]
    c.execute("INSERT OR IGNORE INTO notify_queue (id, ts, agency, fingerprint, kind, severity, data)"
              " VALUES (?,?,?,?,?,?,?)", (nid, iso(now), row["agency"], fp, kind, row["severity"],
                                          json.dumps(data, ensure_ascii=False, default=str)))


def after_record(c: sqlite3.Connection, changes: Iterable[tuple], now: datetime) -> None:
    """For each recorded failing observation: end a decision that no longer holds, and queue what
    is to be notified (new, reopened, severity risen). ``changes``: (fingerprint, old status,
    old severity, new status, finding, document)."""
    for fp, old_status, old_sev, new_status, f, doc in changes:
        if f.verdict != "fail":
            continue
        t = c.execute("SELECT kind, until, decided_for FROM triage WHERE fingerprint=?", (fp,)).fetchone()
        if t is not None and (t[1] is None or parse_ts(t[1]) > now):
            why = _changed(json.loads(t[2]), identity(doc))
            if why:
                _end(c, now, fp, t[0], why, "ended")
                queue(c, now, "triage_ended", fp, marker=f"{f.run_id}:{why}", extra={"kind": t[0], "reason": why})
            continue
        if new_status == "open" and old_status not in ("open", "reopened"):
            queue(c, now, "new", fp, marker=iso(f.timestamp))
        elif new_status == "reopened" and old_status == "closed":
            queue(c, now, "reopened", fp, marker=iso(f.timestamp))
        elif old_sev is not None and RANK[f.severity] > RANK[old_sev]:
            queue(c, now, "severity_up", fp, marker=f"{f.severity}:{f.run_id or iso(f.timestamp)}",
                   extra={"before": old_sev})


def decisions(store) -> list[dict[str, Any]]:
    """The decisions in force with what they are about (for reports): agency, check, host, port,
    severity, kind, reason, by, approved_by, at, until."""
    rows = store.query("SELECT t.agency, c.check_id AS [check], c.host, c.port, c.severity, t.kind, t.reason, t.by,"
                       " t.approved_by, t.at, t.until FROM triage t JOIN current c ON c.fingerprint=t.fingerprint"
                       " WHERE t.until IS NULL OR t.until > ? ORDER BY t.agency, c.check_id, c.host",
                       (iso(store.clock()),))
    return [dict(r) for r in rows]
