"""What every command needs, built lazily from the global options: config, store, sensor, output."""

from __future__ import annotations

import getpass
import json
import os
import sys
import tempfile
from typing import Any, Callable

import click

from findings.errors import RuntimeFailure

from citysec.app import App  # re-exported: commands and tests import App from here

__all__ = ["App", "acting_user", "agency_option", "by_option", "emit", "json_option", "pass_app", "quiet",
           "write_output"]


pass_app = click.make_pass_decorator(App)


def quiet() -> bool:
    """No progress bars under CI, in --json, or when stderr is not a terminal."""
    return bool(os.environ.get("CI")) or not sys.stderr.isatty()


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


def write_output(path: str | os.PathLike, data: str | bytes) -> None:
    """Write a command's --out file atomically (a temporary file beside it, then renamed; its
    folder is made). A path that cannot be written is a RuntimeFailure (exit 3) of one line."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    raw = data.encode("utf-8") if isinstance(data, str) else data
    tmp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".citysec-", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise RuntimeFailure(f"cannot write {path}: {exc.strerror or exc}") from None


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
