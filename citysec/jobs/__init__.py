"""Jobs: the units of work that commands, the scheduler and the demo run, with run history.

A job is a function ``fn(app, run_id, *, agency=None) -> dict`` (its counts) that records its
findings in ``app.store`` itself. :func:`run_job` wraps it in a run (start, finish, outcome,
error) so every way of running a job leaves the same history.
"""

from __future__ import annotations

import importlib
import traceback
from typing import Any, Callable

from findings.errors import CitysecError

# job name → "module:function". Each area's issue fills in its jobs.
JOBS: dict[str, str] = {
    "discovery": "citysec.jobs.scan:discovery",
    "services": "citysec.jobs.scan:services",
    "portsweep": "citysec.jobs.scan:portsweep",
    "antivirus": "citysec.jobs.collect:antivirus",
    "backup": "citysec.jobs.collect:backup",
    "logs": "citysec.jobs.collect:logs",
    "ship": "citysec.jobs.ship:ship",
    "reports": "citysec.jobs.reports:reports",
    "cases": "citysec.jobs.cases:cases",
    "triage": "citysec.jobs.triage:triage_job",
}


def job_function(name: str) -> Callable[..., dict[str, Any]]:
    module, _, func = JOBS[name].partition(":")
    return getattr(importlib.import_module(module), func)


def run_job(app, name: str, **kwargs: Any) -> tuple[str, dict[str, Any]]:
    """Run one job as a recorded run. Returns (run_id, counts); re-raises after recording."""
    store = app.store
    run_id = store.start_run(name, sensor=app.sensor)
    try:
        counts = job_function(name)(app, run_id, **kwargs) or {}
    except CitysecError as exc:
        store.finish_run(run_id, "failed", error=str(exc))
        raise
    except BaseException as exc:
        store.finish_run(run_id, "failed", error="".join(traceback.format_exception_only(exc)).strip())
        raise
    store.finish_run(run_id, "ok", counts=counts)
    return run_id, counts
