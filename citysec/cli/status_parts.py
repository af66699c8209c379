"""The parts of `citysec status`. Each area may add a part: a function (app) -> (key, value)."""

from __future__ import annotations

import re
from typing import Any, Callable

import click

from citysec.cli.context import App
from citysec.cli.output import field

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
    """Each part as a section of aligned lines: scalars as `label  value`, a mapping of mappings
    (jobs, agencies) or a list of mappings (dead letters, reminders) as aligned rows."""
    for key, value in data.items():
        click.echo(_label(key))
        if not isinstance(value, dict):
            click.echo(f"  {field(value)}")
            continue
        if all(isinstance(x, dict) for x in value.values()):   # e.g. the last run of each job
            _rows("", list(value.items())) if value else click.echo("  none")
            continue
        scalars = {k: v for k, v in value.items() if not isinstance(v, (dict, list))}
        pad = max((len(_label(k)) for k in scalars), default=0)
        for k, v in scalars.items():
            click.echo(f"  {_label(k).ljust(pad)}  {field(v)}")
        flat = {k: v for k, v in value.items() if isinstance(v, dict) and v and _is_flat(v)}
        if len(flat) > 1:   # several entries of the same shape (the jobs of `schedule`) as rows
            _rows("", list(flat.items()))
        for k, v in value.items():
            if k in scalars or (len(flat) > 1 and k in flat):
                continue
            if isinstance(v, dict) and _is_flat(v):
                click.echo(f"  {_label(k)}: " + (", ".join(f"{_label(a)} {field(b)}" for a, b in v.items()) or "none"))
            elif isinstance(v, dict):
                click.echo(f"  {_label(k)}:" + ("" if v else " none"))
                _rows("  ", list(v.items()))
            elif v and all(isinstance(x, dict) for x in v):
                click.echo(f"  {_label(k)}:")
                _rows("  ", [(None, x) for x in v])
            else:
                click.echo(f"  {_label(k)}: {field(v) if v else 'none'}")


def _is_flat(d: dict) -> bool:
    return not any(isinstance(x, (dict, list)) for x in d.values())


TEXT_HIDDEN = {"timeout_s"}   # configuration, not state: in --json only
_ISO = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d):\d\d(?:\.\d+)?(?:Z|\+00:00)$")


def _cell(value: Any) -> str:
    """A row's value; a UTC time as '2026-12-07 06:27Z' so a row of times fits 80 columns."""
    if isinstance(value, str) and (m := _ISO.match(value)):
        return f"{m[1]} {m[2]}Z"
    return field(value)


def _label(key: str) -> str:
    key = str(key)
    return (key[:-2] + " (s)" if key.endswith("_s") else key).replace("_", " ")


def _rows(indent: str, rows: list[tuple[str | None, dict]]) -> None:
    """Aligned rows under a header of the union of their keys."""
    if not rows:
        return
    cols = [c for c in dict.fromkeys(c for _, r in rows for c in r) if c not in TEXT_HIDDEN]
    table = [([] if name is None else [field(name)]) + [_cell(r.get(c)) for c in cols] for name, r in rows]
    head = ([] if rows[0][0] is None else [""]) + [_label(c) for c in cols]
    widths = [max(len(x[i]) for x in [head, *table]) for i in range(len(head))]
    for line in [head, *table]:
        click.echo(f"{indent}  " + "  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())
