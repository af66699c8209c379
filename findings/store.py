"""The findings store: SQLite in WAL mode, the lifecycle of findings, run history and the outbox.

Safe for the scheduler's threads (one connection per thread) and for several processes writing
at once (``BEGIN IMMEDIATE`` with a busy timeout, retried). Every write goes to the outbox in the
same transaction, so nothing produced is lost before it reaches Elasticsearch.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from findings import triage
from findings.errors import StoreError
from findings.model import Finding, iso, to_document, utcnow
from findings.schema import Schema, apply, prepare, sql_migrations, versions
from findings.support.procs import pid_alive, start_time

# findings' own tables (findings/migrations/NNNN_*.sql); other packages declare theirs (findings.schema)
SCHEMA = Schema("findings", sql_migrations("findings"))
SCHEMA_VERSION = SCHEMA.version
SEVERITY_ORDER = "CASE severity WHEN 'critical' THEN 4 WHEN 'high' THEN 3 WHEN 'medium' THEN 2" \
                 " WHEN 'low' THEN 1 ELSE 0 END"


@dataclass(frozen=True)
class Scope:
    """What a run covered. A complete run closes the open findings of its scope it did not see;
    an incomplete one closes nothing. ``checks`` holds check ids or prefixes ending in '.';
    ``ports`` ((port, transport) pairs), when given, limits the closing to findings on those ports
    (a TCP sweep must not close a UDP finding, nor a scan of ports 1-100 the telnet on 2323)."""

    checks: frozenset[str]
    agencies: frozenset[str]
    hosts: frozenset[str] | None = None
    complete: bool = True
    ports: frozenset[tuple[int, str]] | None = None

    def covers_check(self, check: str) -> bool:
        return any(check == c or (c.endswith(".") and check.startswith(c)) for c in self.checks)


@dataclass
class RecordResult:
    opened: int = 0
    reopened: int = 0
    updated: int = 0
    closed: int = 0
    passed: int = 0
    events: int = 0
    not_decisive: int = 0
    transitions: list[tuple[str, str]] = field(default_factory=list)  # (fingerprint, new status)
    changes: list[tuple] = field(default_factory=list, repr=False)   # for findings.triage.after_record

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def _retrying(fn: Callable[[], Any], attempts: int = 50) -> Any:
    for i in range(attempts):
        try:
            return fn()
        except sqlite3.OperationalError as exc:
            msg = str(exc)
            if ("locked" not in msg and "busy" not in msg) or i == attempts - 1:
                raise StoreError(f"findings store: {msg}") from exc
            time.sleep(min(0.01 * (2 ** min(i, 6)), 0.5))
    raise AssertionError("unreachable")


class Store:
    """Open (and create or migrate) the store at ``path``: findings' tables and those of ``schemas``
    (other packages', see findings.schema). ``clock`` is injectable for tests."""

    def __init__(self, path: str | os.PathLike, *, clock: Callable[[], datetime] = utcnow,
                 synchronous: str = "FULL", schemas: Iterable[Schema] = ()):
        self.path = os.fspath(path)
        self.clock = clock
        self._sync = synchronous
        self._local = threading.local()
        # Threads of this process queue here: a lock hands over at once, while SQLite's busy
        # handler polls with sleeps of up to 100 ms. Other processes still queue in SQLite.
        self._write_lock = threading.RLock()
        self._current: set[str] = set()    # packages whose tables this Store brought to the code's version
        parent = os.path.dirname(os.path.abspath(self.path))
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the findings store's folder {parent}: {exc.strerror}") from exc
        self._migrate([SCHEMA, *schemas])

    # -- connections -------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA busy_timeout=30000")
                # switching a new file to WAL takes an exclusive lock: another process opening
                # the same new store at that moment sees "locked" (no busy handler there)
                _retrying(lambda: conn.execute("PRAGMA journal_mode=WAL"))
                conn.execute(f"PRAGMA synchronous={self._sync}")
                conn.execute("PRAGMA foreign_keys=ON")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open the findings store {self.path}: {exc}") from exc
            conn.row_factory = sqlite3.Row
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE, so writers queue instead of deadlocking)."""
        conn = self._conn()
        with self._write_lock:
            _retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
            try:
                yield conn
                _retrying(lambda: conn.execute("COMMIT"))
            except BaseException as exc:
                if conn.in_transaction:       # SQLite may have rolled back already (disk full, I/O)
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"findings store {self.path}: {exc}") from exc
                raise

    def read(self) -> sqlite3.Connection:
        """A connection for read queries (the reports' SQL aggregations use it)."""
        return self._conn()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return _retrying(lambda: self._conn().execute(sql, tuple(params)).fetchall())

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _migrate(self, schemas: list[Schema]) -> None:
        """Create a new store, or bring an older one to the code's version of each schema, in one
        transaction (several processes opening the store at once queue on it). A store with a
        newer version of any of them is refused, untouched."""
        done = set(self._current)
        with self.write() as conn:
            now = iso(self.clock())
            prepare(conn, now)
            for schema in schemas:
                self._apply(conn, schema, now, done)
        self._current = done      # only once committed

    def _apply(self, conn: sqlite3.Connection, schema: Schema, now: str, done: set[str]) -> None:
        for dep in schema.requires:
            self._apply(conn, dep, now, done)
        if schema.package in done:
            return
        if apply(conn, schema, now, self.path) and schema.package == "findings":
            # what a citysec from before findings.schema reads (and refuses when newer than itself)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(schema.version),))
        done.add(schema.package)

    def require(self, schema: Schema) -> None:
        """The tables of ``schema`` (another package's), created or migrated now if this Store was opened
        without them; a dictionary lookup once done."""
        if schema.package in self._current and all(d.package in self._current for d in schema.requires):
            return
        self._migrate([schema])

    def schema_versions(self) -> dict[str, int]:
        """Each package's schema version in the store."""
        return versions(self.read())

    @property
    def schema_version(self) -> int:
        return self.schema_versions()["findings"]

    # -- runs --------------------------------------------------------------------------------
    def start_run(self, job: str, sensor: str | None = None, run_id: str | None = None) -> str:
        run_id = run_id or f"{job}-{self.clock().strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        with self.write() as c:
            c.execute("INSERT INTO runs (id, job, sensor, started, pid, pid_start) VALUES (?,?,?,?,?,?)",
                      (run_id, job, sensor, iso(self.clock()), os.getpid(), start_time(os.getpid())))
        return run_id

    def finish_run(self, run_id: str, outcome: str, counts: dict | None = None,
                   error: str | None = None) -> None:
        with self.write() as c:
            c.execute("UPDATE runs SET ended=?, outcome=?, counts=?, error=? WHERE id=?",
                      (iso(self.clock()), outcome, json.dumps(counts or {}), error, run_id))

    def mark_interrupted(self, *, only_dead_pids: bool = True) -> list[str]:
        """Runs still 'running' whose process is gone become 'interrupted'. Returns their ids."""
        rows = self.query("SELECT id, pid, pid_start FROM runs WHERE outcome='running'")
        gone = [r["id"] for r in rows if not only_dead_pids or not pid_alive(r["pid"], r["pid_start"])]
        with self.write() as c:
            for rid in gone:
                c.execute("UPDATE runs SET outcome='interrupted', ended=?, error=? WHERE id=?",
                          (iso(self.clock()), "the process ended before the run finished", rid))
        return gone

    def runs(self, job: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = "SELECT * FROM runs" + (" WHERE job=?" if job else "") + " ORDER BY started DESC LIMIT ?"
        params = (job, limit) if job else (limit,)
        return [dict(r) | {"counts": json.loads(r["counts"])} for r in self.query(sql, params)]

    def last_runs(self) -> dict[str, dict[str, Any]]:
        rows = self.query("SELECT r.* FROM runs r JOIN (SELECT job, MAX(started) s FROM runs GROUP BY job)"
                          " m ON r.job=m.job AND r.started=m.s")
        return {r["job"]: dict(r) | {"counts": json.loads(r["counts"])} for r in rows}

    # -- findings ----------------------------------------------------------------------------
    def record(self, findings: Iterable[Finding], *, run_id: str | None = None,
               scope: Scope | None = None) -> RecordResult:
        """Store findings and apply the lifecycle. With a ``scope``, a complete run then closes
        the open findings of that scope that this run (``run_id``) did not see."""
        result = RecordResult()
        batch = list(findings)
        with self.write() as c:
            for f in batch:
                if run_id and f.run_id != run_id:   # the run recording it is the run that saw it
                    f = f.with_(run_id=run_id)
                if f.kind == "state":
                    self._record_state(c, f, result)
                else:
                    self._record_event(c, f, result)
            if scope is not None and run_id is not None:
                self._close_unseen(c, run_id, scope, result)
            triage.after_record(c, result.changes, self.clock())   # same transaction: queued once
        return result

    def close_unseen(self, run_id: str, scope: Scope) -> RecordResult:
        result = RecordResult()
        with self.write() as c:
            self._close_unseen(c, run_id, scope, result)
        return result

    def record_in(self, c: sqlite3.Connection, findings: Iterable[Finding]) -> RecordResult:
        """Record event findings inside the caller's write transaction (``with store.write() as c``),
        so that a state change of the caller's own tables and its events commit together."""
        result = RecordResult()
        for f in findings:
            if f.kind == "state":
                raise ValueError("record_in takes events, alerts, metrics and assets only")
            self._record_event(c, f, result)
        return result

    def _record_state(self, c: sqlite3.Connection, f: Finding, r: RecordResult) -> None:
        fp, now = f.fingerprint, iso(f.timestamp)
        row = c.execute("SELECT status, first_seen, last_seen, opened_at, closed_at, reopen_count, severity "
                        "FROM current WHERE fingerprint=?", (fp,)).fetchone()
        status, first, last, opened, closed, reopens, old_sev = (
            row if row else (None, now, None, None, None, 0, None))
        old_status = status
        if f.verdict == "fail":
            if status is None or (status == "closed" and opened is None):
                status, opened, r.opened = "open", now, r.opened + 1
            elif status == "closed":
                status, opened, closed, reopens = "reopened", now, None, reopens + 1
                r.reopened += 1
            else:
                r.updated += 1
            last = now
        elif f.verdict == "pass":
            r.passed += 1
            if status in ("open", "reopened"):
                status, closed, r.closed = "closed", now, r.closed + 1
            elif status is None:
                status, last = "closed", now
        else:  # error, incomplete, skipped: nothing decided; a new fingerprint is a problem to see
            r.not_decisive += 1
            if status is None and f.verdict in ("error", "incomplete"):
                status, opened, last, r.opened = "open", now, now, r.opened + 1
            last = last or now
        if row is None or row[0] != status:
            r.transitions.append((fp, status))
        doc = to_document(f, status=status, first_seen=_ts(first), last_seen=_ts(last))
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        c.execute(
            "INSERT INTO current (fingerprint, kind, check_id, dataset, agency, host, port, transport,"
            " verdict, severity, status, first_seen, last_seen, last_checked, opened_at, closed_at,"
            " reopen_count, last_run, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT(fingerprint) DO UPDATE SET verdict=excluded.verdict, severity=excluded.severity,"
            " status=excluded.status, last_seen=excluded.last_seen, last_checked=excluded.last_checked,"
            " opened_at=excluded.opened_at, closed_at=excluded.closed_at,"
            " reopen_count=excluded.reopen_count, last_run=excluded.last_run, doc=excluded.doc",
            (fp, f.kind, f.check, doc["event"]["dataset"], f.agency, f.host_ip or f.host_name, f.port,
             f.transport, f.verdict, f.severity, status, first, last, now, opened, closed, reopens,
             f.run_id, body))
        self._history(c, f.id, fp, f, doc, body, status)
        self._enqueue(c, "state", doc["event"]["dataset"], fp, body)
        r.changes.append((fp, old_status, old_sev, status, f, doc))

    def _history(self, c, doc_id, fp, f: Finding, doc, body, status) -> None:
        c.execute("INSERT OR IGNORE INTO history (id, fingerprint, ts, run_id, check_id, dataset, agency,"
                  " host, verdict, severity, status, doc) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                  (doc_id, fp, doc["@timestamp"], f.run_id, f.check, doc["event"]["dataset"], f.agency,
                   f.host_ip or f.host_name, f.verdict, f.severity, status, body))
        self._enqueue(c, "history", doc["event"]["dataset"], doc_id, body)

    def _record_event(self, c: sqlite3.Connection, f: Finding, r: RecordResult) -> None:
        doc = to_document(f)
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        cur = c.execute("INSERT OR IGNORE INTO events (id, kind, ts, run_id, check_id, dataset, agency, host,"
                        " severity, doc) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (f.id, f.kind, doc["@timestamp"], f.run_id, f.check, doc["event"]["dataset"],
                         f.agency, f.host_ip or f.host_name, f.severity, body))
        if cur.rowcount:
            r.events += 1
            self._enqueue(c, "event", doc["event"]["dataset"], f.id, body)
        if f.kind == "asset":  # inventory: current row with first and last seen
            now = doc["@timestamp"]
            c.execute("INSERT INTO current (fingerprint, kind, check_id, dataset, agency, host, verdict,"
                      " severity, status, first_seen, last_seen, last_checked, last_run, doc)"
                      " VALUES (?,?,?,?,?,?,NULL,?,NULL,?,?,?,?,?) ON CONFLICT(fingerprint) DO UPDATE SET"
                      " last_seen=excluded.last_seen, last_checked=excluded.last_checked,"
                      " last_run=excluded.last_run, doc=excluded.doc",
                      (f.fingerprint, "asset", f.check, doc["event"]["dataset"], f.agency,
                       f.host_ip or f.host_name, f.severity, now, now, now, f.run_id, body))

    def _close_unseen(self, c: sqlite3.Connection, run_id: str, scope: Scope, r: RecordResult) -> None:
        if not scope.complete:
            return
        rows = c.execute(
            "SELECT fingerprint, check_id, agency, host, port, transport, doc FROM current WHERE kind='state'"
            " AND status IN ('open','reopened') AND (last_run IS NULL OR last_run != ?)"
            " AND (host IS NULL OR host NOT IN (SELECT host FROM history WHERE run_id=? AND host IS NOT NULL"
            "      AND verdict IN ('error','incomplete')))", (run_id, run_id)).fetchall()
        now = self.clock()
        for fp, check, agency, host, port, transport, body in rows:
            if agency not in scope.agencies or not scope.covers_check(check):
                continue
            if scope.ports is not None and (port, transport) not in scope.ports:
                continue
            if scope.hosts is not None and host not in scope.hosts:
                continue
            doc = json.loads(body)
            doc["@timestamp"] = iso(now)
            cs = doc["citysec"]
            cs.update(status="closed", verdict="pass", run_id=run_id)
            doc["event"]["reason"] = f"not seen by complete run {run_id}"
            doc["event"]["id"] = doc_id = _hist_id(fp, run_id)
            new = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
            c.execute("UPDATE current SET status='closed', verdict='pass', closed_at=?, last_checked=?,"
                      " last_run=?, doc=? WHERE fingerprint=?", (iso(now), iso(now), run_id, new, fp))
            c.execute("INSERT OR IGNORE INTO history (id, fingerprint, ts, run_id, check_id, dataset, agency,"
                      " host, verdict, severity, status, doc) VALUES (?,?,?,?,?,?,?,?,'pass',?,'closed',?)",
                      (doc_id, fp, iso(now), run_id, check, doc["event"]["dataset"], agency, host,
                       cs["severity"], new))
            self._enqueue(c, "history", doc["event"]["dataset"], doc_id, new)
            self._enqueue(c, "state", doc["event"]["dataset"], fp, new)
            r.closed += 1
            r.transitions.append((fp, "closed"))

    # -- reading -----------------------------------------------------------------------------
    def current(self, *, agency: str | None = None, status: str | Iterable[str] | None = None,
                severity: str | None = None, since: datetime | None = None, check: str | None = None,
                kind: str = "state", limit: int | None = None) -> list[dict[str, Any]]:
        where, params = ["kind=?"], [kind]
        if agency:
            where.append("agency=?"), params.append(agency)
        if status:
            sts = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({','.join('?' * len(sts))})"), params.extend(sts)
        if severity:
            where.append("severity=?"), params.append(severity)
        if check:
            where.append("(check_id=? OR check_id LIKE ?)"), params.extend([check, check + ".%"])
        if since:
            where.append("last_checked>=?"), params.append(iso(since))
        sql = ("SELECT * FROM current WHERE " + " AND ".join(where)
               + f" ORDER BY agency, {SEVERITY_ORDER} DESC, check_id, host" + (f" LIMIT {int(limit)}" if limit else ""))
        return [dict(r) for r in self.query(sql, params)]

    def get(self, key: str) -> dict[str, Any] | None:
        """A finding by fingerprint (or a unique prefix of it), with its history."""
        rows = self.query("SELECT * FROM current WHERE fingerprint LIKE ? LIMIT 2", (key + "%",))
        if len(rows) != 1:
            return None
        row = dict(rows[0])
        row["history"] = [dict(h) for h in self.query(
            "SELECT id, ts, run_id, verdict, status FROM history WHERE fingerprint=? ORDER BY ts",
            (row["fingerprint"],))]
        return row

    def events(self, *, kind: str | None = None, agency: str | None = None, since: datetime | None = None,
               check: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        where, params = ["1=1"], []
        for col, val in (("kind", kind), ("agency", agency)):
            if val:
                where.append(f"{col}=?"), params.append(val)
        if check:
            where.append("(check_id=? OR check_id LIKE ?)"), params.extend([check, check + ".%"])
        if since:
            where.append("ts>=?"), params.append(iso(since))
        return [dict(r) for r in self.query(
            "SELECT * FROM events WHERE " + " AND ".join(where) + " ORDER BY ts LIMIT ?", [*params, limit])]

    # -- outbox ------------------------------------------------------------------------------
    def _enqueue(self, c: sqlite3.Connection, stream: str, dataset: str, doc_id: str, body: str) -> None:
        if stream == "state":  # only the newest state of a fingerprint needs shipping
            c.execute("DELETE FROM outbox WHERE stream='state' AND doc_id=?", (doc_id,))
        c.execute("INSERT OR IGNORE INTO outbox (stream, dataset, doc_id, body) VALUES (?,?,?,?)",
                  (stream, dataset, doc_id, body))

    def outbox_batch(self, limit: int = 2000, after: int = 0) -> list[sqlite3.Row]:
        return self.query("SELECT seq, stream, dataset, doc_id, body, attempts FROM outbox WHERE seq>?"
                          " ORDER BY seq LIMIT ?", (after, limit))

    def outbox_done(self, seqs: Iterable[int]) -> None:
        seqs = list(seqs)
        with self.write() as c:
            c.executemany("DELETE FROM outbox WHERE seq=?", [(s,) for s in seqs])

    def outbox_attempted(self, seqs: Iterable[int]) -> None:
        with self.write() as c:
            c.executemany("UPDATE outbox SET attempts=attempts+1 WHERE seq=?", [(s,) for s in seqs])

    def dead_letter(self, items: Iterable[tuple[int, int | None, str]]) -> None:
        """Move outbox rows (seq, http status, server's reason) to the dead letters."""
        with self.write() as c:
            for seq, status, reason in items:
                c.execute("INSERT OR REPLACE INTO dead_letters SELECT seq, stream, dataset, doc_id, body, ?, ?, ?"
                          " FROM outbox WHERE seq=?", (status, reason, iso(self.clock()), seq))
                c.execute("DELETE FROM outbox WHERE seq=?", (seq,))

    def outbox_depth(self) -> int:
        return self.query("SELECT COUNT(*) FROM outbox")[0][0]

    def dead_letter_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM dead_letters")[0][0]

    def open_count(self) -> int:
        """State findings open or reopened (counted in SQL, not by reading their documents)."""
        return self.query("SELECT COUNT(*) FROM current WHERE kind='state' AND status IN ('open','reopened')")[0][0]

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        return [dict(r) for r in self.query(
            "SELECT seq, stream, dataset, doc_id, status, reason, at FROM dead_letters ORDER BY seq LIMIT ?",
            (limit,))]

    def requeue_dead_letters(self) -> int:
        """Put the dead letters back in the outbox (after the mapping was fixed)."""
        with self.write() as c:
            n = c.execute("INSERT OR IGNORE INTO outbox (stream, dataset, doc_id, body)"
                          " SELECT stream, dataset, doc_id, body FROM dead_letters ORDER BY seq").rowcount
            c.execute("DELETE FROM dead_letters")
        return n


def _ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _hist_id(fp: str, run_id: str) -> str:
    return hashlib.sha256(f"close\x1f{fp}\x1f{run_id}".encode()).hexdigest()[:32]
