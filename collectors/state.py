"""The collectors' own state in the findings store: log cursors and recorded restore tests.

Kept in two tables of their own, declared as the ``collectors`` schema (findings.schema) and
created or migrated by the store.
"""

from __future__ import annotations

from datetime import datetime

from findings.model import iso, parse_ts
from findings.schema import Schema, sql_migrations

from .cursor import Cursor

# the collectors' tables (collectors/migrations/NNNN_*.sql)
SCHEMA = Schema("collectors", sql_migrations("collectors"))


class CollectorState:
    def __init__(self, store):
        self.store = store
        store.require(SCHEMA)

    def cursors(self) -> dict[tuple[str, str], Cursor]:
        rows = self.store.query("SELECT host, path, inode, offset, head FROM collector_cursors")
        return {(r["host"], r["path"]): Cursor(r["path"], r["inode"], r["offset"], r["head"]) for r in rows}

    def save_cursors(self, items: list[tuple[str, Cursor]], now: datetime) -> None:
        with self.store.write() as c:
            c.executemany("INSERT INTO collector_cursors (host, path, inode, offset, head, updated) VALUES (?,?,?,?,?,?)"
                          " ON CONFLICT(host, path) DO UPDATE SET inode=excluded.inode, offset=excluded.offset,"
                          " head=excluded.head, updated=excluded.updated",
                          [(h, cur.path, cur.inode, cur.offset, cur.head, iso(now)) for h, cur in items])

    def record_restore_test(self, system: str, tested_at: datetime, *, by: str | None, result: str,
                            note: str | None, now: datetime) -> int:
        with self.store.write() as c:
            cur = c.execute("INSERT INTO backup_restore_tests (system, tested_at, by, result, note, recorded)"
                            " VALUES (?,?,?,?,?,?)", (system, iso(tested_at), by, result, note, iso(now)))
            return int(cur.lastrowid)

    def last_restore_tests(self) -> dict[str, datetime]:
        """The last successful restore test per system."""
        rows = self.store.query("SELECT system, MAX(tested_at) t FROM backup_restore_tests WHERE result='ok'"
                                " GROUP BY system")
        return {r["system"]: parse_ts(r["t"]) for r in rows}
