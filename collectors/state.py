"""The collectors' own state in the findings store: log cursors and recorded restore tests.

Kept in two tables of their own (created if missing, through ``store.write()``), so the
shared schema stays untouched.
"""

from __future__ import annotations

from datetime import datetime

from findings.model import iso, parse_ts

from .cursor import Cursor

DDL = (
    "CREATE TABLE IF NOT EXISTS collector_cursors (host TEXT NOT NULL, path TEXT NOT NULL, inode INTEGER NOT NULL,"
    " offset INTEGER NOT NULL, head TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (host, path))",
    "CREATE TABLE IF NOT EXISTS backup_restore_tests (id INTEGER PRIMARY KEY AUTOINCREMENT, system TEXT NOT NULL,"
    " tested_at TEXT NOT NULL, by TEXT, result TEXT NOT NULL, note TEXT, recorded TEXT NOT NULL)",
)


class CollectorState:
    def __init__(self, store):
        self.store = store
        with store.write() as c:
            for stmt in DDL:
                c.execute(stmt)

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
