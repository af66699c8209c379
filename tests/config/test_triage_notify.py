"""The triage job and commands against real receivers: a local SMTP server, an HTTP webhook
receiver, UDP and TCP syslog listeners, a real SQLite store with an injectable clock."""

from __future__ import annotations

import email
import json
import os
import sqlite3
import subprocess
import time
from datetime import timedelta
from email import policy

import pytest

from citysec.cli.context import App
from citysec.jobs import run_job
from findings import Finding, Store
from tests.config.triage_support import CITY, Clock, Hooks, Syslog, free_port, serve_http, serve_smtp
from tests.playbooks.pb_helpers import SmtpSink

CITSEC = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(__file__))), ".venv", "bin", "citysec")


@pytest.fixture
def receivers():
    SmtpSink.got, Hooks.got = [], []
    hook, sys_ = serve_http(), Syslog()
    yield {"hook": hook, "syslog": sys_, "smtp_port": free_port()}
    hook.shutdown()


@pytest.fixture
def city(tmp_path, receivers):
    udp, tcp = receivers["syslog"].ports
    path = tmp_path / "city.yaml"
    path.write_text(CITY.format(db=tmp_path / "citysec.db", smtp_port=receivers["smtp_port"],
                                hook_port=receivers["hook"].server_address[1], udp_port=udp, tcp_port=tcp),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(city, clock, tmp_path):
    a = App(config_path=city)
    a._store = Store(tmp_path / "citysec.db", clock=clock)
    return a


def telnet(clock, agency="ward", host="198.19.209.11", severity="high", run="scan-1", **kw):
    return Finding(check="exposure.telnet", agency=agency, verdict="fail", severity=severity,
                   message="Telnet <b>open</b>", host_ip=host, port=23, transport="tcp", service_name="telnet",
                   service_version="Linux telnetd", timestamp=clock.now, run_id=run, **kw)


def wait_for(pred, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not pred() and time.monotonic() < deadline:
        time.sleep(0.05)
    return pred()


def cli(city, *args):
    return subprocess.run([CITSEC, "--config", city, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "CI": "1"}, stdin=subprocess.DEVNULL, check=False)


def test_one_digest_per_agency_and_channel_sent_once_also_through_an_smtp_outage(app, clock, receivers):
    app.store.record([telnet(clock), telnet(clock, host="198.19.209.12"),
                      telnet(clock, agency="soc", host="198.19.208.20", severity="medium")])
    _, counts = run_job(app, "triage")                   # the mail server is down
    assert (counts["failed"], counts["delivered"]) == (2, 3)   # ward: 2 emails wait; webhook, 2 syslog go
    assert any("SMTP 127.0.0.1" in e for e in counts["errors"])
    assert SmtpSink.got == []
    server = serve_smtp(receivers["smtp_port"])           # … and back
    try:
        clock.now += timedelta(minutes=5)
        _, counts = run_job(app, "triage")
        assert counts["delivered"] == 2 and counts["failed"] == 0   # ward's vi and en emails
        clock.now += timedelta(minutes=5)
        _, counts = run_job(app, "triage")
        assert counts["delivered"] == 0 and counts["digests"] == 0
    finally:
        server.shutdown()
    mails = [email.message_from_string(m, policy=policy.default) for m in SmtpSink.got]
    assert len(mails) == 2                                # the medium soc finding is below "high"
    by_to = {m["To"]: m for m in mails}
    vi = by_to["binh@ward.example, soc-team@city.example"]
    en = by_to["chris@ward.example"]
    assert "UBND phường thử nghiệm: 2 thay đổi" in vi["Subject"] and "Test ward: 2 changes" in en["Subject"]
    html = en.get_body(("html",)).get_content()
    assert "Telnet &lt;b&gt;open&lt;/b&gt;" in html and "<b>open" not in html
    assert "198.19.209.12" in vi.get_body(("plain",)).get_content()
    assert len(Hooks.got) == 1
    path, headers, body = Hooks.got[0]
    payload = json.loads(body)
    assert path == "/digest" and payload["agency"] == "ward" and len(payload["items"]) == 2
    assert headers["Idempotency-Key"] == payload["digest"]
    syslog = receivers["syslog"]
    assert wait_for(lambda: len(syslog.messages) == 2)
    for proto, msg in syslog.messages:
        assert msg.startswith(b"<131>1 ") and b' citysec - DIGEST [citysec@32473 agency="ward"' in msg
        assert "Phát hiện mới".encode() in msg.split(b"\xef\xbb\xbf", 1)[1]
    assert {p for p, _ in syslog.messages} == {"udp", "tcp"}


def test_a_change_is_notified_once_even_when_digested_again(app, clock):
    app.store.record([telnet(clock)])
    run_job(app, "triage")
    app.store.record([telnet(clock, run="scan-2")])      # seen again: nothing new
    _, counts = run_job(app, "triage")
    assert counts["changes"] == 0 and counts["digests"] == 0
    assert len(Hooks.got) == 1


def test_expiry_and_overdue_are_notified(app, clock):
    from findings import triage
    f = telnet(clock)
    app.store.record([f])
    triage.decide(app.store, f.fingerprint, "accepted", reason="ordered a replacement", by="Bình",
                  until=clock.now + timedelta(days=3))
    run_job(app, "triage")
    Hooks.got.clear()
    clock.now += timedelta(days=4)
    _, counts = run_job(app, "triage")
    assert counts["expired"] == 1
    kinds = [i["kind"] for i in json.loads(Hooks.got[0][2])["items"]]
    assert kinds == ["expired"]
    clock.now += timedelta(days=30)                       # high: 30 days in the profile
    Hooks.got.clear()
    _, counts = run_job(app, "triage")
    assert counts["overdue"] == 1
    assert [i["kind"] for i in json.loads(Hooks.got[0][2])["items"]] == ["overdue"]


def test_commands_refuse_bad_input_with_exit_2_and_report_json(app, clock, city):
    f = telnet(clock)
    app.store.record([f])
    app.store.close()
    fp = f.fingerprint
    bad = [
        (["findings", "accept", "0123456789ab", "--reason", "x", "--by", "a", "--until", "2099-01-01"],
         "unknown finding id '0123456789ab'"),
        (["findings", "accept", fp, "--reason", "x", "--by", "a", "--until", "2020-01-01"], "is in the past"),
        (["findings", "accept", fp, "--by", "a", "--until", "2099-01-01"], "Missing option '--reason'"),
        (["findings", "false-positive", fp, "--reason", " ", "--by", "a"], "--reason is missing"),
        (["findings", "accept", fp, "--reason", "x", "--by", "a", "--until", "June"], "--until 'June'"),
    ]
    for args, words in bad:
        out = cli(city, *args)
        assert out.returncode == 2 and words in out.stderr, (args, out.stderr)
    out = cli(city, "findings", "accept", fp[:10], "--reason", "budget 2027", "--by", "Bình", "--until",
              "2099-06-30", "--approved-by", "Chủ tịch UBND", "--json")
    assert out.returncode == 0, out.stderr
    entry = json.loads(out.stdout)
    assert entry["data"]["until"] == "2099-06-30T16:59:59.999Z" and entry["data"]["approved_by"] == "Chủ tịch UBND"
    listed = json.loads(cli(city, "findings", "list", "--triage", "accepted", "--json").stdout)
    assert [r["fingerprint"] for r in listed] == [fp] and listed[0]["triage"] == "accepted"
    assert json.loads(cli(city, "findings", "list", "--triage", "none", "--json").stdout) == []
    status = json.loads(cli(city, "status", "--json").stdout)
    assert status["triage"]["by_agency"] == {"ward": {"accepted": 1}}
    out = cli(city, "findings", "unaccept", fp, "--by", "Bình", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["action"] == "withdrawn"
    assert cli(city, "findings", "triage-log", "--verify").returncode == 0
    log = json.loads(cli(city, "findings", "triage-log", "--json").stdout)
    assert [(e["action"], e["actor"]) for e in log] == [("accepted", "Bình"), ("withdrawn", "Bình")]
    conn = sqlite3.connect(app.store.path)
    conn.execute("DROP TRIGGER triage_log_no_update")
    conn.execute("UPDATE triage_log SET actor='Mallory' WHERE seq=1")
    conn.commit()
    conn.close()
    out = cli(city, "findings", "triage-log", "--verify")
    assert out.returncode == 3 and "entry 1 (accepted by Mallory" in out.stderr and "content changed" in out.stderr


def test_notify_commands_run_the_job_and_list_digests(app, clock, city):
    app.store.record([telnet(clock)])
    app.store.close()
    out = cli(city, "notify", "run", "--json")
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert (counts["changes"], counts["digests"], counts["failed"]) == (1, 5, 2)   # SMTP is down
    listed = json.loads(cli(city, "notify", "list", "--json").stdout)
    waiting = sorted(r["target"] for r in listed if r["delivered"] is None)
    assert waiting == ["en", "vi"] and all("SMTP 127.0.0.1" in r["last_error"] for r in listed
                                             if r["delivered"] is None)
    status = json.loads(cli(city, "status", "--json").stdout)["triage"]
    assert status["digests_undelivered"] == 2 and status["digests_delivered"] == 3


def test_overdue_listed_and_counted_per_agency(app, clock, city):
    old = telnet(clock.__class__(clock.now - timedelta(days=40)))
    app.store.record([old, telnet(clock, host="198.19.209.12")])
    app.store.close()
    listed = json.loads(cli(city, "findings", "list", "--overdue", "--json").stdout)
    assert [(r["host"], r["overdue_since"][:10]) for r in listed] == [("198.19.209.11", "2026-11-20")]
    status = json.loads(cli(city, "status", "--json").stdout)
    assert status["triage"]["by_agency"]["ward"]["overdue"] == 1


def test_a_second_accept_refuses_to_replace_the_decision_in_force_without_replace(app, clock, city):
    f = telnet(clock)
    app.store.record([f])
    app.store.close()
    fp = f.fingerprint
    first = cli(city, "findings", "accept", fp, "--reason", "budget 2027", "--by", "Bình", "--until", "2099-06-30",
                "--approved-by", "Chủ tịch UBND")
    assert first.returncode == 0, first.stderr
    for kind in (("accept", "--until", "2099-12-31"), ("false-positive",)):
        again = cli(city, "findings", *kind, fp, "--reason", "no approval needed", "--by", "Mallory")
        assert again.returncode == 2
        assert "already an accepted risk (by Bình" in again.stderr and "approved by Chủ tịch UBND" in again.stderr
        assert "--replace" in again.stderr
    listed = json.loads(cli(city, "findings", "list", "--triage", "accepted", "--json").stdout)
    assert [(r["fingerprint"], r["triage"]) for r in listed] == [(fp, "accepted")]
    log = json.loads(cli(city, "findings", "triage-log", "--json").stdout)
    assert [(e["action"], e["actor"]) for e in log] == [("accepted", "Bình")]       # nothing else written
    out = cli(city, "findings", "accept", fp, "--reason", "extended", "--by", "Bình", "--until", "2099-12-31",
              "--approved-by", "Chủ tịch UBND", "--replace", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["data"]["until"].startswith("2099-12-31")


def test_notify_run_without_a_channel_keeps_the_queue_and_says_why(app, clock, tmp_path):
    bare = tmp_path / "bare.yaml"
    text = open(app.config_path, encoding="utf-8").read()
    bare.write_text(text[:text.index("notify:")], encoding="utf-8")      # no smtp, webhooks or syslog
    app.store.record([telnet(clock)])
    app.store.close()
    out = cli(str(bare), "notify", "run", "--json")
    assert out.returncode == 0, out.stderr
    counts = json.loads(out.stdout)
    assert counts["kept"] == 1 and counts["digests"] == 0 and "no channel reaches ward" in counts["kept_why"]
    text_out = cli(str(bare), "notify", "run")
    assert "kept: no channel reaches ward" in text_out.stdout
    left = sqlite3.connect(app.store.path).execute("SELECT COUNT(*) FROM notify_queue WHERE cycle IS NULL")
    assert left.fetchone()[0] == 1          # still waiting for a channel
