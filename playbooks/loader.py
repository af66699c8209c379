"""Load and validate playbooks: every problem names file, line and YAML path."""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from importlib import resources

from pydantic import ValidationError

from findings.errors import ConfigError

from .actions import ACTIONS
from .schema import PHASE_MODELS, REF, Playbook
from findings.support.yamlerrors import format_pydantic
from findings.support.yamlpos import Positions, load_document, problem


@dataclass(frozen=True)
class LoadedPlaybook:
    playbook: Playbook
    path: str
    sha256: str               # of the file: a case records which text it ran
    positions: Positions


def _refs(value, loc: tuple) -> list[tuple[tuple, str]]:
    if isinstance(value, str) and value.startswith("$") and not REF.match(value):
        return [(loc, f"bad reference {value!r}: use $case.<field> or $finding.<field>")]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _refs(v, loc + (k,))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _refs(v, loc + (i,))]
    return []


def cross_check(pb: Playbook) -> list[tuple[tuple, str]]:
    """Rules pydantic cannot express, as (YAML path, message) pairs (pure)."""
    out: list[tuple[tuple, str]] = []
    model = PHASE_MODELS[pb.phase_model]["phases"]
    got = tuple(p.id for p in pb.phases)
    if got != model:
        out.append((("phases",), f"phase_model {pb.phase_model} needs the phases {', '.join(model)} in this"
                                 f" order; got {', '.join(got)}"))
    if not pb.triggers and not pb.manual_start:
        out.append(((), "a playbook with no triggers must allow manual_start"))
    seen: dict[str, tuple] = {}
    order = [s.id for _, s in pb.steps()]
    covered: dict[str, int] = {}
    for pi, phase in enumerate(pb.phases):
        for si, s in enumerate(phase.steps):
            loc = ("phases", pi, "steps", si)
            if s.id in seen:
                out.append((loc + ("id",), f"step id {s.id!r} used twice"))
            seen[s.id] = loc
            out += _step_rules(s, loc, order, covered)
            if s.kind == "action" and s.action in ACTIONS and ACTIONS[s.action].is_destructive(s.params) \
                    and pb.two_person_destructive and covered.get(s.id, 0) < 2:
                out.append((loc, f"destructive action {s.action!r} needs an earlier approval step with"
                                 f" approvers: 2 covering {s.id!r} (two_person_destructive)"))
            out += _refs(s.params, loc + ("params",))
    return out


def _step_rules(s, loc: tuple, order: list[str], covered: dict[str, int]) -> list[tuple[tuple, str]]:
    out: list[tuple[tuple, str]] = []
    wrong = {"manual": ("action", "params", "covers"), "action": ("checklist", "evidence", "covers", "role"),
             "approval": ("action", "params", "checklist", "evidence")}[s.kind]
    for key in wrong:
        if getattr(s, key):
            out.append((loc + (key,), f"a {s.kind} step takes no {key!r}"))
    if s.kind in ("manual", "approval") and not s.role:
        out.append((loc, f"a {s.kind} step needs a 'role'"))
    if s.kind == "action":
        if s.action not in ACTIONS:
            out.append((loc + ("action",), f"unknown action {s.action!r} (known: {', '.join(sorted(ACTIONS))})"))
        else:
            out += [(loc + ("params",), p) for p in ACTIONS[s.action].check_params(s.params)]
    if s.kind == "approval":
        if not s.covers:
            out.append((loc, "an approval step needs 'covers': the steps it gates"))
        for i, target in enumerate(s.covers):
            if target not in order or order.index(target) <= order.index(s.id):
                out.append((loc + ("covers", i), f"{target!r} is not a later step of this playbook"))
            else:
                covered[target] = max(covered.get(target, 0), s.approvers)
    return out


def load_playbook(path: str) -> LoadedPlaybook:
    doc = load_document(path)
    data, pos = doc.data, doc.positions
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: line 1: a playbook is a mapping")
    try:
        pb = Playbook.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_pydantic(exc, pos, path, data, root=Playbook)) from None
    problems = [problem(pos, path, loc, msg) for loc, msg in cross_check(pb)]
    if problems:
        raise ConfigError(problems)
    return LoadedPlaybook(pb, path, doc.sha256, pos)


def builtin_dir() -> str:
    return str(resources.files("playbooks").joinpath("library"))


def load_library(*dirs: str) -> dict[str, LoadedPlaybook]:
    """Every playbook of the built-in library plus the given folders; ids must be unique."""
    out: dict[str, LoadedPlaybook] = {}
    problems: list[str] = []
    for d in (builtin_dir(), *dirs):
        for path in sorted(glob.glob(os.path.join(d, "*.yaml"))):
            try:
                lp = load_playbook(path)
            except ConfigError as exc:
                problems += exc.problems
                continue
            if lp.playbook.id in out:
                problems.append(f"{path}: line 1: id: {lp.playbook.id!r} is also the id of {out[lp.playbook.id].path}")
            out[lp.playbook.id] = lp
    for lp in out.values():
        for i, other in enumerate(lp.playbook.supersedes):
            if other not in out or other == lp.playbook.id:
                problems.append(problem(lp.positions, lp.path, ("supersedes", i),
                                        f"{other!r} is not another playbook of the library"
                                        f" (known: {', '.join(sorted(out))})"))
    if problems:
        raise ConfigError(problems)
    return out
