"""Load and validate the city configuration. Every problem names file, YAML path and line."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

from pydantic import ValidationError

from findings.errors import ConfigError

from config.schema import City
from findings.support.yamlerrors import format_pydantic, yaml_loc
from findings.support.yamlpos import Positions, dotted, load_with_positions, where

__all__ = ["DEFAULT_CONFIG", "LoadedConfig", "default_config_path", "format_pydantic", "load_config",
           "where_text", "yaml_loc"]

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


def _line_order(problem: str) -> tuple:
    m = re.match(r"(.*?): line (\d+): ", problem)
    return (m.group(1), int(m.group(2))) if m else (problem, 0)


Rules = Callable[[dict], list[tuple[tuple, str]]]    # raw data → (YAML path, message) pairs


def load_config(path: str | None = None, *, check_files: bool = True, later: Rules | None = None) -> LoadedConfig:
    """Parse, validate and cross-check. Raises ConfigError listing every problem found, each
    naming file, YAML path and line, in file and line order. ``later``: the rules of the commands
    that use the configuration (`config check` passes them, :mod:`citysec.checks`). The rules
    on the raw data (secrets, webhooks, drill targets, ``later``) run even when the schema fails
    elsewhere, so one run of `config check` shows them all."""
    from config.profiles import load_profile
    from config.validate import cross_check, find_secrets, raw_problems  # late: validate needs LoadedConfig

    path = path or default_config_path()
    data, positions = load_with_positions(path)
    secrets = find_secrets(data)
    raw = secrets + raw_problems(data) + (later(data) if later is not None else [])
    problems = [f"{where_text(positions, loc, path)}: {msg}" for loc, msg in raw]
    try:
        city = City.model_validate(data)
    except ValidationError as exc:
        problems += format_pydantic(exc, positions, path, data, frozenset(loc for loc, _ in secrets), root=City)
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
