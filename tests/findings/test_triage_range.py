"""Triage on the range `tg` (198.19.208.0/20) with the real `services` job (nmap): a false
positive stays through scans and flips back at its date; an accepted risk ends when the
service's version changes; a new telnet sends one digest by email and one webhook call, and a
second scan sends nothing."""

from __future__ import annotations

import email
import json
import os
from datetime import timedelta
from email import policy

import pytest

from citysec.cli.context import App
from citysec.jobs import run_job
from exercises.range.services import mysql_greeting
from findings import Store, triage, utcnow
from tests.config.triage_support import CITY, Clock, Hooks, Syslog, free_port, serve_http, serve_smtp
from tests.playbooks.pb_helpers import SmtpSink
from tests.range_support import build_range

pytestmark = pytest.mark.range

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "triage")
PC = "198.19.209.11"
GREETING = "/var/lib/citysec-range/greet/mysql"


@pytest.fixture(scope="module")
def rng(tmp_path_factory):
    with build_range(os.path.join(FIXTURES, "range.yaml"), "tg", tmp_path_factory.mktemp("tg-range")) as r:
        yield r


@pytest.fixture(scope="module")
def world(rng, tmp_path_factory):
    d = tmp_path_factory.mktemp("tg-city")
    smtp_port, hook, sys_ = free_port(), serve_http(), Syslog()
    smtp = serve_smtp(smtp_port)
    text = CITY.format(db=d / "citysec.db", smtp_port=smtp_port, hook_port=hook.server_address[1],
                       udp_port=sys_.ports[0], tcp_port=sys_.ports[1])
    text = text.replace('      - {name: "Chris", role: "adviser", email: chris@ward.example, lang: en}\n', "")
    (d / "city.yaml").write_text(text, encoding="utf-8")
    clock = Clock(utcnow())
    app = App(config_path=str(d / "city.yaml"))
    app._store = Store(d / "citysec.db", clock=clock)
    yield app, clock
    smtp.shutdown()
    hook.shutdown()


def scan(app):
    _, counts = run_job(app, "services", targets=(PC,))
    assert counts["incomplete"] == {}, counts
    return counts


def notify(app):
    SmtpSink.got, Hooks.got = [], []
    _, counts = run_job(app, "triage")
    assert counts["failed"] == 0, counts["errors"]
    return counts


def mysql(app):
    rows = app.store.current(check="exposure.mysql")
    assert [r["host"] for r in rows] == [PC]
    return rows[0]


@pytest.fixture(scope="module")
def first(world):
    app, _ = world
    scan(app)
    notify(app)
    return mysql(app)["fingerprint"]


def test_a_false_positive_stays_through_scans_and_flips_back_at_its_date(world, first):
    app, clock = world
    triage.decide(app.store, first, "false_positive", reason="a lab replica without data", by="An",
                  until=clock.now + timedelta(days=10))
    for _ in range(2):
        scan(app)
        assert triage.active(app.store)[first]["kind"] == "false_positive"
        assert mysql(app)["status"] == "open"
        assert notify(app)["digests"] == 0
    clock.now += timedelta(days=11)
    counts = notify(app)
    assert counts["expired"] == 1 and first not in triage.active(app.store)
    assert [i["kind"] for i in json.loads(Hooks.got[0][2])["items"]] == ["expired"]
    assert len(SmtpSink.got) == 1


def test_an_accepted_risk_ends_when_the_service_changes(world, first, rng):
    app, clock = world
    triage.decide(app.store, first, "accepted", reason="replacement in the 2027 budget", by="Bình",
                  approved_by="Chủ tịch UBND", until=clock.now + timedelta(days=90))
    scan(app)
    assert first in triage.active(app.store)
    rng.drop_file("w-pc01", GREETING, mysql_greeting().replace(b"5.7.42-log", b"8.0.36-log"))
    try:
        scan(app)
        assert first not in triage.active(app.store)
        last = triage.log(app.store)[-1]
        assert last["action"] == "ended" and "8.0.36" in last["data"]["reason"], last
        assert [i["kind"] for i in json.loads(notify(app) and Hooks.got[0][2])["items"]] == ["triage_ended"]
    finally:
        rng.drop_file("w-pc01", GREETING, mysql_greeting())
    assert triage.verify(app.store) == []


def test_a_new_telnet_sends_one_digest_and_a_second_scan_nothing(world, first, rng):
    app, _ = world
    rng.service("w-pc01", "telnet", "start")
    try:
        scan(app)
        counts = notify(app)
        assert counts["delivered"] >= 2
        assert len(SmtpSink.got) == 1 and len(Hooks.got) == 1
        items = json.loads(Hooks.got[0][2])["items"]
        assert [(i["kind"], i["check"], i["port"]) for i in items] == [("new", "exposure.telnet", 23)]
        mail = email.message_from_string(SmtpSink.got[0], policy=policy.default)
        assert mail["To"] == "binh@ward.example, soc-team@city.example"
        assert "exposure.telnet" in mail.get_body(("plain",)).get_content()
        scan(app)
        counts = notify(app)
        assert counts["digests"] == 0 and SmtpSink.got == [] and Hooks.got == []
    finally:
        rng.service("w-pc01", "telnet", "stop")
