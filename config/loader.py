"""Load and validate the city configuration. Every problem names file, YAML path and line."""

from __future__ import annotations

import difflib
import os
import re
import types
from dataclasses import dataclass
from importlib import resources
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from findings.errors import ConfigError

from config.schema import City
from findings.support.yamlpos import Positions, dotted, load_with_positions, where

DEFAULT_CONFIG = "config/examples/haiphong.yaml"


@dataclass(frozen=True)
class LoadedConfig:
    city: City
    path: str                 # the main file
    positions: Positions      # YAML path → (file, line)

    @property
    def base_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def resolve(self, path: str) -> str:
        """A path from the config, relative to the config file's folder unless absolute.
        ``var/...`` paths are relative to the working directory (data, not configuration)."""
        if os.path.isabs(path) or path.startswith("var/"):
            return os.path.abspath(path)
        return os.path.join(self.base_dir, path)

    def where(self, *loc: object) -> str:
        return where_text(self.positions, tuple(loc), self.path)


def default_config_path() -> str:
    """The embedded example (Hải Phòng on the range) when no --config is given."""
    env = os.environ.get("CITYSEC_CONFIG")
    if env:
        return env
    if os.path.exists(DEFAULT_CONFIG):
        return DEFAULT_CONFIG
    return str(resources.files("config").joinpath("examples/haiphong.yaml"))


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
    merged; locations in ``skip`` already reported, e.g. as a secret, left out)."""
    problems: list[str] = []
    for err in exc.errors():
        loc = yaml_loc(data, tuple(err["loc"])) if data is not None else tuple(err["loc"])
        if loc in skip:
            continue
        f, line = where(positions, loc, path)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}" + _suggest(loc, root or City)
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        text = f"{f}: line {line}: {dotted(loc)}: {msg}"
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


def _line_order(problem: str) -> tuple:
    m = re.match(r"(.*?): line (\d+): ", problem)
    return (m.group(1), int(m.group(2))) if m else (problem, 0)


def load_config(path: str | None = None, *, check_files: bool = True) -> LoadedConfig:
    """Parse, validate and cross-check. Raises ConfigError listing every problem found, each
    naming file, YAML path and line, in file and line order."""
    from config.profiles import load_profile
    from config.validate import cross_check, find_secrets  # late: validate needs LoadedConfig

    path = path or default_config_path()
    data, positions = load_with_positions(path)
    secrets = find_secrets(data)
    problems = [f"{where_text(positions, loc, path)}: {msg}" for loc, msg in secrets]
    try:
        city = City.model_validate(data)
    except ValidationError as exc:
        problems += format_pydantic(exc, positions, path, data, frozenset(loc for loc, _ in secrets))
        raise ConfigError(sorted(problems, key=_line_order)) from None
    loaded = LoadedConfig(city=city, path=path, positions=positions)
    problems += cross_check(loaded, data, check_files=check_files)
    try:
        load_profile(city.profile)
    except ConfigError as exc:
        problems += exc.problems
    if problems:
        raise ConfigError(sorted(problems, key=_line_order))
    return loaded


def where_text(positions: Positions, loc: tuple, path: str) -> str:
    f, line = where(positions, loc, path)
    return f"{f}: line {line}: {dotted(loc)}"
