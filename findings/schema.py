"""The store's schema: each package's tables and numbered migrations, and the one runner.

Every package that keeps tables in the findings store (findings, collectors, playbooks, exercises,
the console) declares a :class:`Schema`: its name and its migrations 1..N, each an SQL script or a
Python function of the open connection. The store applies them (:meth:`findings.store.Store.require`,
and every schema given to ``Store(path, schemas=...)`` when it opens) in one write transaction, and
keeps each package's version in the table ``schema_versions``. A store whose version of a package is
newer than the code is refused, untouched. findings imports none of the other packages: each declares
its schema in its own store module (``collectors.state``, ``playbooks.casedb``, ``exercises.db``,
``citysec.web.tables``) and asks the store for it; the command opens the store with all of them
(``citysec.app.SCHEMA_OWNERS``).

SQL migrations are the files ``<package>/migrations/NNNN_<what>.sql`` (:func:`sql_migrations`).
A migration never changes once released: a change of schema is a new file with the next number.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from findings.errors import StoreError

VERSIONS_DDL = ("CREATE TABLE IF NOT EXISTS schema_versions (package TEXT PRIMARY KEY,"
                " version INTEGER NOT NULL, applied TEXT NOT NULL)")
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: str | Callable[[sqlite3.Connection], None]   # an SQL script, or a function of the connection


@dataclass(frozen=True)
class Schema:
    """A package's tables: migrations numbered 1..N (N is the version the code knows); ``requires``:
    schemas of other packages whose tables this package reads (applied first)."""

    package: str
    migrations: tuple[Migration, ...]
    requires: tuple[Schema, ...] = ()

    def __post_init__(self) -> None:
        numbers = [m.version for m in self.migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"schema {self.package}: migrations must be numbered 1..N, got {numbers}")

    @property
    def version(self) -> int:
        return len(self.migrations)


def sql_migrations(package: str) -> tuple[Migration, ...]:
    """The migrations in ``<package>/migrations/NNNN_<what>.sql``, in order."""
    folder = resources.files(package).joinpath("migrations")
    found = sorted((m.group(1), f) for f in folder.iterdir() if (m := _FILE.match(f.name)))
    return tuple(Migration(int(num), f.name, f.read_text(encoding="utf-8")) for num, f in found)


def prepare(conn: sqlite3.Connection, now: str) -> None:
    """Make sure the store has ``schema_versions`` (inside the caller's write transaction). A store made
    before it existed has the findings version in ``meta``; its other packages' tables came from
    scripts that migration 1 of each package repeats with IF NOT EXISTS, so they start at version 0.
    A file with tables but neither is refused."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "schema_versions" in names:
        return
    legacy = None
    if "meta" in names:
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        legacy = int(row[0]) if row else 1
    elif names - {"sqlite_sequence"}:
        raise StoreError("not a citysec findings store (it has tables but no schema version)")
    conn.execute(VERSIONS_DDL)
    if legacy is not None:
        conn.execute("INSERT INTO schema_versions VALUES ('findings', ?, ?)", (legacy, now))


def versions(conn: sqlite3.Connection) -> dict[str, int]:
    """Each package's version in the store (after :func:`prepare`)."""
    return {p: v for p, v in conn.execute("SELECT package, version FROM schema_versions")}


def apply(conn: sqlite3.Connection, schema: Schema, now: str, where: str) -> int:
    """Bring ``schema``'s tables to the code's version inside the caller's write transaction (after
    :func:`prepare`). Returns how many migrations ran (0: already current). ``where`` names the store."""
    stored = versions(conn).get(schema.package, 0)
    if stored > schema.version:
        raise StoreError(f"{where}: its {schema.package} tables have schema version {stored}; this citysec "
                         f"knows {schema.version}: upgrade citysec")
    for m in schema.migrations[stored:]:
        try:
            if callable(m.apply):
                m.apply(conn)
            else:
                run_script(conn, m.apply)
        except sqlite3.Error as exc:
            raise StoreError(f"{where}: migration {schema.package} {m.version} ({m.name}) failed: {exc}") from exc
    if stored < schema.version:
        conn.execute("INSERT INTO schema_versions VALUES (?,?,?) ON CONFLICT(package) DO UPDATE SET"
                     " version=excluded.version, applied=excluded.applied", (schema.package, schema.version, now))
    return schema.version - stored


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run an SQL script statement by statement (``executescript`` would COMMIT the transaction)."""
    buf = ""
    for ln in script.splitlines():
        if ln.lstrip().startswith("--"):
            continue
        buf += ln + "\n"
        if sqlite3.complete_statement(buf):   # a trigger's body holds ';' of its own
            conn.execute(buf)
            buf = ""
    if buf.strip():
        conn.execute(buf)
