"""The collectors' check catalogue (checks.yaml beside this file), validated when loaded."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from findings.checks import Catalogue
from findings.errors import ConfigError
from findings.support.yamlpos import load_one


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    path = resources.files("collectors").joinpath("checks.yaml")
    data, _ = load_one(str(path))
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: line 1: a mapping of check id → metadata was expected")
    return Catalogue.from_mapping(data, source=str(path))
