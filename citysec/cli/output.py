"""What a person reads on the terminal: remote text made harmless, and tables that fit.

Text from the network (finding messages, banners, host and user names, notes typed by another user)
is never interpreted: control characters are replaced (``findings.model.clean_text``), and in
rich output its markup is escaped. Tables fit the terminal, or 80 columns when the output is a
pipe or a file: ids never wrap, only free text folds.
"""

from __future__ import annotations

import shutil
import sys
from typing import Any

from findings.model import clean_text

__all__ = ["EMPTY", "console", "field", "line_text", "markup", "print_table", "short_id", "table"]

PIPE_WIDTH = 80
EMPTY = "none"


def line_text(value: Any, limit: int = 4096) -> str:
    """Remote text for a plain line (click.echo): no control characters, no line breaks."""
    if value is None:
        return ""
    text = clean_text(str(value), limit) or ""
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def markup(value: Any, limit: int = 4096) -> str:
    """Remote text for rich output: cleaned, and its markup escaped (`[red]` stays `[red]`)."""
    from rich.markup import escape
    return escape(line_text(value, limit))


def field(value: Any) -> str:
    """A scalar as a person writes it: '-' for nothing, yes/no for booleans, numbers as they are."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple, set)):
        return ", ".join(field(v) for v in value) or "-"
    return line_text(value)


def short_id(value: str | None, n: int = 12) -> str:
    return (value or "")[:n]


def width() -> int:
    """The terminal's width, or 80 columns when stdout is not a terminal."""
    if sys.stdout.isatty():
        return shutil.get_terminal_size((PIPE_WIDTH, 24)).columns
    return PIPE_WIDTH


def console(stderr: bool = False):
    from rich.console import Console
    return Console(stderr=stderr, highlight=False, width=None if (sys.stderr if stderr else sys.stdout).isatty()
                   else PIPE_WIDTH, soft_wrap=False)


def table(columns: list[tuple[str, str]], title: str | None = None):
    """A rich table whose columns are (header, kind): 'id' and 'word' never wrap; 'text' folds."""
    from rich import box
    from rich.table import Table
    t = Table(title=markup(title) if title else None, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False,
              collapse_padding=True)
    for header, kind in columns:
        if kind == "text":
            t.add_column(header, overflow="fold", ratio=1, min_width=12)
        else:
            t.add_column(header, no_wrap=True, overflow="ellipsis" if kind == "word" else "crop")
    return t


def print_table(t, rows: list[list[Any]], empty: str) -> None:
    """Print a table of remote values (each escaped), or `empty` when there is no row."""
    import click
    if not rows:
        click.echo(empty)
        return
    for row in rows:
        t.add_row(*(markup(v) if v is not None else "" for v in row))
    console().print(t)


def print_records(header: str | None, records: list[tuple[list[Any], Any]], empty: str) -> None:
    """Aligned lines for lists wider than a terminal: each record's short fields on one line
    (columns as wide as their widest value), then its free text (a string or a list of
    paragraphs) below, indented and wrapped."""
    import textwrap

    import click
    if not records:
        click.echo(empty)
        return
    if header:
        click.echo(line_text(header))
    heads = [[field(v) for v in fields] for fields, _ in records]
    widths = [max(len(h[i]) for h in heads if i < len(h)) for i in range(max(map(len, heads)))]
    indent = " " * (widths[0] + 2 if widths[0] <= 10 else 4)
    wrap = max(width() - len(indent), 20)
    for head, (_, text) in zip(heads, records):
        click.echo("  ".join(v.ljust(w) for v, w in zip(head, widths)).rstrip())
        for paragraph in text if isinstance(text, (list, tuple)) else [text]:
            for piece in textwrap.wrap(line_text(paragraph), wrap, break_long_words=True, break_on_hyphens=False):
                click.echo(indent + piece)


def print_rows(head: list[str] | None, rows: list[list[Any]], empty: str, indent: str = "") -> None:
    """Aligned columns of short values (each cleaned); the last column may be long and is not padded."""
    import click
    if not rows:
        click.echo(indent + empty)
        return
    cells = [[field(v) for v in r] for r in rows]
    lines = ([head] if head else []) + cells
    widths = [max(len(x[i]) for x in lines if i < len(x)) for i in range(max(map(len, lines)))]
    for line in lines:
        click.echo(indent + "  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip())
