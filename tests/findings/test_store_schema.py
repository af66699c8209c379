"""The store's schema registry (findings.schema): every package's tables and numbered migrations,
applied by one runner when the store opens; a store of the previous release is migrated with its
data; a store newer than the code is refused, untouched."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from citysec.web.tables import SCHEMA as WEB
from collectors.state import SCHEMA as COLLECTORS
from collectors.state import CollectorState
from exercises import db as drills
from exercises.db import SCHEMA as EXERCISES
from findings import Store, triage
from findings.errors import StoreError
from findings.schema import Migration, Schema
from playbooks import casedb
from playbooks.casedb import SCHEMA as CASES

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "findings")
RELEASE = os.path.join(FIXTURES, "store-release-ce0c2e6.db")
ALL = (COLLECTORS, CASES, EXERCISES, WEB)
TABLES = {"meta", "current", "history", "events", "runs", "outbox", "dead_letters", "outbox_sent", "triage",
          "triage_log", "notify_queue", "notify_out", "cases", "case_findings", "case_steps", "case_approvals",
          "case_audit", "case_deadlines", "case_cursor", "exercise_runs", "exercise_injects",
          "exercise_expectations", "exercise_ratings", "exercise_survey", "exercise_actions", "exercise_lapses",
          "collector_cursors", "backup_restore_tests", "web_users", "web_sessions", "web_failures", "web_audit",
          "web_accept_requests", "schema_versions"}


def raw(path) -> sqlite3.Connection:
    return sqlite3.connect(path)


def counts(path) -> dict[str, int]:
    c = raw(path)
    names = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'"
                                     " AND name NOT IN ('sqlite_sequence', 'schema_versions')")]
    out = {n: c.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0] for n in names}
    c.close()
    return out


def shape(path) -> dict[str, object]:
    """Every table's columns, index's columns and trigger's text: the schema as SQLite sees it."""
    c = raw(path)
    out: dict[str, object] = {}
    for kind, name, sql in c.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"):
        if kind == "table":
            out[name] = c.execute(f"PRAGMA table_info({name})").fetchall()
        elif kind == "index":
            out[name] = c.execute(f"PRAGMA index_info({name})").fetchall()
        else:
            out[name] = " ".join(sql.split())
    c.close()
    return out


@pytest.fixture
def release(tmp_path):
    path = tmp_path / "citysec.db"
    shutil.copy(RELEASE, path)
    return path


