"""The playbook model (pydantic, unknown keys rejected). Cross-field rules live in :mod:`.loader`.

A playbook has triggers (which findings or alerts open a case), phases in the order of its phase
model (Circular 20/2017 art. 11, or NIST SP 800-61), and steps of three kinds: ``manual`` (a role
does a checklist and leaves evidence), ``action`` (an automated action of :mod:`playbooks.actions`)
and ``approval`` (the case waits until a role approves or declines the steps it covers).
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from findings.support.durations import parse_duration

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Severity = Literal["info", "low", "medium", "high", "critical"]
Zone = Literal["lan", "server", "dmz", "management"]
# The national taxonomy of incident types (regulations.md, national portal).
INCIDENT_TYPES = ("denial_of_service", "phishing", "malware", "unauthorized_access", "defacement",
                  "ransomware", "data_destruction", "data_theft", "combined", "other")
IncidentType = Literal["denial_of_service", "phishing", "malware", "unauthorized_access", "defacement",
                       "ransomware", "data_destruction", "data_theft", "combined", "other"]
# Phase models: the phase ids in order, and which phase's end means "contained" and "response ended".
PHASE_MODELS: dict[str, dict[str, Any]] = {
    "circular20": {"phases": ("receive", "respond", "restore", "wrapup"),
                   "contained": "respond", "response_ended": "restore"},
    "nist": {"phases": ("detection_analysis", "containment_eradication_recovery", "post_incident"),
             "contained": "containment_eradication_recovery",
             "response_ended": "containment_eradication_recovery"},
}
REF = re.compile(r"^\$(case|finding)\.[a-z_][a-z0-9_.]*$")
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Trigger(Strict):
    """A finding or alert opens a case when it matches every criterion given."""
    checks: list[str] = Field(min_length=1)        # check ids, or prefixes ending in '.'
    kinds: list[Literal["state", "alert"]] = ["state", "alert"]
    severity_at_least: Severity = "info"
    agencies: list[str] = []                       # empty: every agency
    zones: list[Zone] = []                         # empty: every zone


class Condition(Strict):
    """Run a step only when a case or finding field is present / equals / is one of values."""
    field: str = Field(pattern=r"^(case|finding)\.[a-z_][a-z0-9_.]*$")
    present: bool | None = None
    equals: str | int | bool | None = None
    in_: list[str | int] | None = Field(None, alias="in")


class Step(Strict):
    id: str = Field(pattern=SLUG)
    kind: Literal["manual", "action", "approval"]
    title: Text
    when: Condition | None = None
    # manual
    role: str | None = None                        # manual: who does it; approval: who approves
    checklist: list[Text] = []
    evidence: list[str] = []                       # what the step must leave behind
    time_limit: str | None = None                  # from the case's opening, e.g. 4h
    # action
    action: str | None = None
    params: dict[str, Any] = {}
    # approval
    approvers: int = Field(1, ge=1, le=3)          # distinct people needed
    covers: list[str] = []                         # the step ids this approval gates

    @field_validator("time_limit")
    @classmethod
    def _limit(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v


class Phase(Strict):
    id: str
    title: Text
    steps: list[Step] = Field(min_length=1)


class Playbook(Strict):
    id: str = Field(pattern=SLUG)
    version: int = Field(ge=1)
    title: Text
    description: Text | None = None
    incident_type: IncidentType
    severity: Severity
    phase_model: Literal["circular20", "nist"] = "circular20"
    manual_start: bool = True                      # may be opened by hand
    triggers: list[Trigger] = []
    # what makes later findings the same incident while its case is open: the same host, or (brute
    # force) the same source address, whichever host it targets (docs/incident-response.md)
    correlate: Literal["host", "source"] = "host"
    # playbooks this one replaces for a finding both match (ransomware over malware-detected for a
    # critical detection): one problem is one incident, handled by the narrower playbook
    supersedes: list[str] = []
    two_person_destructive: bool = False           # destructive actions need 2 distinct approvers
    phases: list[Phase] = Field(min_length=1)

    def steps(self) -> list[tuple[Phase, Step]]:
        return [(p, s) for p in self.phases for s in p.steps]

    def step(self, step_id: str) -> Step:
        for _, s in self.steps():
            if s.id == step_id:
                return s
        raise KeyError(step_id)

    def phase_of(self, step_id: str) -> Phase:
        for p, s in self.steps():
            if s.id == step_id:
                return p
        raise KeyError(step_id)
