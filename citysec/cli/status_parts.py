"""The parts of `citysec status`. Each area may add a part: a function (app) -> (key, value)."""

from __future__ import annotations

from typing import Any, Callable

import click

from citysec.cli.context import App

PARTS: list[Callable[[App], tuple[str, Any]]] = []


def part(fn: Callable[[App], tuple[str, Any]]) -> Callable[[App], tuple[str, Any]]:
    PARTS.append(fn)
    return fn


@part
def _store(app: App) -> tuple[str, Any]:
    s = app.store
    return "store", {"path": s.path, "schema_version": s.schema_version, "schema_versions": s.schema_versions(),
                     "outbox_depth": s.outbox_depth(),
                     "dead_letters": s.dead_letter_count(), "open_findings": s.open_count()}


@part
def _runs(app: App) -> tuple[str, Any]:
    return "jobs", {job: {k: r[k] for k in ("started", "ended", "outcome", "error")}
                    for job, r in sorted(app.store.last_runs().items())}


def collect(app: App) -> dict[str, Any]:
    return dict(fn(app) for fn in PARTS)


def render(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k}: {v}")
        else:
            click.echo(f"{key}: {value}")
