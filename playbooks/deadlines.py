"""Regulatory deadlines of a case, counted from detection (or from the end of the response), with
the time left and whether they were missed. Pure functions: the clock is a parameter.

The rules come from the regulatory profile (``config/profiles/<name>.yaml``, read by the command
and passed in as plain dicts), e.g. nd85: notice ≤ 120 h from detection, final report ≤ 120 h
after the response ends; nd331: serious-incident notice ≤ 24 h, cause/scope/fix report ≤ 72 h.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from findings.errors import ConfigError
from findings.model import SEVERITIES, iso, parse_ts

STARTS = ("detection", "response_end")


@dataclass(frozen=True)
class Rule:
    name: str                    # e.g. notice, initial_report, final_report
    report: str                  # the report kind that meets it: notice, initial, final
    hours: float
    start: str = "detection"     # detection | response_end
    min_severity: str = "info"   # applies to cases at least this severe
    when: str | None = None      # applies only once a person flags this condition on the case


@dataclass(frozen=True)
class Deadline:
    name: str
    report: str
    due: datetime | None         # None: not started yet (the response has not ended)
    met_at: datetime | None
    left_seconds: float | None   # negative: overdue
    missed: bool

    def as_dict(self) -> dict:
        return {"name": self.name, "report": self.report, "due": iso(self.due) if self.due else None,
                "met_at": iso(self.met_at) if self.met_at else None, "left_seconds": self.left_seconds,
                "left": human(self.left_seconds), "missed": self.missed}


def rules_from_profile(profile_name: str, items: list[dict]) -> list[Rule]:
    """Build rules from the profile's incident deadlines; every problem names the profile."""
    out, problems = [], []
    for i, item in enumerate(items or []):
        try:
            rule = Rule(name=str(item["name"]), report=str(item["report"]), hours=float(item["hours"]),
                        start=str(item.get("from", "detection")), min_severity=str(item.get("min_severity", "info")),
                        when=item.get("when"))
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"profile {profile_name}: incident deadlines[{i}]: {exc}")
            continue
        if rule.start not in STARTS or rule.min_severity not in SEVERITIES or rule.report not in ("notice", "initial", "final"):
            problems.append(f"profile {profile_name}: incident deadlines[{i}]: from must be one of {STARTS},"
                            f" report notice|initial|final, min_severity a severity")
            continue
        out.append(rule)
    if problems:
        raise ConfigError(problems)
    return out


def compute(rules: list[Rule], *, severity: str, detected_at: str | datetime, response_ended_at: str | None,
            met: dict[str, str], now: datetime, conditions: frozenset[str] = frozenset()) -> list[Deadline]:
    """The deadlines of one case at ``now``."""
    out = []
    for r in rules:
        if SEVERITIES.index(severity) < SEVERITIES.index(r.min_severity) or (r.when and r.when not in conditions):
            continue
        start = parse_ts(detected_at) if r.start == "detection" else (
            parse_ts(response_ended_at) if response_ended_at else None)
        due = start + timedelta(hours=r.hours) if start else None
        met_at = parse_ts(met[r.name]) if met.get(r.name) else None
        ref = met_at or now
        left = (due - ref).total_seconds() if due else None
        out.append(Deadline(r.name, r.report, due, met_at, left, bool(due and ref > due)))
    return out


def human(seconds: float | None) -> str:
    if seconds is None:
        return "not started"
    sign, s = ("-" if seconds < 0 else ""), abs(int(seconds))
    d, rem = divmod(s, 86400)
    h, m = rem // 3600, (rem % 3600) // 60
    return f"{sign}{d}d {h}h {m}m" if d else f"{sign}{h}h {m}m"
