"""Rendering: local formats, hostile text stays text (checked in headless Chromium), PDF pages."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime

import dataset
import pytest
from report_helpers import ORGS

from reports import fmt, periodic, render
from reports.period import parse_period
from reports.summary import period_figures


@pytest.fixture(scope="module")
def docs(sqlite_query):
    p = parse_period("2026-H2")
    figs = period_figures(sqlite_query, p, ORGS)
    when = datetime(2027, 1, 5, tzinfo=UTC)
    return {lang: periodic.build(figs, p, ORGS, lang, source="sqlite", generated=when) for lang in ("vi", "en")}


def test_local_formats():
    assert fmt.number(1234.5, "vi", 1) == "1.234,5" and fmt.number(1234.5, "en", 1) == "1,234.5"
    assert fmt.date("2026-11-30T10:00:00Z", "vi") == "30/11/2026"
    assert fmt.date("2026-12-31T20:00:00Z", "vi") == "01/01/2027"          # UTC+7
    assert fmt.date("2026-11-30T10:00:00Z", "en") == "30 Nov 2026"


def test_html_is_self_contained_and_escapes_hostile_text(docs):
    html = render.html(docs["vi"])
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;evil-host" in html
    assert "pwned-banner" in html and "<svg" in html
    assert "01/07/2026" in html and "Phòng chống mã độc" in html
    assert "40,0 %" in html                                                  # city coverage, vi format
    en = render.html(docs["en"])
    assert "Antivirus coverage" in en and "1 Jul 2026" in en and "40.0 %" in en


def test_markdown_and_csv(docs):
    md = render.markdown(docs["vi"])
    assert "\\<script\\>" in md and not re.search(r"(?<!\\)<script", md)    # inert: escaped, not HTML
    assert "&gt;" not in md and "&lt;" not in md and "\\>180" in md             # no HTML entities
    assert "| Sở A | 4 | 25,0 % |" in md
    csv = render.figures_csv(docs["en"])
    assert "Department A,4,25.0,1,50.0,1,3,1,5,1" in csv
    assert '"figures"' in render.figures_json(docs["en"])


def _chromium(tmp_path, *args: str) -> subprocess.CompletedProcess:
    argv = render.chromium_argv(str(tmp_path / "profile"), *args)
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)


def test_hostile_text_shows_as_text_in_chromium(docs, tmp_path, artefacts):
    page = tmp_path / "report.html"
    page.write_text(render.html(docs["vi"]), encoding="utf-8")
    dom = _chromium(tmp_path, "--dump-dom", "--virtual-time-budget=2000", page.as_uri()).stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL).group(1)
    assert "pwned" not in title and title.startswith("Báo cáo định kỳ")     # no script changed the title
    assert "<script" not in dom.lower()                                     # the DOM has no script element
    assert dataset.HOSTILE_NAME.replace("<", "&lt;").replace(">", "&gt;") in dom   # shown as text
    shot = artefacts / "periodic-2026-H2.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars", page.as_uri())
    assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pdf_has_the_expected_pages(docs, artefacts):
    out = artefacts / "periodic-2026-H2.pdf"
    render.write(docs["vi"], "pdf", out)
    data = out.read_bytes()
    assert data[:5] == b"%PDF-"
    pages = int(re.search(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", data, re.DOTALL).group(1))
    # the sections flow over the first pages; the remedies start a page of their own
    assert 2 <= pages <= 8
    assert pages == len(re.findall(rb"/Type\s*/Page\b", data))
