"""What every command needs, built lazily from the global options: config, store, sensor, output."""

from __future__ import annotations

import getpass
import json
import os
import sys
from typing import Any, Callable

import click

from citysec.app import App  # re-exported: commands and tests import App from here

__all__ = ["App", "acting_user", "agency_option", "by_option", "emit", "json_option", "pass_app", "quiet"]


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


def acting_user(by: str | None) -> str:
    """Who acts, the one rule of every command that records a person (triage, cases, restore
    tests, drills): --by, else $CITYSEC_USER, else $SUDO_USER, else the login name."""
    if by is not None and not by.strip():
        from findings.errors import UsageError
        raise UsageError("--by: give a name (or leave --by out: the login name)")
    return by or os.environ.get("CITYSEC_USER") or os.environ.get("SUDO_USER") or getpass.getuser()


def by_option(help_: str = "Who does it"):
    return click.option("--by", "by", default=None,
                        help=f"{help_} (default: $CITYSEC_USER, $SUDO_USER or the login name).")
