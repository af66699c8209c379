"""Every document that leaves the SOC, in both languages, rendered through the command on a store
that the range filled (issue #17's CI test): the range `rd` (198.19.64.0/20, tests/fixtures/reports/)
has a forbidden service, hosts without healthy antivirus, a failing backup and malware whose file
name is markup; the city's own jobs (`citysec run --once`) record them, the cases job opens the
incidents, a short accelerated drill runs on the range and is rated. Then each document — the
periodic report (city, one agency), the ranking, Form 05, the compliance report, the incident
notice/initial/final reports and the after-action report — is written by `citysec` as HTML, opened
in headless Chromium (Selenium, Debian's chromedriver) for its visible text, and printed to PDF as
`--format pdf` prints it, read with pdfinfo and pdftotext.

One range and one set of documents for the module (module-scoped fixtures).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from doc_checks import LANGS, a4_numbered, codes, foreign, headings, national_heading, other, read_pdf, words
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from exercises.range.state import EICAR
from reports import render
from tests.range_support import build_range

pytestmark = pytest.mark.range
HERE = Path(__file__).parent
ROOT = HERE.parents[1]
FIX = ROOT / "tests" / "fixtures" / "reports"
EXE = str(Path(sys.executable).parent / "citysec")
HOSTILE_FILE = "<img src=x onerror=document.title='pwned'>.exe"   # a file name is text, never markup
MALWARE = f"/var/lib/citysec-data/{HOSTILE_FILE}"
TCP = "21-23,80,443,445,2375,3306,3389,5432,5900,6379,8080,9200"
NOW = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))              # the city's time zone decides the period
PERIOD, YEAR = f"{NOW.year}-H{1 if NOW.month <= 6 else 2}", str(NOW.year)
REPORTS = {   # document → the command's arguments
    "periodic": ("report", "periodic", "--period", PERIOD),
    "periodic-agency": ("report", "periodic", "--period", PERIOD, "--agency", "rd-a"),
    "ranking": ("report", "ranking", "--period", PERIOD),
    "member": ("report", "member", "--period", PERIOD),
    "compliance": ("report", "compliance", "--year", YEAR),
}
INCIDENT = ("notice", "initial", "final")
KINDS = (*REPORTS, *INCIDENT, "aar")
OFFICIAL = ("periodic", "periodic-agency", "ranking", "member", "compliance", *INCIDENT)
ALL = [(k, lang) for lang in LANGS for k in KINDS]
CODES = codes("rd-a", "rd-b", "rd-soc")


def citysec(city: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    out = subprocess.run([EXE, "--config", str(city), *args], capture_output=True, text=True, timeout=timeout,
                         cwd=city.parent, stdin=subprocess.DEVNULL, check=False, env=os.environ | {"CI": "1"})
    assert out.returncode in (0, 1), f"citysec {' '.join(args)}: exit {out.returncode}\n{out.stderr[-2000:]}"
    return out


def _city(state: Path, var: Path) -> Path:
    text = (FIX / "rd-city.yaml.tmpl").read_text(encoding="utf-8")
    path = var / "city.yaml"
    path.write_text(text.replace("{STATE}", str(state)).replace("{VAR}", str(var)), encoding="utf-8")
    return path


def _fill(rng, city: Path, state: Path) -> dict:
    """The city's jobs on the range, then a short drill, rated; returns the ids the documents need."""
    t = time.monotonic()
    rng.drop_file("a-pc1", MALWARE, EICAR)      # a-pc1's clamd finds it on its scheduled scan of the folder
    scan = rng.exec("a-pc1", ["socat", "-", "UNIX-CONNECT:/run/clamav/clamd.ctl"], input="CONTSCAN /var/lib/citysec-data\n")
    assert "FOUND" in scan.stdout, scan
    # the scheduler's jobs (in parallel, as `citysec run` runs them); the service scan through its command on
    # the TCP ports of the exposure catalogue's services only: nmap's UDP probes would add 15 s and find
    # nothing here
    citysec(city, "run", "--once", *[a for j in ("discovery", "antivirus", "backup", "logs") for a in ("--only", j)])
    citysec(city, "scan", "services", "--ports", TCP, timeout=300)
    citysec(city, "run", "--once", "--only", "cases")
    print(f"\njobs: {time.monotonic() - t:.1f} s")
    run = citysec(city, "exercise", "run", str(FIX / "rd-drill.yaml"), "--mode", "accelerated", "--speed", "120",
                  "--run-id", "rd-drill-1", "--range-state", str(state), timeout=300)
    print(f"drill: {time.monotonic() - t:.1f} s")
    by = ("--by", "Phạm Đánh Giá")
    citysec(city, "exercise", "rate", "rd-drill-1", "detect", "S", "--note", "Phát hiện nhanh", *by)
    citysec(city, "exercise", "rate", "rd-drill-1", "report", "M", "--note", "Báo cáo muộn", *by)
    citysec(city, "exercise", "survey", "rd-drill-1", "--participant", "rd-b", "--answer", "4", "--answer",
            "Phối hợp tốt", "--answer", "Cần diễn tập thêm")
    citysec(city, "exercise", "actions", "add", "rd-drill-1", "--title", "Huấn luyện báo cáo sự cố", "--agency",
            "rd-b", "--contact", "Trần Thị Bình", "--due", f"{int(YEAR) + 1}-03-31", "--objective", "report")
    cases = json.loads(citysec(city, "case", "list", "--json").stdout)
    malware = next(c for c in cases if c["playbook"] == "malware-detected" and c["host"] == "198.19.65.11")
    return {"cases": cases, "malware": malware["id"], "drill": run.stdout}


