"""The drill scenario (HSEEP): objectives, participants, rules of engagement, the MSEL of injects
and the expectations of each inject. A pydantic model with unknown keys rejected; the rules that
need the city's configuration, the playbook library or the range are in :mod:`.validate`.

Times are scenario times: ``at: 10m`` is ten minutes after the start of the drill, ``within: 30m``
a window of thirty scenario minutes. An accelerated run (``--speed N``) compresses both by N.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from findings.support.durations import parse_duration

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Severity = Literal["info", "low", "medium", "high", "critical"]

# HSEEP ratings of an Exercise Evaluation Guide (HSEEP 2020, appendix B), in the report's languages.
RATINGS: dict[str, dict[str, str]] = {
    "P": {"en": "Performed without challenges: the targets and critical tasks were completed in a manner"
                " that achieved the objective(s) and did not negatively impact the performance of other"
                " activities, did not contribute to additional health and/or safety risks, and was"
                " conducted in accordance with applicable plans, policies, procedures, regulations and laws.",
          "vi": "Thực hiện không gặp khó khăn: các mục tiêu và nhiệm vụ trọng yếu được hoàn thành, đạt mục"
                " tiêu, không ảnh hưởng xấu tới các hoạt động khác, không phát sinh rủi ro thêm và đúng kế"
                " hoạch, quy trình, quy định và pháp luật."},
    "S": {"en": "Performed with some challenges: the targets and critical tasks were completed in a manner"
                " that achieved the objective(s) (as for P), but opportunities to enhance effectiveness"
                " and/or efficiency were identified.",
          "vi": "Thực hiện với một số khó khăn: nhiệm vụ trọng yếu được hoàn thành và đạt mục tiêu, nhưng"
                " phát hiện những điểm có thể nâng cao hiệu lực và/hoặc hiệu quả."},
    "M": {"en": "Performed with major challenges: the targets and critical tasks were completed in a manner"
                " that achieved the objective(s), but some or all of the following were observed:"
                " a negative impact on other activities; additional health and/or safety risks; not in"
                " accordance with applicable plans, policies, procedures, regulations and laws.",
          "vi": "Thực hiện với khó khăn lớn: nhiệm vụ được hoàn thành, nhưng có ảnh hưởng xấu tới hoạt động"
                " khác, phát sinh rủi ro, hoặc không đúng kế hoạch, quy trình, quy định và pháp luật."},
    "U": {"en": "Unable to be performed: the targets and critical tasks were not performed in a manner that"
                " achieved the objective(s).",
          "vi": "Không thực hiện được: các nhiệm vụ trọng yếu không được thực hiện để đạt mục tiêu."},
}
INJECT_TYPES = ("eicar", "service", "antivirus", "backup", "brute_force", "rogue_host", "deface")
EXPECTATION_KINDS = ("detect", "case_opened", "step_done", "approval", "report_sent", "evaluator")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Text(Strict):
    """A text the participants and the documents show, in both languages: ``{vi: …, en: …}``.
    ``str()`` is the Vietnamese text (the city's working language: terminal, messages, events)."""
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def __str__(self) -> str:
        return self.vi

    def in_lang(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


ONE_LANGUAGE = ("give this text in both languages, e.g. {vi: '…', en: '…'}: the after-action report and the"
                " periodic reports are written in the reader's language (docs/exercises.md)")


def _both(v: Any, info: ValidationInfo) -> Any:
    """A single string is refused in a scenario file; a run stored before scenarios were bilingual
    (``context={'stored': True}``) keeps its one text for both languages, as it was run."""
    if isinstance(v, str):
        if (info.context or {}).get("stored"):
            return {"vi": v, "en": v}
        raise ValueError(ONE_LANGUAGE)
    if isinstance(v, dict):
        missing = [k for k in ("vi", "en") if not (isinstance(v.get(k), str) and v.get(k).strip())]
        if missing and not set(v) - {"vi", "en"}:
            raise ValueError(f"the {' and '.join(missing)} text is missing: {ONE_LANGUAGE}")
    return v


Bilingual = Annotated[Text, BeforeValidator(_both)]


def _duration(v: Any) -> str:
    parse_duration(v)
    return str(v)


class Contact(Strict):
    name: str = Field(min_length=1)
    role: Bilingual
    email: str | None = None
    phone: str | None = None
    lang: Literal["vi", "en"] = "vi"


class Participant(Strict):
    """An agency of the city's configuration (``kind: agency``, ``id`` = its id) or an enterprise
    (the network provider, a security vendor), with its role in the drill."""
    id: str = Field(pattern=SLUG)
    kind: Literal["agency", "enterprise"]
    name: Bilingual | None = None
    enterprise_type: Literal["network_provider", "security_vendor", "other"] | None = None
    role: Literal["player", "controller", "evaluator", "observer"]
    contacts: list[Contact] = []
    team_file: str | None = Field(None, description="Message injects with method file are written here"
                                                    " (default: <run folder>/teams/<id>.md).")

    @model_validator(mode="after")
    def _kind(self) -> Participant:
        if self.kind == "enterprise" and (not self.name or not self.enterprise_type):
            raise ValueError("an enterprise participant needs 'name' and 'enterprise_type'")
        if self.kind == "agency" and self.enterprise_type:
            raise ValueError("'enterprise_type' is for enterprises")
        return self


class Objective(Strict):
    """An exercise objective with its core capability (HSEEP) and critical tasks; its Exercise
    Evaluation Guide is rated P/S/M/U per rated agency by the evaluator."""
    id: str = Field(pattern=SLUG)
    title: Bilingual
    capability: Bilingual
    critical_tasks: list[Bilingual] = Field(min_length=1)
    agencies: list[str] = Field(min_length=1, description="Participant ids (agencies) rated on it.")
    evaluator: str = Field(description="Participant id of the evaluator who rates it.")


class Expectation(Strict):
    """What should happen after an inject, and by when (scenario time after it is sent).

    - ``detect``: a finding (failing check) or an alert of ``check`` (id or prefix ending in '.')
      on ``host``, recorded by citysec's own scanners and collectors;
    - ``case_opened``: a case of ``playbook`` opens for ``host``;
    - ``step_done`` / ``approval``: ``step`` of that case is done / approved;
    - ``report_sent``: the case's ``report`` (notice, initial, final) is generated;
    - ``evaluator``: rated by the evaluator (no automatic check).
    A missed expectation of severity critical is a critical lapse, flagged to controllers at once."""
    id: str = Field(pattern=SLUG)
    kind: Literal["detect", "case_opened", "step_done", "approval", "report_sent", "evaluator"]
    description: Bilingual
    check: str | None = None
    host: str | None = Field(None, description="A range host name (default: the inject's host).")
    playbook: str | None = None
    step: str | None = None
    report: Literal["notice", "initial", "final"] | None = None
    within: str = "30m"
    severity: Severity = "high"

    _w = field_validator("within")(lambda cls, v: _duration(v))

    @model_validator(mode="after")
    def _needs(self) -> Expectation:
        need = {"detect": ("check",), "case_opened": ("playbook",), "step_done": ("playbook", "step"),
                "approval": ("playbook", "step"), "report_sent": ("playbook", "report"), "evaluator": ()}
        missing = [k for k in need[self.kind] if getattr(self, k) is None]
        if missing:
            raise ValueError(f"a {self.kind} expectation needs {', '.join(repr(m) for m in missing)}")
        return self


class Technical(Strict):
    """A technical inject: ``type`` and its parameters (see :mod:`exercises.injects`)."""
    model_config = ConfigDict(extra="allow", frozen=True)
    type: Literal["eicar", "service", "antivirus", "backup", "brute_force", "rogue_host", "deface"]

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def typed(self) -> Any:
        """The parameters as the kind's frozen dataclass (e.g. ``EicarParams``), defaults filled
        in; UsageError naming every problem (``exercises/validate.py`` reports them with lines)."""
        from .injects import KINDS
        return KINDS[self.type].parse(self.params)


class Inject(Strict):
    """One line of the MSEL."""
    number: int = Field(ge=1)
    at: str = Field(description="Scenario time of the inject, e.g. 0m, 15m, 1h30m.")
    synopsis: Bilingual
    method: Literal["console", "email", "file", "technical"]
    from_: str = Field(alias="from", description="Participant id (a controller) that sends it.")
    to: list[str] = Field(min_length=1, description="Participant ids that receive it.")
    expected_action: Bilingual
    objective: str
    message: str | None = Field(None, description="Text of a message inject (default: the synopsis).")
    technical: Technical | None = None
    cleanup_at: str | None = Field(None, description="Scenario time to undo it (default: end of the drill).")
    expectations: list[Expectation] = []

    _a = field_validator("at", "cleanup_at")(lambda cls, v: v if v is None else _duration(v))

    @model_validator(mode="after")
    def _method(self) -> Inject:
        if (self.method == "technical") != (self.technical is not None):
            raise ValueError("method technical needs 'technical' (and only it takes one)")
        if self.cleanup_at is not None and self.technical is None:
            raise ValueError("'cleanup_at' is for technical injects")
        return self

    @property
    def offset(self) -> timedelta:
        return parse_duration(self.at)

    @property
    def host(self) -> str | None:
        p = self.technical.params if self.technical else {}
        return p.get("host") or p.get("target")


class Survey(Strict):
    questions: list[Bilingual] = Field(
        [Text(vi="Mức độ thực tế của kịch bản (1-5)?", en="How realistic was the scenario (1-5)?"),
         Text(vi="Điều gì đã làm tốt?", en="What went well?"),
         Text(vi="Điều gì cần cải thiện?", en="What needs to improve?")],
        min_length=1)


class Scenario(Strict):
    id: str = Field(pattern=SLUG)
    title: Bilingual
    summary: Bilingual = Field(description="The scenario as told to the participants.")
    organizer: str = Field(description="Agency id of the organiser (its events carry it).")
    objectives: list[Objective] = Field(min_length=1)
    rules_of_engagement: list[Bilingual] = Field(min_length=1)
    participants: list[Participant] = Field(min_length=1)
    msel: list[Inject] = Field(min_length=1)
    duration: str | None = Field(None, description="Scenario length (default: the last inject's time"
                                                   " plus its longest expectation window).")
    jobs: list[Literal["discovery", "services", "antivirus", "backup", "logs", "cases"]] = Field(
        ["logs", "antivirus", "backup", "discovery", "services", "cases"],
        description="Jobs a run with --jobs scheduled runs on the configured schedule (compressed).")
    job_agencies: list[str] = Field([], description="Agencies the drill's jobs cover (empty: the whole"
                                                     " city): the drill's scope, so scans stay short.")
    schedules: dict[str, str] = Field({}, description="Job → schedule during the drill (overrides the"
                                                      " city's, e.g. services: every 30 minutes).")
    retests: list[str] = Field([], description="Ids of open corrective actions this drill retests.")
    survey: Survey = Survey()

    _d = field_validator("duration")(lambda cls, v: v if v is None else _duration(v))

    def participant(self, pid: str) -> Participant:
        return next(p for p in self.participants if p.id == pid)

    def objective(self, oid: str) -> Objective:
        return next(o for o in self.objectives if o.id == oid)

    @property
    def length(self) -> timedelta:
        if self.duration:
            return parse_duration(self.duration)
        ends = [i.offset + max([parse_duration(e.within) for e in i.expectations] or [timedelta(0)])
                for i in self.msel]
        return max(ends)
