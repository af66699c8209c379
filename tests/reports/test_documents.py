"""What a person sees in each document that leaves the SOC, in both languages: every document is
rendered once through `citysec report` (HTML, printed to PDF) on the known data set's store, and the
incident notice/initial/final reports from a case view; the PDFs are read with pdfinfo and
pdftotext, as a reader would see them (docs/reports.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import dataset
import pytest
import yaml
from doc_checks import LANGS, a4_numbered, codes, foreign, headings, national_heading, read_pdf

from citysec.report_inputs import check_names
from playbooks import incident_report
from reports import i18n, render

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
DOCS = {   # document → the command's arguments
    "periodic": ("periodic", "--period", "2026-H2"),
    "periodic-agency": ("periodic", "--period", "2026-H2", "--agency", "so-a"),
    "ranking": ("ranking", "--period", "2026-H2"),
    "member": ("member", "--period", "2026-H2"),
    "compliance": ("compliance", "--year", "2026"),
}
INCIDENT = ("notice", "initial", "final")
OFFICIAL = ("periodic", "periodic-agency", "member", "compliance") + INCIDENT
CODES = codes("so-a", "so-b")


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("city")
    shutil.copy(HERE / "city.yaml", d / "city.yaml")
    dataset.build(d / "citysec.db")
    return d / "city.yaml"


def _citysec(city: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "citysec"), "--config", str(city), "report", *args],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)


def case_view() -> dict:
    """A case as the playbooks' views give it (the fields the incident reports show)."""
    steps = [{"id": "confirm", "kind": "manual", "state": "done", "ended_at": "2026-12-07T03:51:23.339Z",
              "title": {"vi": "Xác minh dịch vụ", "en": "Confirm the service"}},
             {"id": "stop", "kind": "action", "state": "skipped", "ended_at": None,
              "title": {"vi": "Dừng dịch vụ", "en": "Stop the service"}},
             {"id": "rescan", "kind": "action", "state": "pending", "ended_at": None,
              "title": {"vi": "Quét lại", "en": "Scan again"}}]
    return {"id": "IR-20261207-abc123", "agency": "so-a", "title": "Dịch vụ bị cấm đang mở",
            "title_en": "Forbidden service exposed", "incident_type": "other", "severity": "high",
            "status": "waiting", "host": "198.18.90.13", "system": None, "level": 3,
            "detected_at": "2026-12-07T03:40:00.000Z", "response_ended_at": None,
            "record": {"summary": "Forbidden service exposed", "context": {
                "agency_name": "Sở A", "agency_name_en": "Department A", "host_name": dataset.HOSTILE_NAME,
                "contacts": [{"name": "Trần Thị B", "role": "Cán bộ CNTT", "phone": "+84 912 000 000"}]},
                "chain_of_custody": []},
            "nist": {"indicators": []},
            "findings": [{"message": "telnet open on 198.18.90.13:23", "event": {"dataset": "citysec.exposure"},
                          "citysec": {"check": "exposure.telnet"}, "@timestamp": "2026-12-07T03:40:00.000Z",
                          "host": {"ip": ["198.18.90.13"], "name": "tc-pc1"}, "server": {"port": 23},
                          "service": {"name": "telnet"}}],
            "steps": steps, "times": {"to_acknowledge": 600.0, "to_contain": None, "to_close": None},
            "deadlines": [{"name": "notice", "report": "notice", "due": "2026-12-12T03:40:00.000Z", "met_at": None,
                           "left_seconds": 4 * 86400 + 23 * 3600 + 47 * 60, "left": "4d 23h 47m", "missed": False},
                          {"name": "final_report", "report": "final", "due": None, "met_at": None,
                           "left_seconds": None, "left": "not started", "missed": False}]}


@pytest.fixture(scope="module")
def rendered(city, tmp_path_factory) -> dict[tuple[str, str], dict]:
    """Every document in both languages: its HTML, its PDF's text, pages and page size."""
    out = tmp_path_factory.mktemp("docs")
    got = {}
    for lang in LANGS:
        for name, args in DOCS.items():
            # the command writes the HTML; its PDF is that HTML printed as `--format pdf` prints it
            # (render.print_html), so each document costs one command and one Chromium
            h = _citysec(city, *args, "--lang", lang, "--format", "html")
            assert h.returncode == 0, h.stderr
            pdf = out / f"{name}.{lang}.pdf"
            render.print_html(h.stdout, pdf)
            got[(name, lang)] = read_pdf(pdf) | {"html": h.stdout}
        for kind in INCIDENT:
            page = incident_report.render(case_view(), kind, lang, now="2026-12-07T04:00:00.000Z",
                                          names=check_names())
            pdf = out / f"incident_{kind}.{lang}.pdf"
            render.print_html(page, pdf)
            got[(kind, lang)] = read_pdf(pdf) | {"html": page}
    return got


