"""The scheduler's plan: which jobs, on which schedule, with which timeout — checked strictly.

Jobs come from :data:`citysec.jobs.JOBS`. Their schedules come from the config's ``schedules``
(a bad string is a config error naming file, YAML path and line), their timeouts from
``schedules.timeout_seconds`` (default :data:`DEFAULT_TIMEOUT`).

Extra job modules (``citysec run --jobs-module MODULE``, the documented hook the tests use, also
fit for a site's own jobs): a Python module with ``JOBS = {name: "module:function"}`` and
``SCHEDULES = {name: "every ..."}``. It adds jobs; it can never replace a built-in one.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from findings.errors import ConfigError, UsageError

from citysec.jobs import JOBS
from config.loader import LoadedConfig
from citysec.scheduler.spec import Spec, SpecError, parse_spec

DEFAULT_TIMEOUT = 3600
GATED = {"services": "scan_windows", "portsweep": "scan_windows"}   # jobs that run only inside the scan windows
BUILTIN = frozenset(JOBS)
EXTRA_SCHEDULES: dict[str, str] = {}


@dataclass(frozen=True)
class PlannedJob:
    name: str
    spec: Spec | None          # None: not scheduled; runs only when asked (run --once --only NAME)
    timeout: float
    gate: str | None = None


def register_jobs(jobs: dict[str, str], schedules: dict[str, str] | None = None) -> None:
    """Add jobs (name → "module:function") with their default schedules."""
    for name, target in jobs.items():
        if name in BUILTIN:
            raise UsageError(f"job module: {name!r} is a built-in job and cannot be replaced")
        if not isinstance(target, str) or ":" not in target:
            raise UsageError(f"job module: {name!r} → {target!r}: expected 'module:function'")
        JOBS[name] = target
    EXTRA_SCHEDULES.update(schedules or {})


def load_job_modules(modules: list[str] | tuple[str, ...]) -> None:
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ImportError as exc:
            raise UsageError(f"--jobs-module {name}: cannot import it: {exc}") from None
        jobs = getattr(mod, "JOBS", None)
        if not isinstance(jobs, dict):
            raise UsageError(f"--jobs-module {name}: it has no JOBS mapping")
        register_jobs(jobs, getattr(mod, "SCHEDULES", {}))


def schedule_text(cfg: LoadedConfig, name: str) -> str | None:
    return getattr(cfg.city.schedules, name, None) or EXTRA_SCHEDULES.get(name)


def schedule_problems(schedules: dict) -> list[tuple[tuple, str]]:
    """Every schedule string (``schedules`` as written) that :func:`build_plan` would refuse, as
    (YAML path, message) pairs."""
    problems = []
    for name, text in schedules.items():
        if name in JOBS and isinstance(text, str):
            try:
                parse_spec(text)
            except SpecError as exc:
                problems.append((("schedules", name), str(exc)))
    return problems


def build_plan(cfg: LoadedConfig, only: list[str] | tuple[str, ...] = ()) -> list[PlannedJob]:
    """Every scheduled job (or the ``only`` ones). Raises ConfigError listing every bad entry."""
    problems: list[str] = []
    for name in only:
        if name not in JOBS:
            raise UsageError(f"--only {name}: unknown job; the jobs: {', '.join(sorted(JOBS))}")
    sched = cfg.city.schedules
    for name, seconds in sched.timeout_seconds.items():
        where = cfg.where("schedules", "timeout_seconds", name)
        if name not in JOBS:
            problems.append(f"{where}: unknown job {name!r}; the jobs: {', '.join(sorted(JOBS))}")
        elif seconds < 1:
            problems.append(f"{where}: a timeout must be at least 1 second, not {seconds}")
    plan = []
    for name in JOBS:
        text = schedule_text(cfg, name)
        if (only and name not in only) or (text is None and not only):
            continue
        try:
            spec = parse_spec(text) if text is not None else None
        except SpecError as exc:
            problems.append(f"{cfg.where('schedules', name)}: {exc}")
            continue
        plan.append(PlannedJob(name, spec, float(sched.timeout_seconds.get(name, DEFAULT_TIMEOUT)),
                               GATED.get(name)))
    if problems:
        raise ConfigError(problems)
    return plan
