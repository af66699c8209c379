"""Test jobs for the scheduler tests, loaded with `citysec run --jobs-module citysec_test_jobs`
(the documented hook; tests/scheduler is put on PYTHONPATH). Never part of the product.

Each job writes marker files under $SCHED_TEST_DIR so a test can see what ran and when.
"""

from __future__ import annotations

import os
import time
from datetime import datetime, timezone

from findings.model import Finding

JOBS = {
    "t-ok": "citysec_test_jobs:ok",
    "t-raise": "citysec_test_jobs:boom",
    "t-hang": "citysec_test_jobs:hang",
    "t-slow": "citysec_test_jobs:slow",
    "t-produce": "citysec_test_jobs:produce",
}
SCHEDULES = {"t-ok": "every 1 hour", "t-raise": "every 1 hour", "t-hang": "every 1 hour",
             "t-slow": "every 1 second", "t-produce": "every 1 hour"}
PRODUCE_COUNT = 20


def _mark(name: str, text: str) -> None:
    folder = os.environ.get("SCHED_TEST_DIR")
    if folder:
        with open(os.path.join(folder, name), "a", encoding="utf-8") as fh:
            fh.write(text + "\n")


def _finding(i: int, agency: str = "so-tttt") -> Finding:
    return Finding(check="test.sched", agency=agency, verdict="fail", severity="low",
                   host_ip=f"198.18.21.{i + 1}", message=f"test finding {i}")


def ok(app, run_id, *, agency=None):
    app.store.record([_finding(0)], run_id=run_id)
    _mark("t-ok", f"{os.getpid()} {run_id}")
    return {"findings": 1}


def boom(app, run_id, *, agency=None):
    raise RuntimeError("boom from a test job")


def hang(app, run_id, *, agency=None):
    _mark("t-hang", f"{os.getpid()} start")
    time.sleep(600)
    return {}


def slow(app, run_id, *, agency=None):
    seconds = float(os.environ.get("SCHED_TEST_SLOW", "2"))
    _mark("t-slow", f"start {time.time():.3f} {os.getpid()}")
    time.sleep(seconds)
    _mark("t-slow", f"end {time.time():.3f} {os.getpid()}")
    return {"slept": seconds}


def produce(app, run_id, *, agency=None):
    """Record findings one at a time (each record() commits), a marker after each commit.
    The alerts have a fixed timestamp, so a rerun gives the same document ids."""
    pause = float(os.environ.get("SCHED_TEST_PAUSE", "0.3"))
    for i in range(PRODUCE_COUNT):
        alert = Finding(check="test.sched.alert", agency="so-tttt", kind="alert", severity="medium",
                        host_ip=f"198.18.21.{i + 1}", message=f"test alert {i}",
                        timestamp=datetime(2026, 11, 1, 0, 0, i, tzinfo=timezone.utc))
        app.store.record([_finding(i), alert], run_id=run_id)
        _mark("t-produce", str(i + 1))
        time.sleep(pause)
    return {"findings": PRODUCE_COUNT}