def test_a_new_store_gets_every_table_of_every_package(tmp_path):
    store = Store(tmp_path / "n.db", schemas=ALL)
    tables = {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables - {"sqlite_sequence"} == TABLES
    assert store.schema_versions() == {"findings": 3, "collectors": 1, "playbooks": 1, "exercises": 3, "web": 1}
    assert store.schema_version == 3


def test_the_previous_release_store_is_migrated_and_keeps_its_data(release, tmp_path):
    before = counts(release)
    assert before["current"] == 3 and before["cases"] == 1 and before["exercise_runs"] == 1
    assert "schema_versions" not in shape(release)
    store = Store(release, schemas=ALL)
    assert store.schema_versions() == {"findings": 3, "collectors": 1, "playbooks": 1, "exercises": 3, "web": 1}
    store.close()
    after = counts(release)
    assert {t: after[t] for t in before} == before               # every row kept
    assert {t: n for t, n in after.items() if t not in before} == dict.fromkeys(
        ("web_users", "web_sessions", "web_failures", "web_audit", "web_accept_requests"), 0)  # newer tables
    # the previous release reads meta's version: it now refuses this store instead of writing to it
    assert raw(release).execute("SELECT value FROM meta WHERE key='schema_version'").fetchone() == ("3",)
    assert raw(release).execute("SELECT COUNT(*) FROM runs WHERE pid_start IS NULL").fetchone() == (2,)
    fresh = tmp_path / "fresh.db"
    Store(fresh, schemas=ALL).close()
    assert shape(release) == shape(fresh)
    # what was in it still reads through each owner
    store = Store(release, schemas=ALL)
    assert {f["check_id"]: f["status"] for f in store.current()} == {
        "exposure.telnet": "open", "exposure.ftp": "closed", "exposure.rdp": "closed"}
    assert triage.verify(store) == [] and len(triage.active(store)) == 1
    case = casedb.case_row(store, "IR-20261120")
    assert case["playbook"] == "contain-test" and casedb.steps_of(store, case["id"])["triage"]["state"] == "done"
    assert drills.run_row(store, "drill-2026-a")["state"] == "completed"
    state = CollectorState(store)
    assert set(state.cursors()) == {("198.18.176.11", "/var/log/auth.log")}
    assert set(state.last_restore_tests()) == {"ke-toan"}
    # and it keeps working: the append-only triggers came along
    with pytest.raises(StoreError, match="append-only"), store.write() as c:
        c.execute("DELETE FROM case_audit")


def test_opening_twice_changes_nothing(release):
    Store(release, schemas=ALL).close()
    versions = raw(release).execute("SELECT * FROM schema_versions ORDER BY package").fetchall()
    store = Store(release, schemas=ALL)
    assert store.read().total_changes == 0
    store.require(EXERCISES)
    CollectorState(store)
    assert store.read().total_changes == 0
    assert raw(release).execute("SELECT * FROM schema_versions ORDER BY package").fetchall() == versions


def test_an_owner_gets_its_tables_from_a_store_opened_without_them(tmp_path):
    store = Store(tmp_path / "s.db")
    assert set(store.schema_versions()) == {"findings"}
    drills.ensure_tables(store)                 # the drill tables, and the case tables they read
    assert store.schema_versions() == {"findings": 3, "playbooks": 1, "exercises": 3}
    assert store.query("SELECT COUNT(*) FROM cases")[0][0] == 0


def test_a_store_newer_than_the_code_is_refused_untouched(release):
    Store(release, schemas=ALL).close()
    c = raw(release)
    c.execute("UPDATE schema_versions SET version=7 WHERE package='playbooks'")
    c.commit()
    before = shape(release)
    with pytest.raises(StoreError, match="its playbooks tables have schema version 7; this citysec knows 1:"
                                         " upgrade citysec"):
        Store(release, schemas=ALL)
    store = Store(release)                      # findings alone is current: it opens
    with pytest.raises(StoreError, match="playbooks tables have schema version 7"):
        casedb.ensure_tables(store)
    assert shape(release) == before
    assert raw(release).execute("SELECT version FROM schema_versions WHERE package='playbooks'").fetchone() == (7,)


def test_a_failed_migration_leaves_nothing_behind(tmp_path):
    def broken(conn):
        conn.execute("INSERT INTO nowhere VALUES (1)")
    schema = Schema("testpkg", (Migration(1, "0001_first.sql", "CREATE TABLE t1 (x INTEGER)"),
                                Migration(2, "add_column", lambda c: c.execute("ALTER TABLE t1 ADD COLUMN y")),
                                Migration(3, "broken", broken)))
    store = Store(tmp_path / "f.db")
    with pytest.raises(StoreError, match=r"migration testpkg 3 \(broken\) failed: no such table: nowhere"):
        store.require(schema)
    assert store.query("SELECT name FROM sqlite_master WHERE name='t1'") == []
    assert "testpkg" not in store.schema_versions()
    ok = Schema("testpkg", schema.migrations[:2])
    store.require(ok)
    assert [r[1] for r in store.query("PRAGMA table_info(t1)")] == ["x", "y"]
    assert store.schema_versions()["testpkg"] == 2


def test_migrations_must_be_numbered_from_one():
    with pytest.raises(ValueError, match=r"numbered 1..N, got \[1, 3\]"):
        Schema("x", (Migration(1, "a", ""), Migration(3, "c", "")))


def test_the_command_opens_with_every_schema_and_refuses_a_newer_store_with_exit_3(tmp_path):
    cfg = tmp_path / "city.yaml"
    shutil.copy(os.path.join(os.path.dirname(__file__), "..", "..", "config", "examples", "haiphong.yaml"), cfg)
    exe = os.path.join(os.path.dirname(sys.executable), "citysec")
    r = subprocess.run([exe, "--config", str(cfg), "status", "--json"], capture_output=True, text=True,
                       cwd=tmp_path, check=False, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["store"]["schema_versions"] == {"findings": 3, "collectors": 1, "playbooks": 1,
                                                               "exercises": 3, "web": 1}
    path = tmp_path / "var" / "citysec.db"
    c = raw(path)
    c.execute("UPDATE schema_versions SET version=4 WHERE package='findings'")
    c.commit()
    r = subprocess.run([exe, "--config", str(cfg), "status"], capture_output=True, text=True, cwd=tmp_path, check=False,
                       timeout=120)
    assert r.returncode == 3, r.stderr
    assert "its findings tables have schema version 4; this citysec knows 3: upgrade citysec" in r.stderr
    assert "Traceback" not in r.stderr
