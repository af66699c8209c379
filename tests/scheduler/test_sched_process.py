"""`citysec run` as a real process: jobs that raise or hang, no overlap, SIGTERM, kill -9 recovery.

The jobs are the test jobs of citysec_test_jobs.py, loaded with --jobs-module; every command here
uses --only, so no built-in job (and no scan) ever runs.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from sched_helpers import ROOT, cli_env, write_city

CITYSEC = str(ROOT / ".venv" / "bin" / "citysec")


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    city = tmp_path / "city.yaml"
    if not city.exists():
        write_city(tmp_path, "schedules:\n  timeout_seconds: {t-hang: 6}\n")
    log = open(tmp_path / "run.log", "ab")
    return subprocess.Popen([CITYSEC, "--config", str(city), "run", "--jobs-module", "citysec_test_jobs",
                             "--log-file", str(tmp_path / "citysec.log"), *args],
                            cwd=tmp_path, env=cli_env(tmp_path) | (env or {}), stdout=log, stderr=log)


def runs(tmp_path: Path, job: str | None = None) -> list[dict]:
    con = sqlite3.connect(tmp_path / "citysec.db")
    con.row_factory = sqlite3.Row
    sql = "SELECT * FROM runs" + (" WHERE job=?" if job else "") + " ORDER BY started"
    rows = [dict(r) for r in con.execute(sql, (job,) if job else ())]
    con.close()
    return rows


def count(tmp_path: Path, sql: str) -> int:
    con = sqlite3.connect(tmp_path / "citysec.db")
    n = con.execute(sql).fetchone()[0]
    con.close()
    return n


def wait_for(pred, timeout: float = 60.0, what: str = "condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def markers(tmp_path: Path, name: str) -> list[str]:
    path = tmp_path / name
    return path.read_text().split("\n")[:-1] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:   # a zombie is not alive
        return fh.read().split(") ", 1)[1][0] != "Z"


def test_once_records_ok_failed_and_timeout_and_exits_3(tmp_path):
    proc = start(tmp_path, "--once", "--only", "t-ok", "--only", "t-raise", "--only", "t-hang", "--json")
    assert proc.wait(120) == 3
    outs = json.loads((tmp_path / "run.log").read_text().split("citysec:")[0])
    assert outs == {"t-ok": "ok", "t-raise": "failed", "t-hang": "timeout"}
    by_job = {r["job"]: r for r in runs(tmp_path)}
    assert by_job["t-ok"]["outcome"] == "ok" and json.loads(by_job["t-ok"]["counts"]) == {"findings": 1}
    assert by_job["t-raise"]["error"] == "RuntimeError: boom from a test job"
    assert by_job["t-hang"]["outcome"] == "timeout" and "timeout of 6 s" in by_job["t-hang"]["error"]
    hang_pid = int(markers(tmp_path, "t-hang")[0].split()[0])   # the hung job really started ...
    assert not alive(hang_pid)                                  # ... and was stopped
    log = [json.loads(line) for line in (tmp_path / "citysec.log").read_text().splitlines()]
    assert {"@timestamp", "log.level", "message", "ecs.version"} <= set(log[0])
    assert any(e.get("error", {}).get("type") == "RuntimeError" for e in log)


def test_the_same_job_never_runs_twice_at_once_even_from_two_processes(tmp_path):
    env = {"SCHED_TEST_SLOW": "1.5"}
    a = start(tmp_path, "--only", "t-slow", env=env)
    b = start(tmp_path, "--only", "t-slow", env=env)
    wait_for(lambda: len([m for m in markers(tmp_path, "t-slow") if m.startswith("end")]) >= 4,
             timeout=120, what="four runs of t-slow")
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
    assert a.wait(60) == 0 and b.wait(60) == 0
    spans, open_start = [], None
    for m in markers(tmp_path, "t-slow"):
        kind, ts, _pid = m.split()
        if kind == "start":
            assert open_start is None, "a run of t-slow started while another was running"
            open_start = float(ts)
        else:
            spans.append((open_start, float(ts)))
            open_start = None
    rows = [r for r in runs(tmp_path, "t-slow") if r["outcome"] == "ok"]
    assert len(rows) == len(spans) >= 4
    assert len({r["pid"] for r in rows}) == len(rows)


def logs(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in (tmp_path / "run.log", tmp_path / "citysec.log")
                     if p.exists())


def test_sigterm_lets_the_running_job_finish_and_starts_no_new_one(tmp_path):
    proc = start(tmp_path, "--only", "t-slow", "--grace", "60", env={"SCHED_TEST_SLOW": "3"})
    wait_for(lambda: markers(tmp_path, "t-slow"), what="t-slow to start")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(60) == 0, logs(tmp_path)
    assert [m.split()[0] for m in markers(tmp_path, "t-slow")] == ["start", "end"], logs(tmp_path)
    assert [r["outcome"] for r in runs(tmp_path, "t-slow")] == ["ok"], logs(tmp_path)
    # the WAL was checkpointed into the database file
    assert not (tmp_path / "citysec.db-wal").exists() or (tmp_path / "citysec.db-wal").stat().st_size == 0


def test_sigterm_past_the_grace_period_records_interrupted(tmp_path):
    proc = start(tmp_path, "--only", "t-slow", "--grace", "1", env={"SCHED_TEST_SLOW": "120"})
    wait_for(lambda: markers(tmp_path, "t-slow"), what="t-slow to start")
    job_pid = int(markers(tmp_path, "t-slow")[0].split()[2])
    proc.send_signal(signal.SIGINT)
    assert proc.wait(60) == 0
    (run,) = runs(tmp_path, "t-slow")
    assert run["outcome"] == "interrupted" and "grace period" in run["error"]
    assert not alive(job_pid)


def test_kill_9_loses_no_finding_and_the_restart_writes_no_duplicate(tmp_path):
    proc = start(tmp_path, "--once", "--only", "t-produce", env={"SCHED_TEST_PAUSE": "0.3"})
    wait_for(lambda: len(markers(tmp_path, "t-produce")) >= 5, what="five recorded findings")
    job_pid = runs(tmp_path, "t-produce")[0]["pid"]
    proc.kill()                                                  # SIGKILL: no handler runs
    proc.wait(30)
    wait_for(lambda: not alive(job_pid), what="the job process to die with its parent")
    produced = len(markers(tmp_path, "t-produce"))
    assert 5 <= produced < 20
    assert count(tmp_path, "SELECT COUNT(*) FROM current WHERE check_id='test.sched'") == produced
    assert count(tmp_path, "SELECT COUNT(*) FROM events WHERE check_id='test.sched.alert'") == produced
    assert count(tmp_path, "SELECT COUNT(*) FROM outbox WHERE stream='event'") == produced
    assert [r["outcome"] for r in runs(tmp_path, "t-produce")] == ["running"]

    again = start(tmp_path, "--once", "--only", "t-produce", env={"SCHED_TEST_PAUSE": "0"})
    assert again.wait(120) == 0
    first, second = runs(tmp_path, "t-produce")
    assert first["outcome"] == "interrupted" and second["outcome"] == "ok"
    # the same 20 findings and alerts once each, and each document once in the outbox
    assert count(tmp_path, "SELECT COUNT(*) FROM current WHERE check_id='test.sched'") == 20
    assert count(tmp_path, "SELECT COUNT(*) FROM events WHERE check_id='test.sched.alert'") == 20
    assert count(tmp_path, "SELECT COUNT(*) FROM outbox WHERE stream='event'") == 20
    assert count(tmp_path, "SELECT COUNT(*) FROM outbox WHERE stream='state'") == 20
    assert count(tmp_path, "SELECT COUNT(DISTINCT doc_id) FROM outbox") == count(tmp_path, "SELECT COUNT(*) FROM outbox")
    assert count(tmp_path, "SELECT COUNT(*) FROM history") == produced + 20
