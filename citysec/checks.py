"""What `citysec config check` adds to :func:`config.loader.load_config`: the rules of the packages
that use the configuration later, with the same functions they use, so that a configuration that
passes `config check` is not refused later by the command that uses it.

- ``schedules.*``: the scheduler's parser (:func:`citysec.scheduler.plan.schedule_problems`;
  `run` and `status` refuse the same strings);
- ``reports.weights``: the ranking's rule (:func:`reports.ranking.weight_problems`; `report ranking`);
- the profile's per-agency remediation deadlines name agencies of the configuration (the triage
  job's rule, :func:`citysec.jobs.triage.deadline_problems`).

They read the raw data, so they are reported with the schema's errors of the same file. The
rules that need nothing beyond the configuration (webhooks, drill targets, credentials) are
:mod:`config.validate`'s and run on every load.
"""

from __future__ import annotations

from typing import Any

from findings.errors import ConfigError


def _mapping(data: Any, key: str) -> dict:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def later_problems(data: dict) -> list[tuple[tuple, str]]:
    """(YAML path, message) pairs; a value of the wrong type is left to the schema."""
    from reports.ranking import weight_problems

    from citysec.jobs.triage import deadline_problems
    from citysec.scheduler.plan import schedule_problems
    problems = schedule_problems(_mapping(data, "schedules"))
    reports = _mapping(data, "reports")
    weights = _mapping(reports, "weights")
    numbers = all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights.values())
    if "weights" in reports and numbers:
        problems += [(("reports", "weights") + ((name,) if name else ()), msg)
                     for name, msg in weight_problems(weights)]
    agencies = data.get("agencies") if isinstance(data, dict) else None
    ids = {a["id"] for a in agencies if isinstance(a, dict) and isinstance(a.get("id"), str)} \
        if isinstance(agencies, list) else set()
    profile = data.get("profile", "nd85") if isinstance(data, dict) else "nd85"
    try:
        problems += [(("profile",), msg) for msg in deadline_problems(profile, ids)] if isinstance(profile, str) else []
    except ConfigError:
        pass        # an unknown or broken profile: load_config reports it
    return problems
