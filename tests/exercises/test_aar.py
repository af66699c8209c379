"""The after-action report and improvement plan: its content (from the run's tables and events),
its HTML as headless Chromium shows it, its Markdown and PDF, hostile text kept as text, and the
`citysec exercise` evaluation commands with their exit codes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from test_evaluation import HOSTILE, T0, Clock, make_run

from exercises import evaluation as ev
from exercises.aar_data import aar_data
from findings import Store
from reports import aar, render

ROOT = Path(__file__).resolve().parents[2]
HOSTILE_HOST = "<img src=x onerror=\"document.title='host'\">pc"
NAMES = {"so-tttt": "Sở Thông tin và Truyền thông", "so-tc": "Sở Tài chính"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    clock = Clock(T0 + timedelta(hours=1))
    store = Store(tmp_path_factory.mktemp("aar") / "citysec.db", clock=clock)
    make_run(store, "eval-2026-a", host_name=HOSTILE_HOST)
    ev.rate(store, "eval-2026-a", "detect", "S", evaluator="Trần Thị Lan", note=HOSTILE,
            strengths=["Phát hiện EICAR sau 7 phút kịch bản"], improvements=["Báo cáo ban đầu gửi muộn"])
    ev.rate(store, "eval-2026-a", "respond", "U", evaluator="Trần Thị Lan", note="Không mở hồ sơ sự cố")
    ev.survey(store, "eval-2026-a", "so-tc", ["4", "Phối hợp tốt", HOSTILE])
    ev.add_action(store, "eval-2026-a", title="Huấn luyện mở hồ sơ sự cố", agency="so-tttt",
                  contact="Lê Minh Cường, 0912345678", start="2026-12-01", due="2027-03-31", objective="respond")
    return aar_data(store, "eval-2026-a")


def test_the_data_holds_what_the_report_needs(data):
    o = data["overview"]
    assert (o["scenario"], o["mode"], o["speed"], o["state"]) == ("eval-drill", "accelerated", 10.0, "completed")
    assert o["scope"]["agencies"] == ["so-tc", "so-tttt"] and HOSTILE_HOST in o["scope"]["hosts"]
    assert [x["id"] for x in o["objectives"]] == ["detect", "respond"]
    assert [t["vi"] for t in o["objectives"][0]["critical_tasks"]] == ["Phát hiện mã độc trong 15 phút", "Báo cáo ban đầu"]
    assert o["objectives"][0]["critical_tasks"][1]["en"] == "Initial report"     # both languages, from the scenario
    what = [e["what"] for e in data["timeline"]]
    assert what[0] == "run_started" and what[-1] == "run_completed"
    assert {"inject_sent", "expectation_met", "expectation_missed", "lapse", "run_paused", "run_resumed",
            "cleanup_done"} <= set(what)
    paused = {e["what"]: e["scenario_seconds"] for e in data["timeline"] if e["what"] in ("run_paused", "run_resumed")}
    assert paused == {"run_paused": 2000.0, "run_resumed": 2000.0}          # scenario time stood still
    assert data["timeline"][-1]["scenario_seconds"] == (400 - 60) * 10.0
    exp = {e["expectation"]: e for e in data["expectations"]}
    assert (exp["av-alert"]["state"], exp["av-alert"]["seconds"], exp["av-alert"]["scenario_seconds"]) == ("met", 45.0, 450.0)
    assert exp["case"]["state"] == "missed" and exp["case"]["seconds"] is None
    assert exp["press"]["state"] == "rated"
    rated = {(r["objective"], r["agency"]): r["rating"] for r in data["ratings"]}
    assert rated == {("detect", "so-tttt"): "S", ("detect", "so-tc"): "S", ("respond", "so-tttt"): "U"}
    assert [i["text"] for i in data["improvements"]][:2] == ["Báo cáo ban đầu gửi muộn", "Báo cáo ban đầu gửi muộn"]
    assert data["improvements"][2]["text"] == {"vi": "#2 case: Mở hồ sơ xử lý thay đổi giao diện",
                                               "en": "#2 case: Open the defacement incident record"}
    assert [a["title"] for a in data["actions"]] == ["Huấn luyện mở hồ sơ sự cố"]
    assert set(data["definitions"]) == {"P", "S", "M", "U"}


def _chromium_dom(tmp_path: Path, html: str) -> str:
    page = tmp_path / "aar.html"
    page.write_text(html, encoding="utf-8")
    argv = render.chromium_argv(str(tmp_path / "profile"), "--dump-dom", "--virtual-time-budget=2000", page.as_uri())
    out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-500:]
    return out.stdout


def _text(dom: str, table_id: str) -> list[list[str]]:
    """The rows of a table of the DOM as the reader sees them (cell text, entities decoded)."""
    body = re.search(rf'<table class="data" id="t-{table_id}">(.*?)</table>', dom, re.DOTALL).group(1)
    return [[unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)]


def test_vietnamese_html_in_chromium(data, tmp_path):
    dom = _chromium_dom(tmp_path, render.html(aar.build(data, names=NAMES)))
    title = re.search(r"<title>(.*?)</title>", dom, re.DOTALL).group(1)
    assert title.startswith("Báo cáo sau diễn tập và kế hoạch khắc phục")    # no script renamed the page
    low = dom.lower()
    assert "<script" not in low and "<img" not in low                     # no element made from the text
    assert not re.search(r"<[a-z]+[^>]*\sonerror=", low)                 # no attribute either
    ratings = _text(dom, "aar_ratings")
    assert ratings[0][:5] == ["Mục tiêu", "Cơ quan", "Đánh giá", "Người đánh giá", "Nhận xét của người đánh giá"]
    assert ["detect — Phát hiện sự cố kịp thời", "Sở Tài chính", "S (một số khó khăn)", "Trần Thị Lan",
            HOSTILE] == ratings[2][:5]                                      # the note, shown as its text
    assert ratings[3][2] == "U (không thực hiện được)" and ratings[3][4] == "Không mở hồ sơ sự cố"
    timeline = _text(dom, "aar_timeline")
    assert ["20/11/2026 09:00:01", "T+0:00:10", "Gửi tình huống", "Sở Tài chính", HOSTILE_HOST] == timeline[2][:5]
    assert any(r[2] == "Sai sót nghiêm trọng" for r in timeline) and timeline[-1][2] == "Kết thúc diễn tập"
    exp = {r[1]: r for r in _text(dom, "aar_expectations")[1:]}
    assert exp["av-alert"][4] == "Đạt" and exp["av-alert"][6] == "20/11/2026 09:00:46"
    assert exp["av-alert"][7] == "45,0 / 450,0"                            # real / scenario seconds
    assert exp["case"][4] == "Không đạt" and exp["case"][5] == "20/11/2026 09:03:00" and exp["case"][7] == "—"
    plan = _text(dom, "aar_actions")
    assert plan[1][:8] == ["CA-eval-2026-a-01", "Huấn luyện mở hồ sơ sự cố", "respond",
                           "Sở Thông tin và Truyền thông", "Lê Minh Cường, 0912345678", "01/12/2026",
                           "31/03/2027", "Đang mở"]
    defs = {r[0]: r[1] for r in _text(dom, "aar_definitions")[1:]}
    assert defs["U"].startswith("Không thực hiện được") and set(defs) == {"P", "S", "M", "U"}
    survey = _text(dom, "aar_survey")
    assert survey[3] == ["Sở Tài chính", "3. Điều gì cần cải thiện?", HOSTILE]
    improvements = [r[2] for r in _text(dom, "aar_improvements")[1:]]
    assert "#2 case: Mở hồ sơ xử lý thay đổi giao diện" in improvements


def test_english_html_in_chromium(data, tmp_path):
    dom = _chromium_dom(tmp_path, render.html(aar.build(data, "en", names={"so-tc": "Department of Finance"})))
    assert re.search(r"<title>(.*?)</title>", dom).group(1).startswith("After-action report and improvement plan")
    assert [h for h in re.findall(r"<h2>(.*?)</h2>", dom)] == [
        "1. Overview", "2. Timeline", "3. Expectations per inject", "4. Ratings per objective (HSEEP)",
        "5. Strengths and areas for improvement", "6. Critical lapses (flagged at once)", "7. Participant feedback",
        "8. Improvement plan", "9. HSEEP rating definitions"]
    ratings = _text(dom, "aar_ratings")
    assert ratings[2][1:3] == ["Department of Finance", "S (some challenges)"]
    exp = {r[1]: r for r in _text(dom, "aar_expectations")[1:]}
    assert exp["av-alert"][4] == "Met" and exp["av-alert"][7] == "45.0 / 450.0" and exp["case"][4] == "Missed"
    plan = _text(dom, "aar_actions")
    assert plan[0][3:7] == ["Responsible organisation", "Contact", "Start", "Due"]
    assert plan[1][5:8] == ["1 Dec 2026", "31 Mar 2027", "Open"]
    defs = {r[0]: r[1] for r in _text(dom, "aar_definitions")[1:]}
    assert defs["P"].startswith("Performed without challenges")


def test_markdown_holds_the_same_and_escapes(data):
    md = render.markdown(aar.build(data, "en"))
    assert not re.search(r"(?<!\\)<(script|img)", md) and "&lt;" not in md       # escaped, no HTML entity
    assert "\\<script\\>document.title='pwned'\\</script\\>" in md               # the note, as text
    assert "| 20 Nov 2026 09:00:46 | T+0:07:40 | Expectation met | so-tc |" in md
    assert re.search(r"\| av-alert \|.*\| Met \|.*\| 45\.0 / 450\.0 \|", md)
    assert re.search(r"\| case \|.*\| Missed \|", md)
    assert "| CA-eval-2026-a-01 | Huấn luyện mở hồ sơ sự cố | respond | so-tttt | Lê Minh Cường, 0912345678 |" \
           " 1 Dec 2026 | 31 Mar 2027 | Open |" in md
    assert "| U | Unable to be performed:" in md and "| respond — Respond and recover | so-tttt | U (unable) |" in md


def test_pdf(data, tmp_path):
    out = tmp_path / "aar.pdf"
    render.write(aar.build(data), "pdf", out)
    pdf = out.read_bytes()
    assert pdf[:5] == b"%PDF-" and int(re.search(rb"/Type\s*/Pages\b.*?/Count\s+(\d+)", pdf, re.DOTALL).group(1)) >= 2


# -- the commands --------------------------------------------------------------------------------

def citysec(cfg: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "CITYSEC_USER": "tester"}
    exe = Path(sys.executable).with_name("citysec")
    return subprocess.run([str(exe), "--config", cfg, *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=180, input=stdin, check=False)


@pytest.fixture(scope="module")
def cli_city(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    text = (ROOT / "config/examples/haiphong.yaml").read_text(encoding="utf-8")
    text = text.replace("path: var/citysec.db", f"path: {tmp}/db").replace("out_dir: var/reports", f"out_dir: {tmp}/reports")
    cfg = tmp / "city.yaml"
    cfg.write_text(text, encoding="utf-8")
    make_run(Store(tmp / "db"), "eval-2026-a")
    return str(cfg), tmp


def test_cli_usage_errors_exit_2(cli_city):
    cfg, _ = cli_city
    r = citysec(cfg, "exercise", "rate", "eval-2026-a", "detect", "X", "--note", "n")
    assert r.returncode == 2 and "'X' is not one of" in r.stderr
    r = citysec(cfg, "exercise", "rate", "nope", "detect", "P", "--note", "n")
    assert r.returncode == 2 and "no drill run with id 'nope'" in r.stderr
    r = citysec(cfg, "exercise", "rate", "eval-2026-a", "recover", "P", "--note", "n")
    assert r.returncode == 2 and "has no objective 'recover'" in r.stderr
    r = citysec(cfg, "exercise", "close", "CA-none-01", "--evidence", "e")
    assert r.returncode == 2 and "no corrective action 'CA-none-01'" in r.stderr
    r = citysec(cfg, "exercise", "survey", "eval-2026-a", "--participant", "so-tc", stdin="")
    assert r.returncode == 2 and "give --answer" in r.stderr
    r = citysec(cfg, "exercise", "aar", "nope")
    assert r.returncode == 2


def test_cli_rate_actions_and_aar(cli_city):
    cfg, tmp = cli_city
    r = citysec(cfg, "exercise", "rate", "eval-2026-a", "respond", "m", "--note", "chậm", "--evaluator", "Lan",
                "--improvement", "quy trình mở hồ sơ", "--json")
    assert r.returncode == 0, r.stderr
    assert [(x["agency"], x["rating"], x["evaluator"]) for x in json.loads(r.stdout)] == [("so-tttt", "M", "Lan")]
    r = citysec(cfg, "exercise", "survey", "eval-2026-a", "--participant", "vnpt", "--answer", "5", "--answer", "a",
                "--answer", "b")
    assert r.returncode == 0, r.stderr
    r = citysec(cfg, "exercise", "actions", "add", "eval-2026-a", "--title", "Huấn luyện", "--agency", "so-tttt",
                "--contact", "Cường", "--start", "2026-12-01", "--due", "2027-02-01", "--objective", "respond")
    assert r.returncode == 0 and r.stdout.strip() == "CA-eval-2026-a-01", r.stderr
    r = citysec(cfg, "exercise", "actions", "add", "eval-2026-a", "--title", "x", "--agency", "so-tttt",
                "--contact", "c", "--start", "2027-03-01", "--due", "2027-02-01")
    assert r.returncode == 2 and "not after the start" in r.stderr
    r = citysec(cfg, "exercise", "actions", "--open", "--json")
    assert [a["id"] for a in json.loads(r.stdout)] == ["CA-eval-2026-a-01"]
    assert citysec(cfg, "exercise", "close", "CA-eval-2026-a-01", "--evidence", " ").returncode == 2
    r = citysec(cfg, "exercise", "close", "CA-eval-2026-a-01", "--evidence", "đã huấn luyện 12/2026", "--by", "lan")
    assert r.returncode == 0 and "closed" in r.stdout
    r = citysec(cfg, "exercise", "actions", "--open", "--json")
    assert json.loads(r.stdout) == []
    r = citysec(cfg, "exercise", "reopen", "CA-eval-2026-a-01", "--reason", "chưa đủ")
    assert r.returncode == 0
    r = citysec(cfg, "exercise", "actions", "--agency", "so-tttt")
    assert "CA-eval-2026-a-01" in r.stdout and "open" in r.stdout
    out = tmp / "aar.md"
    r = citysec(cfg, "exercise", "aar", "eval-2026-a", "--format", "md", "--lang", "en", "--out", str(out))
    assert r.returncode == 0, r.stderr
    md = out.read_text(encoding="utf-8")
    assert "| Department of Information and Communications | M (major challenges) | Lan | chậm |" in md
    assert "| VNPT Hai Phong | 1. How realistic (1-5)? | 5 |" in md
    r = citysec(cfg, "exercise", "aar", "eval-2026-a")
    assert r.returncode == 0 and r.stdout.startswith("<!DOCTYPE html>") and "Kế hoạch khắc phục" in r.stdout


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_printed_report_is_a4_numbered_and_in_one_language(data, tmp_path, lang):
    """What a reader of the PDF sees: A4, "page n of N" on each page, modes, roles, states and
    labels in the document's language (none of the other language's words), times without ISO."""
    from reports import i18n
    pdf = tmp_path / f"aar.{lang}.pdf"
    render.pdf(aar.build(data, lang), pdf)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"Page size:\s+59\d(\.\d+)? x 84\d(\.\d+)? pts \(A4\)", info)
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    for n in range(1, pages + 1):
        assert (f"Trang {n}/{pages}" if lang == "vi" else f"Page {n} of {pages}") in text
    other = 1 if lang == "vi" else 0
    foreign = sorted(p[other] for p in i18n.WORDS.values()
                     if len(p[other]) > 12 and " " in p[other] and "{" not in p[other] and p[other] not in p[1 - other]
                     and p[other] in text)
    assert foreign == []
    assert not re.search(r"\b\d{4}-\d\d-\d\dT\d\d", text)
    words = ("Thực chiến, thời gian rút ngắn", "Đã kết thúc") if lang == "vi" else ("Live, accelerated", "Completed")
    assert all(w in text for w in words)
    assert not re.search(r"\b(accelerated|completed|controller|evaluator|player)\b", text) or lang == "en"
