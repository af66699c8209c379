"""What every command needs, built lazily from the global options: config, store, sensor, output."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import click

from findings import Store
from findings.errors import UsageError

from ..loader import LoadedConfig, load_config


@dataclass
class App:
    config_path: str | None = None
    sensor_override: str | None = None
    _config: LoadedConfig | None = field(default=None, repr=False)
    _store: Store | None = field(default=None, repr=False)

    @property
    def config(self) -> LoadedConfig:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def city(self):
        return self.config.city

    @property
    def sensor(self) -> str | None:
        return self.sensor_override or os.environ.get("CITYSEC_SENSOR") or self.city.sensor

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.config.resolve(self.city.store.path))
        return self._store

    def agency_ids(self, agency: str | None) -> list[str]:
        ids = [a.id for a in self.city.agencies]
        if agency is None:
            return ids
        if agency not in ids:
            raise UsageError(f"unknown agency {agency!r}; known: {', '.join(ids)}")
        return [agency]


pass_app = click.make_pass_decorator(App)


def quiet() -> bool:
    """No progress bars under CI, in --json, or when stderr is not a terminal."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
agency_option = click.option("--agency", default=None, help="Only this agency (its id).")
