"""What `citysec config check` adds to :func:`config.loader.load_config`: the rules of the packages
that use the configuration later, with the same functions they use, so that a configuration that
passes `config check` is not refused later by the command that uses it.

- ``schedules.*``: the scheduler's parser (:func:`citysec.scheduler.plan.schedule_problems`;
  `run` and `status` refuse the same strings);
- ``reports.weights``: the ranking's rule (:func:`reports.ranking.weight_problems`; `report ranking`);
- the profile's per-agency remediation deadlines name agencies of the configuration (the triage job's
  rule, :func:`citysec.jobs.triage.deadline_problems`).

The rules that need nothing beyond the configuration (webhooks, drill targets, credentials) are
:mod:`config.validate`'s and run on every load.
"""

from __future__ import annotations

from config.loader import LoadedConfig


def later_problems(cfg: LoadedConfig) -> list[str]:
    from reports.ranking import weight_problems

    from citysec.jobs.triage import deadline_problems
    from citysec.scheduler.plan import schedule_problems
    problems = schedule_problems(cfg)
    for name, msg in weight_problems(cfg.city.reports.weights):
        loc = ("reports", "weights") + ((name,) if name else ())
        problems.append(f"{cfg.where(*loc)}: {msg}")
    return problems + deadline_problems(cfg.city)