def _documents(city: Path, var: Path, ids: dict) -> dict[tuple[str, str], Path]:
    """Each document's HTML, written by the command."""
    out = var / "docs"
    out.mkdir()
    html = {}
    for lang in LANGS:
        for kind, args in REPORTS.items():
            html[(kind, lang)] = out / f"{kind}.{lang}.html"
            citysec(city, *args, "--lang", lang, "--format", "html", "--out", str(html[(kind, lang)]))
        html[("aar", lang)] = out / f"aar.{lang}.html"
        citysec(city, "exercise", "aar", "rd-drill-1", "--lang", lang, "--format", "html", "--out", str(html[("aar", lang)]))
    for kind in INCIDENT:   # the command writes both languages
        files = json.loads(citysec(city, "case", "report", ids["malware"], "--kind", kind, "--json").stdout)["files"]
        for lang in LANGS:
            html[(kind, lang)] = Path(next(f for f in files if f.endswith(f".{lang}.html")))
    return html


def _browser() -> webdriver.Chrome:
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    driver.set_page_load_timeout(60)
    return driver


SEEN = """
const b = document.body, keep = b.cloneNode(true);
keep.querySelectorAll('td.c').forEach(e => e.remove());
return {text: b.innerText, words: keep.innerText, title: document.title,
        heads: [...document.querySelectorAll('h1,h2,h3')].map(h => h.innerText.replace(/^\\d+\\. /, '').trim()),
        ints: [...document.querySelectorAll('td.int')].map(td => td.innerText.trim()),
        active: document.querySelectorAll('script, img, iframe, object, embed, [onerror], [onload]').length};
"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory, artefacts) -> dict[tuple[str, str], dict]:
    """Every document in both languages: what Chromium shows of its HTML, and its PDF read back."""
    state, var = tmp_path_factory.mktemp("rd-range"), tmp_path_factory.mktemp("rd-var")
    t0 = time.monotonic()
    with build_range(str(FIX / "rd-range.yaml"), "rd", state) as rng:
        (var / "known_hosts").write_text("".join(f"{ip} {key}\n" for ip, key in rng.host_keys().items()))
        shutil.copyfile(FIX / "rd-range.yaml", state / "spec.yaml")    # as `citysec range up` records it
        city = _city(state, var)
        ids = _fill(rng, city, state)
    html = _documents(city, var, ids)
    pdfs = {k: var / "docs" / f"{k[0]}.{k[1]}.pdf" for k in html}
    with ThreadPoolExecutor(2) as pool:     # printed as `--format pdf` prints the same HTML
        list(pool.map(lambda k: render.print_html(html[k].read_text(encoding="utf-8"), pdfs[k]), html))
    keep = artefacts / "range"             # for a person to look at (out/tests/reports/range/)
    keep.mkdir(exist_ok=True)
    for k, pdf in pdfs.items():
        shutil.copyfile(pdf, keep / pdf.name)
    driver = _browser()
    got = {}
    try:
        for k, path in html.items():
            driver.get(path.as_uri())
            got[k] = {"seen": driver.execute_script(SEEN), "html": path.read_text(encoding="utf-8")} | read_pdf(pdfs[k])
    finally:
        driver.quit()
    print(f"\nrange, jobs, drill and {len(got)} documents: {time.monotonic() - t0:.1f} s")
    return got | {("_ids", ""): ids}


@pytest.fixture(scope="module")
def foreign_words() -> dict[str, set[str]]:
    return {lang: words(lang) for lang in LANGS}


@pytest.mark.parametrize("kind,lang", ALL)
def test_a4_with_page_numbers_on_every_page(docs, kind, lang):
    assert a4_numbered(docs[(kind, lang)], lang) == []


@pytest.mark.parametrize("kind,lang", ALL)
def test_one_language_in_the_browser_and_on_paper(docs, foreign_words, kind, lang):
    d = docs[(kind, lang)]
    for where, text in (("html", d["seen"]["text"]), ("pdf", d["text"])):
        assert foreign(text, lang, foreign_words[other(lang)]) == [], f"{kind}.{lang} ({where})"


@pytest.mark.parametrize("kind,lang", ALL)
def test_words_not_codes_outside_technical_columns(docs, kind, lang):
    seen = " ".join(docs[(kind, lang)]["seen"]["words"].split())
    assert CODES.findall(seen) == [], f"{kind}.{lang} shows codes"


@pytest.mark.parametrize("kind,lang", ALL)
def test_counts_are_whole_numbers_and_no_heading_twice(docs, kind, lang):
    seen = docs[(kind, lang)]["seen"]
    assert [c for c in seen["ints"] if not re.fullmatch(r"\d{1,3}([.,]\d{3})*|—", c)] == []
    assert len(seen["heads"]) == len(set(seen["heads"])), seen["heads"]
    assert headings(docs[(kind, lang)]["html"])


@pytest.mark.parametrize("kind,lang", [(k, lang) for k, lang in ALL if k in OFFICIAL])
def test_official_documents_carry_the_national_heading_and_a_signature_block(docs, kind, lang):
    assert national_heading(docs[(kind, lang)]["text"], lang)


@pytest.mark.parametrize("kind,lang", ALL)
def test_text_from_the_range_is_inert(docs, kind, lang):
    seen = docs[(kind, lang)]["seen"]
    assert seen["active"] == 0 and seen["title"] != "pwned"          # no element made from the text


def test_the_range_findings_are_in_the_documents(docs):
    """What the jobs found is what the documents count and name (in each language)."""
    vi = " ".join(docs[("periodic", "vi")]["text"].split())
    en = " ".join(docs[("periodic", "en")]["text"].split())
    assert "Sở Thử nghiệm A" in vi and "Test Department A" in en and "Sở Thử nghiệm A" not in en
    assert "FTP" in vi and "a-srv1" in vi and "a-pc2" in en            # exposure, failed backup, no antivirus
    ids = docs[("_ids", "")]
    kinds = {c["playbook"] for c in ids["cases"]}
    assert {"forbidden-service", "antivirus-missing", "backup-failed", "malware-detected"} <= kinds
    for lang in LANGS:   # the initial report's signs: the clamd line as the logs job read it, shown as text
        assert HOSTILE_FILE in " ".join(docs[("initial", lang)]["seen"]["text"].split())
    member = " ".join(docs[("member", "vi")]["text"].split())
    assert not re.search(r"\b\d+,0\b", member)                          # Form 05 counts incidents as integers


def test_the_after_action_report_and_the_periodic_report_name_the_drill(docs):
    for lang, title in (("vi", "Diễn tập 2026: mã độc tại Phường Thử nghiệm B"), ("en", "Drill 2026: malware at Test Ward B")):
        assert title in " ".join(docs[("aar", lang)]["seen"]["text"].split())
        assert title in " ".join(docs[("periodic", lang)]["seen"]["text"].split())
        assert "rd-drill-1" not in docs[("periodic", lang)]["seen"]["words"]
    timeline = docs[("aar", "en")]["seen"]["text"]
    assert "Malware (EICAR) on the workstation b-pc1 (technical)" in timeline


@pytest.mark.parametrize("kind,lang", ALL)
def test_no_word_or_address_broken_on_paper(docs, kind, lang):
    """Each word, address, host name and id the browser shows is whole in the PDF as often as it is
    shown (no 'ClamA V', no '198.19.65.1 1', no 'b- pc1'). A word of letters may break after its
    hyphen, as print does ('Self-' / 'handled'); a token with a digit (address, host, id) may not."""
    d = docs[(kind, lang)]
    counts: dict[str, int] = {}
    for t in re.findall(r"\w[\w.:/@-]*\w", d["seen"]["text"]):
        counts[t] = counts.get(t, 0) + 1
    broken = []
    for t, n in sorted(counts.items()):
        parts = [t] if re.search(r"\d", t) else [p for p in re.split(r"(?<=-)", t) if p]
        if len(t) >= 4 and any(d["text"].count(p) < n for p in parts):
            broken.append(t)
    assert broken == [], f"{kind}.{lang}"


def test_the_citys_own_names_are_in_the_reader_language(docs):
    """A system's and a contact role's English name (name_en, role_en in the configuration) in the
    English documents, the Vietnamese one in the Vietnamese documents."""
    text = {(k, lang): " ".join(docs[(k, lang)]["text"].split()) for k in ("compliance", "initial") for lang in LANGS}
    assert "Accounting" in text[("compliance", "en")] and "Kế toán" not in text[("compliance", "en")]
    assert "Kế toán" in text[("compliance", "vi")] and "Accounting" not in text[("compliance", "vi")]
    assert "IT officer" in text[("initial", "en")] and "Cán bộ CNTT" not in text[("initial", "en")]
    assert "Cán bộ CNTT" in text[("initial", "vi")] and "IT officer" not in text[("initial", "vi")]
