"""The one error formatter of citysec's YAML: pydantic's errors as ``file: line N: yaml.path: message``.

The loader (:mod:`.yamlpos`) raises its own problems in the same form (:func:`.yamlpos.problem`);
every reader of YAML (the city configuration, profiles, playbooks, scenarios) formats the errors
of its pydantic schema here, so an unknown key, a missing key or a bad value reads the same in
every file.
"""

from __future__ import annotations

import difflib
import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from findings.support.yamlpos import Positions, problem


def yaml_loc(data: Any, loc: tuple) -> tuple:
    """The YAML path of a pydantic error location: union member tags and validator names that
    pydantic inserts (``'function-after[...]'``, ``'SshAccess'``) are not keys of the data."""
    out: list = []
    node = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            out.append(part)
            node = node[part]
        elif last and isinstance(node, dict):
            out.append(part)          # a missing key: name it
        # otherwise a tag of pydantic's: skip it
    return tuple(out)


def format_pydantic(exc: ValidationError, positions: Positions, path: str, data: Any = None,
                    skip: frozenset = frozenset(), root: type[BaseModel] | None = None) -> list[str]:
    """One line per error: ``file: line N: yaml.path: message`` (duplicates of union members
    merged; locations in ``skip`` already reported, e.g. as a secret, left out). ``root``, the
    model validated, lets an unknown key suggest the nearest known one."""
    problems: list[str] = []
    for err in exc.errors():
        loc = yaml_loc(data, tuple(err["loc"])) if data is not None else tuple(err["loc"])
        if loc in skip:
            continue
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" + (_suggest(loc, root) if root else "")
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        text = problem(positions, path, loc, msg)
        if text not in problems:
            problems.append(text)
    return problems


def _suggest(loc: tuple, root: type[BaseModel]) -> str:
    """' (did you mean ...?)' for a misspelt key, from the field names of the model there."""
    model = _model_at(loc[:-1], root)
    names = list(model.model_fields) if model else []
    close = difflib.get_close_matches(str(loc[-1]), names, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _model_at(loc: tuple, root: type[BaseModel]) -> type[BaseModel] | None:
    t: Any = root
    for part in loc:
        t = _unwrap(t)
        if isinstance(t, type) and issubclass(t, BaseModel):
            field = t.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return None
            t = field.annotation
        elif get_origin(t) is list and isinstance(part, int):
            t = get_args(t)[0]
        elif get_origin(t) is dict:
            t = get_args(t)[1]
        else:
            return None
    t = _unwrap(t)
    return t if isinstance(t, type) and issubclass(t, BaseModel) else None


def _unwrap(t: Any) -> Any:
    """X | None → X (the first member that is a model, a list or a dict)."""
    if get_origin(t) in (Union, types.UnionType):
        for arg in get_args(t):
            if get_origin(arg) in (list, dict) or (isinstance(arg, type) and issubclass(arg, BaseModel)):
                return arg
    return t
