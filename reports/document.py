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
    kind: str = "text"    # text, int, num, pct, delta, date, code (never broken: addresses, ids)


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


PAPER = {"margins_mm": {"top": 20, "bottom": 20, "left": 30, "right": 15},
         "fonts": ["Times New Roman", "Liberation Serif", "Tinos"], "font_size_pt": 13, "table_font_size_pt": 10.5,
         "place": ""}


@dataclass
class Official:
    """What an official document carries besides its content (Decree 30/2020, Appendix I): the
    issuing body (and the body above it), place and date, recipients, the signer's title."""
    issuer: str
    parent: str = ""
    place: str = ""
    signer: str = ""


@dataclass
class Document:
    kind: str
    title: str
    subtitle: str
    lang: str
    meta: list[tuple[str, str]]
    sections: list[Section]
    figures: dict[str, Any] = field(default_factory=dict)   # the underlying figures (JSON output)
    notices: list[str] = field(default_factory=list)         # said at the top (e.g. "this period has no data")
    header: str = ""                                         # the running header of every page but the first
    official: Official | None = None                         # national heading, place and date, signature block
    paper: dict[str, Any] = field(default_factory=lambda: dict(PAPER))
    date: Any = None                                         # the document's date (datetime)


def table(tid: str, lang: str, title_key: str, columns: list[tuple[str, str, str]], rows: list[dict],
          empty_key: str = "none") -> Table:
    """A table with translated labels; rows past LIST_LIMIT are cut (and counted)."""
    cols = [Column(key, i18n.tr(label, lang), kind) for key, label, kind in columns]
    return Table(tid, i18n.tr(title_key, lang), cols, rows[:LIST_LIMIT], i18n.tr(empty_key, lang),
                 total=len(rows))
