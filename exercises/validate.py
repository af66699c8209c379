"""Load and validate a drill scenario: every problem names file, line and YAML path (exit 2).

Besides the model (:mod:`.scenario`), a scenario is checked against what it refers to: the city's
agencies (participants of kind agency), the playbook library (expectations on cases), the range
(hosts of technical injects and expectations) and the technical inject types' own parameters.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import ValidationError

from findings.errors import ConfigError
from findings.support.durations import parse_duration
from findings.support.yamlerrors import format_pydantic
from findings.support.yamlpos import Positions, load_document, load_text, problem

from .scenario import Scenario


@dataclass(frozen=True)
class LoadedScenario:
    scenario: Scenario
    path: str
    sha256: str
    positions: Positions
    text: str


@dataclass(frozen=True)
class Context:
    """What a scenario is checked against; a field left None is not checked."""
    agencies: frozenset[str] | None = None
    playbooks: dict[str, set[str]] | None = None      # playbook id → its step ids
    hosts: frozenset[str] | None = None               # range host names
    schedule_check: Callable[[str], str | None] | None = None   # a schedule string → its problem


def cross_check(s: Scenario, ctx: Context) -> list[tuple[tuple, str]]:
    """Rules the model cannot express, as (YAML path, message) pairs (pure)."""
    out: list[tuple[tuple, str]] = []
    ids = {p.id: p for p in s.participants}
    if len(ids) != len(s.participants):
        out += [(("participants", i, "id"), f"participant {p.id!r} listed twice")
                for i, p in enumerate(s.participants) if [q.id for q in s.participants].count(p.id) > 1][:1]
    for i, p in enumerate(s.participants):
        if p.kind == "agency" and ctx.agencies is not None and p.id not in ctx.agencies:
            out.append((("participants", i, "id"), f"{p.id!r} is not an agency of the city's configuration"))
    if ctx.agencies is not None and s.organizer not in ctx.agencies:
        out.append((("organizer",), f"{s.organizer!r} is not an agency of the city's configuration"))
    for i, a in enumerate(s.job_agencies):
        if ctx.agencies is not None and a not in ctx.agencies:
            out.append((("job_agencies", i), f"{a!r} is not an agency of the city's configuration"))
    for job in s.schedules:
        if job not in ("discovery", "services", "antivirus", "backup", "logs", "cases"):
            out.append((("schedules", job), f"unknown job {job!r}"))
        elif ctx.schedule_check is not None and ctx.schedule_check(s.schedules[job]):
            out.append((("schedules", job), ctx.schedule_check(s.schedules[job])))
    if not any(p.role == "controller" for p in s.participants):
        out.append((("participants",), "a drill needs at least one participant with role controller"))
    objectives = {o.id for o in s.objectives}
    for i, o in enumerate(s.objectives):
        for j, a in enumerate(o.agencies):
            if a not in ids or ids[a].kind != "agency":
                out.append((("objectives", i, "agencies", j), f"{a!r} is not an agency participant"))
        if o.evaluator not in ids or ids[o.evaluator].role != "evaluator":
            out.append((("objectives", i, "evaluator"), f"{o.evaluator!r} is not a participant with role evaluator"))
    out += _msel(s, ids, objectives, ctx)
    return out


def _msel(s: Scenario, ids: dict, objectives: set[str], ctx: Context) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    numbers: set[int] = set()
    last = None
    for i, inj in enumerate(s.msel):
        loc = ("msel", i)
        if inj.number in numbers:
            out.append((loc + ("number",), f"inject number {inj.number} used twice"))
        numbers.add(inj.number)
        if last is not None and inj.offset < last:
            out.append((loc + ("at",), f"injects are listed in scenario time order; {inj.at} comes before"
                                       " the previous inject"))
        last = inj.offset
        if inj.from_ not in ids or ids[inj.from_].role != "controller":
            out.append((loc + ("from",), f"{inj.from_!r} is not a participant with role controller"))
        out += [(loc + ("to", j), f"{t!r} is not a participant") for j, t in enumerate(inj.to) if t not in ids]
        if inj.objective not in objectives:
            out.append((loc + ("objective",), f"unknown objective {inj.objective!r}"))
        if inj.cleanup_at is not None and parse_duration(inj.cleanup_at) <= inj.offset:
            out.append((loc + ("cleanup_at",), "the cleanup comes after the inject"))
        if inj.technical is not None:
            out += _technical(inj, loc, ctx)
        out += _expectations(inj, loc, ctx)
    return out


def _technical(inj, loc: tuple, ctx: Context) -> list[tuple[tuple, str]]:
    from .injects import KINDS
    t, kind = inj.technical, KINDS[inj.technical.type]
    out = [(loc + ("technical", *key.split(".")), msg) for key, msg in kind.check(t.params)]
    if ctx.hosts is not None and not out:
        for h in kind.targets(t.typed()):
            if h not in ctx.hosts:
                out.append((loc + ("technical",), f"{h!r} is not a host of the range"))
    return out


def _expectations(inj, loc: tuple, ctx: Context) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    seen: set[str] = set()
    for k, e in enumerate(inj.expectations):
        el = loc + ("expectations", k)
        if e.id in seen:
            out.append((el + ("id",), f"expectation id {e.id!r} used twice in this inject"))
        seen.add(e.id)
        host = e.host or inj.host
        if e.kind in ("detect", "case_opened") and host is None and e.kind == "detect":
            out.append((el, "a detect expectation needs 'host' (the inject names none)"))
        if e.host and ctx.hosts is not None and e.host not in ctx.hosts:
            out.append((el + ("host",), f"{e.host!r} is not a host of the range"))
        if e.playbook and ctx.playbooks is not None:
            if e.playbook not in ctx.playbooks:
                out.append((el + ("playbook",), f"unknown playbook {e.playbook!r}"))
            elif e.step and e.step not in ctx.playbooks[e.playbook]:
                out.append((el + ("step",), f"playbook {e.playbook!r} has no step {e.step!r}"))
    return out


def load_scenario(path: str, ctx: Context = Context()) -> LoadedScenario:
    doc = load_document(path)
    data, pos = doc.data, doc.positions
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: line 1: a scenario is a mapping")
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_pydantic(exc, pos, path, data, root=Scenario)) from None
    problems = [problem(pos, path, loc, msg) for loc, msg in cross_check(sc, ctx)]
    if problems:
        raise ConfigError(problems)
    return LoadedScenario(sc, path, doc.sha256, pos, doc.text)


def from_text(text: str, path: str) -> Scenario:
    """A scenario a run stored (already validated when the run started). A run stored before
    scenario texts were bilingual keeps its one text for both languages, as it was run."""
    return Scenario.model_validate(load_text(text, path), context={"stored": True})


def builtin_dir() -> str:
    return str(resources.files("exercises").joinpath("scenarios"))


def builtin() -> list[str]:
    return sorted(glob.glob(os.path.join(builtin_dir(), "*.yaml")))


def resolve(name_or_path: str) -> str:
    """A scenario file, or the id of a built-in one."""
    if os.path.exists(name_or_path):
        return name_or_path
    cand = os.path.join(builtin_dir(), name_or_path + ".yaml")
    if os.path.exists(cand):
        return cand
    raise ConfigError(f"{name_or_path}: no such scenario file or built-in scenario"
                      f" (built-in: {', '.join(os.path.basename(p)[:-5] for p in builtin())})")


def summary(s: Scenario) -> dict[str, Any]:
    return {"id": s.id, "title": s.title.vi, "title_en": s.title.en, "objectives": len(s.objectives), "participants": len(s.participants),
            "injects": len(s.msel), "technical": sum(1 for i in s.msel if i.technical),
            "expectations": sum(len(i.expectations) for i in s.msel),
            "length_minutes": round(s.length.total_seconds() / 60, 1)}
