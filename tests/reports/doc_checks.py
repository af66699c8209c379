"""What a reader checks on a document, shared by the documents' tests (tests/reports/test_documents.py
on the known data set, tests/reports/test_documents_range.py on a store filled by the range): the
other language's words, internal codes, the PDF's pages, paper and text."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from pydantic import BaseModel

from citysec.jobs.scan import load_exposure
from collectors.catalogue import catalogue
from exercises.scenario import RATINGS, Contact
from exercises.validate import builtin, load_scenario
from playbooks import incident_report
from reports import i18n

LANGS = ("vi", "en")
# internal codes a reader must never meet outside a technical column (addresses, ports, host names
# and case ids are technical columns; check ids, datasets, periods as codes, sources, ISO timestamps
# and durations as codes are not); the agencies' ids are added by each test
CODES = (r"\b(?:av|backup|log|collect|discovery|exposure|ssh|citysec)\.[a-z_]+|\bsqlite\b"
         r"|\b\d{4}-\d\d-\d\dT\d\d|\bC20\d\d\b|\b20\d\d-H[12]\b|\b\d+[dhm] \d+[hm]\b")


def codes(*agencies: str) -> re.Pattern:
    """The internal codes, with these agency ids."""
    ids = "|".join(re.escape(a) for a in agencies)
    return re.compile(CODES + (rf"|(?<![\w-])(?:{ids})(?![\w-])" if ids else ""))


def _scenario_pairs() -> list[tuple[str, str]]:
    """Every bilingual text of the built-in scenarios, as (vi, en); contacts' roles left out (the
    city configuration's contacts have one role, as written, which incident reports show)."""
    out = []

    def walk(v):
        if isinstance(v, Contact):
            return
        if hasattr(v, "in_lang"):
            out.append((v.vi, v.en))
        elif isinstance(v, BaseModel):
            for k in type(v).model_fields:
                walk(getattr(v, k))
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
    for path in builtin():
        walk(load_scenario(path).scenario)
    return out


def words(lang: str) -> set[str]:
    """The catalogues', templates' and scenarios' strings of one language that the other language's
    documents must not show (chunks of 10+ characters with a space, not found in the other's)."""
    pairs = [*i18n.WORDS.values(), *i18n.TYPES.values(), *i18n.SEVERITY.values()]
    names = {**catalogue().names(), **load_exposure().names()}
    pairs += [(n["vi"], n["en"]) for n in names.values()]
    labels = incident_report.labels()
    pairs += [(labels["vi"][k], labels["en"][k]) for k in labels["vi"]]
    pairs += [(r["vi"], r["en"]) for r in RATINGS.values()] + _scenario_pairs()
    i = LANGS.index(lang)
    own = {p[1 - i] for p in pairs}
    out = set()
    for p in pairs:
        for chunk in re.split(r"\{[a-z_]+\}", p[i]):
            chunk = chunk.strip(" .:;,()·—")
            if len(chunk) >= 10 and " " in chunk and not any(chunk in o for o in own):
                out.add(chunk)
    return out


def foreign(text: str, lang: str, other_words: set[str] | None = None) -> list[str]:
    """The other language's strings that ``text`` (a document in ``lang``) shows."""
    flat = " ".join(text.split())
    return sorted(w for w in (other_words if other_words is not None else words(other(lang))) if w in flat)


def other(lang: str) -> str:
    return "en" if lang == "vi" else "vi"


def read_pdf(pdf: Path) -> dict:
    """The PDF as a reader gets it: its text (pdftotext -layout), pages and page size (pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE).group(1))
    size = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.MULTILINE)
    return {"text": text, "pages": pages, "size": (float(size.group(1)), float(size.group(2)))}


def a4_numbered(d: dict, lang: str) -> list[str]:
    """What is wrong with the paper: not A4, or a page without its number ("Trang k/N", "Page k of N")."""
    bad = [] if abs(d["size"][0] - 595) < 2 and abs(d["size"][1] - 842) < 2 else [f"page size {d['size']}"]
    n = d["pages"]
    return bad + [f"no number on page {k}" for k in range(1, n + 1)
                  if (f"Trang {k}/{n}" if lang == "vi" else f"Page {k} of {n}") not in d["text"]]


def national_heading(text: str, lang: str) -> bool:
    """The national heading and a signature block (Decree 30) are on the document."""
    if lang == "vi":
        return ("CỘNG HOÀ XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
                and "(Ký, ghi rõ họ tên, đóng dấu)" in text
                and bool(re.search(r"ngày \d\d tháng \d\d năm 20\d\d", text, re.IGNORECASE)))
    return "SOCIALIST REPUBLIC OF VIET NAM" in text and "(Signature, full name, seal)" in text


def headings(html: str) -> list[str]:
    """The section headings of an HTML document (numbering taken off)."""
    return [re.sub(r"<[^>]+>|^\d+\. ", "", h).strip() for h in re.findall(r"<h[123][^>]*>(.*?)</h[123]>", html)]
