"""A report as data: sections of paragraphs, tables and bar charts, rendered by reports.render.

Builders (periodic, ranking, member, compliance) make a :class:`Document`; every output format
renders the same document, so HTML, PDF and Markdown always say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import i18n

LIST_LIMIT = 100          # rows of a detail list shown in a document (CSV/JSON hold them all)


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"    # text, int, num, pct, delta, date


@dataclass
class Table:
    id: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    empty: str = ""
    total: int | None = None    # rows before the limit, when cut

    @property
    def cut(self) -> int:
        return (self.total or len(self.rows)) - len(self.rows)


@dataclass
class Bars:
    title: str
    items: list[tuple[str, float | None]]
    kind: str = "int"             # how values print: int or pct
    maximum: float | None = None  # the scale (100 for percentages)

    @property
    def scale(self) -> float:
        vals = [v for _, v in self.items if v is not None]
        return self.maximum or (max(vals) if vals and max(vals) > 0 else 1)


@dataclass
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Bars] = field(default_factory=list)


@dataclass
class Document:
    kind: str
    title: str
    subtitle: str
    lang: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    figures: dict[str, Any] = field(default_factory=dict)   # the underlying figures (JSON output)


def table(tid: str, lang: str, title_key: str, columns: list[tuple[str, str, str]], rows: list[dict],
          empty_key: str = "none") -> Table:
    """A table with translated labels; rows past LIST_LIMIT are cut (and counted)."""
    cols = [Column(key, i18n.tr(label, lang), kind) for key, label, kind in columns]
    return Table(tid, i18n.tr(title_key, lang), cols, rows[:LIST_LIMIT], i18n.tr(empty_key, lang),
                 total=len(rows))
