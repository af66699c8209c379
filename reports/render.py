"""Render a :class:`Document`: self-contained HTML (inline SVG, no script), PDF (headless
Chromium), Markdown, CSV and JSON of the figures.

Templates run in a Jinja2 SandboxedEnvironment with autoescape and StrictUndefined: text from the
network (host names, banners, log lines) is data and shows as text.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from findings.errors import MissingTool, RuntimeFailure, UsageError
from findings.support.templates import environment as sandboxed

from . import fmt, i18n
from .document import Document

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "pdf", "md", "csv", "json")
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def environment(markdown: bool = False) -> SandboxedEnvironment:
    """The one template environment (also for the playbooks' incident templates)."""
    env = sandboxed(FileSystemLoader(str(TEMPLATES)),
                    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True)
                    if not markdown else False)
    env.filters["cell"] = lambda v, kind, lang: fmt.cell(v, kind, lang)
    env.filters["num"] = lambda v, lang, d=0: fmt.number(v, lang, d)
    env.filters["md"] = md_escape
    env.filters["css_string"] = css_string
    env.filters["css_fonts"] = lambda fonts: Markup(", ".join(css_string(f) for f in fonts))
    env.filters["css_page"] = css_page
    env.filters["place_date"] = place_date
    env.filters["unbroken"] = unbroken
    env.globals["word"] = i18n.tr
    return env


# an address, host name or id inside a sentence: a digit and a separator ('198.19.65.11', 'b-pc1')
_TOKEN = re.compile(r"[\w.:/@-]*\d[\w.:/@-]*")


def unbroken(text: Any) -> Markup:
    """HTML of a text cell in which no address, host name or id breaks across lines (each in a
    nowrap span); the rest escaped, and free to wrap between words."""
    text, out, last = str(text), [], 0
    for m in _TOKEN.finditer(text):
        if not any(c in m.group() for c in ".-:/@") or len(m.group()) < 4:
            continue
        out += [str(escape(text[last:m.start()])), f'<span class="c">{escape(m.group())}</span>']
        last = m.end()
    return Markup("".join(out) + str(escape(text[last:])))


def css_string(text: Any) -> Markup:
    """A CSS string literal: every character but letters, digits and spaces as a CSS escape, so
    no text (an agency's name, a period) can end the string or the style element."""
    out = []
    for ch in str(text):
        out.append(ch if ch.isalnum() or ch == " " else f"\\{ord(ch):x} ")
    return Markup('"' + "".join(out) + '"')


def css_page(words: str) -> Markup:
    """"Trang {n}/{total}" as CSS content with the page counters."""
    head, rest = words.split("{n}", 1)
    mid, tail = rest.split("{total}", 1)
    return Markup(" ".join(filter(None, [str(css_string(head)) if head else "", "counter(page)",
                                         str(css_string(mid)) if mid else "", "counter(pages)",
                                         str(css_string(tail)) if tail else ""])))


def place_date(when: Any, place: str, lang: str) -> str:
    """"Hải Phòng, ngày 07 tháng 12 năm 2026" / "Hai Phong, 7 Dec 2026" in the city's time zone."""
    if when is None:
        return place
    d = when.astimezone(fmt.zone())
    return i18n.tr("place_date", lang, place=place, d=f"{d.day:02d}", m=f"{d.month:02d}", y=d.year,
                   date=fmt.date(d, lang))


def md_escape(value: Any) -> str:
    """Markdown table text: no HTML, no pipes, no line breaks."""
    text = str(value).replace("\\", "\\\\")
    for ch in "`*_[]#<>|&":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r", " ").replace("\n", " ")


def html(doc: Document) -> str:
    return environment().get_template("document.html.j2").render(doc=doc)


def markdown(doc: Document) -> str:
    return environment(markdown=True).get_template("document.md.j2").render(doc=doc)


def figures_json(doc: Document) -> str:
    return json.dumps({"kind": doc.kind, "lang": doc.lang, "figures": doc.figures}, ensure_ascii=False,
                      indent=2, default=str)


def figures_csv(doc: Document) -> str:
    """Every table of the document, full length, as rows: table, then its columns (raw values)."""
    out = io.StringIO()
    w = csv.writer(out)
    for section in doc.sections:
        for t in section.tables:
            w.writerow(["#table", t.id, t.title])
            w.writerow([c.key for c in t.columns])
            for row in t.rows:
                w.writerow([_raw(row.get(c.key)) for c in t.columns])
    return out.getvalue()


def _raw(v: Any) -> Any:
    return ";".join(map(str, v)) if isinstance(v, (list, tuple)) else ("" if v is None else v)


def chromium() -> str:
    for name in CHROMIUM:
        if path := shutil.which(name):
            return path
    raise MissingTool("no headless Chromium found (chromium); scripts/setup installs it")


def chromium_argv(profile: str, *extra: str) -> list[str]:
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", *extra]


def pdf(doc: Document, out: Path, timeout: float = 120) -> None:
    """Print the HTML to PDF with headless Chromium (no network: the HTML is self-contained)."""
    print_html(html(doc), out, timeout)


def print_html(page: str, out: Path, timeout: float = 120) -> None:
    """Print a self-contained HTML page to PDF with headless Chromium (the page's @page rules
    give the paper, margins, running header and page numbers)."""
    with tempfile.TemporaryDirectory(prefix="citysec-pdf-") as tmp:
        src = Path(tmp) / "report.html"
        src.write_text(page, encoding="utf-8")
        argv = chromium_argv(str(Path(tmp) / "profile"), "--no-pdf-header-footer",
                             f"--print-to-pdf={out}", src.as_uri())
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            raise RuntimeFailure(f"Chromium did not print {out} in {timeout:.0f} s") from exc
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise RuntimeFailure(f"Chromium could not print {out}: {proc.stderr.decode(errors='replace')[-500:]}")


def write(doc: Document, fmt_: str, out: Path | None) -> str | None:
    """Write the document in a format to ``out`` (or return the text when ``out`` is None)."""
    if fmt_ not in FORMATS:
        raise UsageError(f"--format {fmt_!r}: expected one of {', '.join(FORMATS)}")
    if fmt_ == "pdf":
        if out is None:
            raise UsageError("--format pdf needs --out FILE")
        out.parent.mkdir(parents=True, exist_ok=True)
        pdf(doc, out)
        return None
    text = {"html": html, "md": markdown, "json": figures_json, "csv": figures_csv}[fmt_](doc)
    if out is None:
        return text
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return None


def as_dict(doc: Document) -> dict[str, Any]:
    return asdict(doc)
