"""What every command needs, built lazily from the global options: config, store, sensor, output."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

import click

from citysec.app import App  # re-exported: commands and tests import App from here

__all__ = ["App", "agency_option", "emit", "json_option", "pass_app", "quiet"]


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
