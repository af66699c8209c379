"""Schema versions: a version-1 store is migrated in place, a newer store is refused untouched."""

from __future__ import annotations

import os
import sqlite3

import pytest

from findings.errors import StoreError
from findings.model import Finding
from findings.store import SCHEMA_VERSION, Store

V1 = os.path.join(os.path.dirname(__file__), "..", "fixtures", "findings", "schema_v1.sql")


def make_v1(path: str) -> None:
    """A store as citysec 0.1 (schema version 1) left it, with one open finding."""
    conn = sqlite3.connect(path)
    with open(V1, encoding="utf-8") as fh:
        conn.executescript(fh.read())
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.execute("INSERT INTO current (fingerprint, kind, check_id, dataset, agency, host, verdict, severity,"
                 " status, first_seen, last_seen, last_checked, doc) VALUES ('fp1', 'state', 'exposure.telnet',"
                 " 'citysec.exposure', 'q-a', '198.18.202.11', 'fail', 'high', 'open', '2025-01-01T00:00:00.000Z',"
                 " '2025-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z', '{}')")
    conn.commit()
    conn.close()


def indexes(store: Store) -> set[str]:
    return {r[0] for r in store.query("SELECT name FROM sqlite_master WHERE type='index'")}


def test_a_new_store_has_the_current_version(tmp_path):
    store = Store(tmp_path / "n.db")
    assert store.schema_version == SCHEMA_VERSION == 3
    assert {"history_check", "events_check"} <= indexes(store)


def test_a_version_1_store_is_migrated_and_keeps_its_rows(tmp_path):
    path = str(tmp_path / "old.db")
    make_v1(path)
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION
    assert {"history_check", "events_check"} <= indexes(store)
    assert [r["fingerprint"] for r in store.current()] == ["fp1"]
    store.record([Finding(check="exposure.ftp", agency="q-a", verdict="fail", host_ip="198.18.202.11", port=21)])
    assert len(store.current(status="open")) == 2
    store.close()
    assert Store(path).schema_version == SCHEMA_VERSION     # opening again: nothing to do
    assert {"triage", "notify_out", "outbox_sent"} <= {r[0] for r in store.query(
        "SELECT name FROM sqlite_master WHERE type='table'")}    # the tables added since version 1


def test_a_store_of_a_newer_citysec_is_refused_untouched(tmp_path):
    path = str(tmp_path / "future.db")
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_versions SET version=99 WHERE package='findings'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="its findings tables have schema version 99; this citysec knows 3:"
                                         " upgrade citysec"):
        Store(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_versions WHERE package='findings'").fetchone()[0] == 99


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    path = str(tmp_path / "other.db")
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE cases (id TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not a citysec findings store"):
        Store(path)


def test_an_sqlite_error_inside_a_write_rolls_back_and_is_a_store_error(tmp_path):
    store = Store(tmp_path / "e.db")
    with pytest.raises(StoreError, match="no such table"), store.write() as c:
        c.execute("INSERT INTO runs (id, job, started) VALUES ('r', 'j', 'now')")
        c.execute("INSERT INTO nowhere VALUES (1)")
    assert store.runs() == []
    store.start_run("j")          # the connection is usable again (no transaction left open)
    assert len(store.runs()) == 1
