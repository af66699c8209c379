"""Load and validate the city configuration. Every problem names file, YAML path and line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources

from pydantic import ValidationError

from findings.errors import ConfigError

from .schema import City
from .yamlpos import Positions, dotted, load_with_positions, where

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
        f, line = where(self.positions, tuple(loc), self.path)
        return f"{f}: line {line}: {dotted(tuple(loc))}"


def default_config_path() -> str:
    """The embedded example (Hải Phòng on the range) when no --config is given."""
    env = os.environ.get("CITYSEC_CONFIG")
    if env:
        return env
    if os.path.exists(DEFAULT_CONFIG):
        return DEFAULT_CONFIG
    return str(resources.files("config").joinpath("examples/haiphong.yaml"))


def format_pydantic(exc: ValidationError, positions: Positions, path: str) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        f, line = where(positions, loc, path)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}"
        elif err["type"] == "missing":
            msg = f"missing required key {loc[-1]!r}"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        problems.append(f"{f}: line {line}: {dotted(loc)}: {msg}")
    return problems


def load_config(path: str | None = None, *, check_files: bool = True) -> LoadedConfig:
    """Parse, validate and cross-check. Raises ConfigError listing every problem."""
    from .validate import cross_check  # late: validate imports this module's LoadedConfig

    path = path or default_config_path()
    data, positions = load_with_positions(path)
    try:
        city = City.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_pydantic(exc, positions, path)) from None
    loaded = LoadedConfig(city=city, path=path, positions=positions)
    problems = cross_check(loaded, data, check_files=check_files)
    if problems:
        raise ConfigError(problems)
    return loaded