ALL = [(n, lang) for lang in LANGS for n in (*DOCS, *INCIDENT)]


@pytest.mark.parametrize("name,lang", ALL)
def test_a4_with_page_numbers_on_every_page(rendered, name, lang):
    assert a4_numbered(rendered[(name, lang)], lang) == []


@pytest.mark.parametrize("name,lang", ALL)
def test_one_language_and_words_not_codes(rendered, name, lang):
    text = " ".join(rendered[(name, lang)]["text"].split())
    assert foreign(text, lang) == [], f"{name}.{lang} shows the other language"
    assert CODES.findall(text) == [], f"{name}.{lang} shows codes"


@pytest.mark.parametrize("name,lang", [(n, lang) for n, lang in ALL if n in OFFICIAL])
def test_official_documents_carry_the_national_heading_and_a_signature_block(rendered, name, lang):
    assert national_heading(rendered[(name, lang)]["text"], lang)


@pytest.mark.parametrize("name,lang", ALL)
def test_no_heading_twice_and_no_html_entity_shown(rendered, name, lang):
    html = rendered[(name, lang)]["html"]
    heads = headings(html)
    assert len(heads) == len(set(heads)), heads
    assert not re.search(r"&(gt|lt|amp);\d", rendered[(name, lang)]["text"])


def test_counts_are_integers_and_dates_are_written_as_the_reader_writes_them(rendered):
    member = " ".join(rendered[("member", "vi")]["text"].split())
    assert not re.search(r"\b\d+,\d\b", member)                        # Form 05: counts only
    periodic = " ".join(rendered[("periodic", "vi")]["text"].split())
    assert "Sự cố 2 " in periodic or "Sự cố: 2 " in periodic           # not "2,0"
    assert "từ ngày 01/07/2026 đến ngày 31/12/2026" in periodic
    notice = " ".join(rendered[("notice", "vi")]["text"].split())
    assert "07/12/2026 10:40" in notice                                 # 03:40 UTC in Asia/Ho_Chi_Minh
    assert "4 ngày 23 giờ" in notice and "4d 23h" not in notice
    assert "4 days 23 h" in " ".join(rendered[("notice", "en")]["text"].split())


def test_hostile_text_is_shown_as_text(rendered):
    for name in ("periodic", "notice"):
        d = rendered[(name, "vi")]
        assert "<script>document.title=" in " ".join(d["text"].split())     # printed, not run
        assert "<script>" not in d["html"]


def test_ranking_explains_its_formula_weights_and_no_data(rendered):
    text = " ".join(rendered[("ranking", "vi")]["text"].split())
    html = rendered[("ranking", "vi")]["html"]
    for key in ("f_incidents", "nd_incidents", "f_coverage", "method_intro"):
        assert i18n.tr(key, "vi").replace('"', "&#34;") in html
    assert "0,25" in text                                                # the weights are printed
    assert "6 tháng đầu năm 2026" in text and "không có dữ liệu" in text  # trend labelled by period


def test_drills_are_named_by_their_title_in_the_reader_language(rendered):
    vi = " ".join(rendered[("periodic", "vi")]["text"].split())
    en = " ".join(rendered[("periodic", "en")]["text"].split())
    assert "Diễn tập 2026" in vi and "Drill 2026" in en and "Diễn tập 2026" not in en
    assert "ex-2026" not in vi and "ex-2026" not in en                  # the run's id is not its name


def test_failed_backups_name_the_system_and_host(rendered):
    text = " ".join(rendered[("periodic", "en")]["text"].split())
    assert "System A" in text or "Hệ thống A" in text
    assert "Backup job failed" in text


def test_labels_of_the_incident_reports_have_both_languages():
    data = yaml.safe_load((ROOT / "reports" / "templates" / "incident_labels.yaml").read_text(encoding="utf-8"))
    assert set(data["vi"]) == set(data["en"])


def test_the_initial_reports_signs_are_the_checks_in_the_reader_language(rendered):
    """The signs of an incident are its findings named by the catalogue in the reader's language,
    with host, port and time; not citysec's own English message."""
    vi = " ".join(rendered[("initial", "vi")]["text"].split())
    en = " ".join(rendered[("initial", "en")]["text"].split())
    assert "Telnet (đăng nhập từ xa không mã hoá) — tc-pc1 198.18.90.13:23 (telnet) — 07/12/2026 10:40" in vi
    assert "Telnet (unencrypted remote login) — tc-pc1 198.18.90.13:23 (telnet)" in en
    assert "telnet open" not in vi and "telnet open" not in en
