"""The collectors' check catalogue (checks.yaml beside this file), validated when loaded."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import yaml

from findings.checks import Catalogue
from findings.errors import ConfigError


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    path = resources.files("collectors").joinpath("checks.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a mapping of check id → metadata was expected")
    return Catalogue.from_mapping(data, source=str(path))
