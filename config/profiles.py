"""Regulatory profiles (``config/profiles/<name>.yaml``): incident deadlines and who receives the
reports, the calendar of periodic reports, and the mapping of checks to controls.

Numbers the city may have to correct (see docs/regulations.md, marks [?] and [S]) live in these
files, never in code. Readers::

    p = load_profile("nd85")
    p.deadline("final_report").hours               # 120, counted from the end of the response
    p.incident_deadlines()                         # plain dicts for playbooks.deadlines
    p.due_dates(2026)                              # [(date(2026, 6, 20), ReportDue(...)), ...]
    p.controls_for("av.signatures", level=3)       # ('TCVN11930:7.2.2.5', 'CIS8:10.1', ...)
"""

from __future__ import annotations

import os
import re
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from findings.errors import ConfigError

from findings.support.yamlerrors import format_pydantic
from findings.support.yamlpos import load_one

PROFILES = ("nd85", "nd331")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeadlineRule(_Strict):
    """An incident deadline: ``hours`` after detection (or after the response ends)."""
    name: str
    report: Literal["notice", "initial", "final"]
    hours: float = Field(ge=0, description="0: at once.")
    start: Literal["detection", "response_end"] = Field("detection", alias="from")
    min_severity: Literal["info", "low", "medium", "high", "critical"] = "info"
    when: str | None = Field(None, description="A condition a person decides (e.g. beyond_capacity).")
    form: str | None = None
    basis: str | None = None
    verified: bool = Field(True, description="False: marked [?]/[S] in docs/regulations.md; check it.")


class Recipient(_Strict):
    id: str
    name: str
    name_en: str | None = None
    receives: list[str] = Field(description="Report names or ids it receives.")
    verified: bool = True


class Incident(_Strict):
    deadlines: list[DeadlineRule]
    recipients: list[Recipient] = []


class ReportDue(_Strict):
    """A periodic report: its due dates (month-day), a draft period before them, its route."""
    id: str
    name: str
    name_en: str | None = None
    period: Literal["week", "quarter", "half_year", "year", "drill"]
    due: list[str] = Field([], description="Month-days 'MM-DD'; empty: no calendar date.")
    draft_days_before: int = Field(14, ge=0)
    sender: str | None = None
    recipient: str | None = None
    basis: str | None = None
    verified: bool = True

    @field_validator("due")
    @classmethod
    def _due(cls, v: list[str]) -> list[str]:
        for item in v:
            m = _MONTH_DAY.match(str(item))
            try:
                date(2024, int(m[1]), int(m[2])) if m else None
            except ValueError:
                m = None
            if not m:
                raise ValueError(f"due {item!r} is not a month-day like '12-15'")
        return v


class Controls(_Strict):
    """Check id (or prefix ending in '.') → control ids. ``x`` in a TCVN 11930 id stands for
    ``level_offset`` + the system's level (x = 4 + level); without a level it stays ``x``."""
    level_offset: int = 4
    checks: dict[str, list[str]]


Severity = Literal["info", "low", "medium", "high", "critical"]


class Remediation(_Strict):
    """Days to fix a finding, from its opening, per severity; optionally per agency (its id)."""
    days: dict[Severity, int] = Field({}, description="Severity → days; a severity not listed has no deadline.")
    agencies: dict[str, dict[Severity, int]] = Field({}, description="Agency id → severity → days.")
    basis: str | None = None
    verified: bool = True

    @field_validator("days")
    @classmethod
    def _positive(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [f"{k}: {n}" for k, n in v.items() if n < 1]
        if bad:
            raise ValueError(f"days must be at least 1 ({', '.join(bad)})")
        return v


class Margins(_Strict):
    top: float = 20
    bottom: float = 20
    left: float = 30
    right: float = 15

    @field_validator("top", "bottom", "left", "right")
    @classmethod
    def _sane(cls, v: float) -> float:
        if not 5 <= v <= 60:
            raise ValueError("a margin is given in millimetres, between 5 and 60")
        return v


class Paper(_Strict):
    """The page of the documents that leave the SOC, as Decree 30/2020/NĐ-CP (Appendix I) lays
    out administrative documents: A4, margins top/bottom 20–25 mm, left 30–35 mm, right
    15–20 mm, Times New Roman 13–14 pt (or a metric-compatible font: Liberation Serif, Tinos)."""
    size: Literal["A4"] = "A4"
    margins_mm: Margins = Margins()
    fonts: list[str] = ["Times New Roman", "Liberation Serif", "Tinos"]
    font_size_pt: float = 13
    table_font_size_pt: float = 10.5
    place: str = ""           # the place of "place, date" (default: the city's name)


class Profile(_Strict):
    id: str
    name: str
    name_en: str
    basis: list[str]
    incident: Incident
    reports: list[ReportDue]
    controls: Controls
    remediation: Remediation = Remediation()
    paper: Paper = Paper()

    def deadline(self, name: str) -> DeadlineRule:
        for d in self.incident.deadlines:
            if d.name == name:
                return d
        raise KeyError(f"profile {self.id}: no incident deadline {name!r}")

    def incident_deadlines(self) -> list[dict]:
        """The deadlines as plain dicts (``from``, ``hours``, ``report``, ...) for playbooks."""
        return [d.model_dump(by_alias=True) for d in self.incident.deadlines]

    def recipients_of(self, report: str) -> list[Recipient]:
        return [r for r in self.incident.recipients if report in r.receives]

    def report(self, report_id: str) -> ReportDue:
        for r in self.reports:
            if r.id == report_id:
                return r
        raise KeyError(f"profile {self.id}: no report {report_id!r}")

    def due_dates(self, year: int) -> list[tuple[date, ReportDue]]:
        """Every calendar due date of ``year``, soonest first (29 February skipped in common years)."""
        out = []
        for r in self.reports:
            for md in r.due:
                month, day = map(int, md.split("-"))
                try:
                    out.append((date(year, month, day), r))
                except ValueError:
                    continue
        return sorted(out, key=lambda t: (t[0], t[1].id))

    def controls_for(self, check: str, level: int | None = None) -> tuple[str, ...]:
        """Controls of a check: the exact id's entry, else the longest matching prefix's."""
        keys = [k for k in self.controls.checks if k == check or (k.endswith(".") and check.startswith(k))]
        if not keys:
            return ()
        best = max(keys, key=lambda k: (k == check, len(k)))
        out = self.controls.checks[best]
        if level is not None:
            x = str(self.controls.level_offset + level)
            out = [re.sub(r"(?<=:)x(?=\.)", x, c) for c in out]
        return tuple(out)


def profile_file(name: str) -> str:
    """The file of a profile: a known name (nd85, nd331) or a path to a YAML file."""
    if name.endswith((".yaml", ".yml")) or os.sep in name:
        return name
    return str(resources.files("config").joinpath("profiles", f"{name}.yaml"))


@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Profile:
    data, positions = load_one(path)
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_pydantic(exc, positions, path, data, root=Profile)) from None


def load_profile(name: str) -> Profile:
    """Load and validate a profile. Errors name the profile file, YAML path and line."""
    path = profile_file(name)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        raise ConfigError(f"profile {name!r}: no such file {path} (known: {', '.join(PROFILES)})") from None
    return _load(path, mtime)
