"""The collectors against the range (co): what a user checks after `citysec collect ...`."""

from __future__ import annotations

import json

import pytest

from findings.model import Finding

pytestmark = pytest.mark.range

MAX_AGE = 72


def _healthy(spec_host) -> bool:
    av = spec_host.antivirus
    return bool(av and av.installed and av.daemon and av.signature_age_hours <= MAX_AGE)


def _docs(store, check, kind="state"):
    rows = store.current(kind=kind, check=check) if kind in ("state", "asset") else store.events(kind=kind, check=check)
    return [json.loads(r["doc"]) for r in rows]


def test_hosts_list_shows_enrolled_keys(co):
    rows = {r["name"]: r for r in co.json("hosts", "list")}
    assert rows["a1-pc1"]["enrolled"].startswith("SHA256:")
    assert rows["a2-gone"]["enrolled"] is None


def test_antivirus_coverage_per_agency_equals_the_range(co):
    store = co.store()
    # a2's hosts as the scanners found them (assets): also the unregistered ones
    a2_hosts = [h for h in co.rng.spec.hosts if h.agency == "a2"]
    store.record([Finding(check="discovery.host", agency="a2", kind="asset", host_ip=h.ip, host_name=h.name,
                          dataset="citysec.discovery") for h in a2_hosts])
    out = co.json("collect", "antivirus")
    assert out["counts"]["hosts"] == 12 and out["counts"]["errors"] == 2      # a2-gone, a2-rogue
    metrics = {d["organization"]["id"]: d["citysec"]["antivirus"] for d in _docs(store, "av.coverage", "metric")}
    a1 = [h for h in co.rng.spec.hosts if h.agency == "a1"]
    assert metrics["a1"]["discovered"] == len(a1) and metrics["a1"]["source"] == "register"
    assert metrics["a1"]["covered"] == sum(_healthy(h) for h in a1) == 5
    # a2-rogue has antivirus but our key is refused there: unknown, not covered; a2-rogue2 is not registered
    assert metrics["a2"]["discovered"] == 4 and metrics["a2"]["source"] == "scan"
    assert metrics["a2"]["covered"] == sum(_healthy(h) for h in a2_hosts if h.registered) == 2
    reasons = {d["host"]["name"]: d["event"].get("reason") for d in _docs(store, "av.coverage")
               if d["citysec"]["verdict"] == "fail"}
    assert reasons["a1-pc2"].startswith("outdated") and reasons["a1-pc3"] == "not running"
    assert reasons["a1-pc4"] == "not installed"
    assert reasons["a2-rogue"].startswith("unknown: unreachable") and "authentication" in reasons["a2-rogue"]
    assert reasons["a2-rogue2"].startswith("unknown: not collected")


def test_unreachable_host_is_an_error_finding_and_others_still_collected(co):
    co.citysec("collect", "antivirus", "--agency", "a2")
    errs = {d["host"]["name"]: d for d in _docs(co.store(), "collect.error") if d["citysec"]["verdict"] == "error"}
    assert "a2-gone" in errs and ("no answer" in errs["a2-gone"]["event"]["reason"]
                                  or "cannot connect" in errs["a2-gone"]["event"]["reason"])
    assert "authentication" in errs["a2-rogue"]["event"]["reason"]
    missing = {d["host"]["name"]: d["citysec"]["verdict"] for d in _docs(co.store(), "av.missing")}
    assert missing["a2-pc1"] == "pass" and missing["a1-pc4"] == "fail"


@pytest.mark.parametrize("host,check,verdict", [
    ("a1-srv1", "backup.stale", "pass"), ("a1-srv1", "backup.failed", "pass"),
    ("a1-srv2", "backup.stale", "fail"),
    ("a1-srv3", "backup.stale", "pass"), ("a1-srv3", "backup.failed", "fail"),
    ("a1-srv4", "backup.stale", "error")])
def test_each_backup_state_gives_the_right_verdict(co, backup_run, host, check, verdict):
    got = {(d["host"]["name"], d["citysec"]["check"]): d["citysec"]["verdict"]
           for d in _docs(co.store(), "backup") if "host" in d}
    assert got[(host, check)] == verdict


@pytest.fixture(scope="module")
def backup_run(co):
    co.citysec("backup", "record-restore-test", "sys-ok", "--by", "tester", "--result", "ok")
    return co.json("collect", "backup")


def test_restore_test_recorded_passes_and_missing_fails(co, backup_run):
    got = {d["citysec"]["subject"]: d["citysec"]["verdict"] for d in _docs(co.store(), "backup.restore_test")}
    assert got == {"sys-ok": "pass", "sys-stale": "fail", "sys-fail": "fail", "sys-none": "fail"}


def test_brute_force_at_a_range_host_is_detected(co):
    co.citysec("collect", "logs", "--agency", "a1")       # catch up with the history first
    target = "198.19.33.11"
    assert co.rng.brute_force("atk", target, "admin", 8) == 8
    out = co.json("collect", "logs", "--agency", "a1")
    assert out["counts"]["alerts"] >= 1
    alerts = [json.loads(r["doc"]) for r in co.store().events(kind="alert", check="log.ssh_bruteforce")]
    mine = [a for a in alerts if a["host"]["ip"] == [target] and a["source"]["ip"] == "198.19.32.66"]
    assert mine and mine[0]["organization"]["id"] == "a1" and mine[0]["citysec"]["logs"]["attempts"] >= 5


def test_log_rotated_mid_collection_loses_and_repeats_no_line(co, monkeypatch):
    from collectors import cursor
    host, log = "a1-pc2", "/var/log/syslog"
    co.citysec("collect", "logs", "--agency", "a1")
    sent = [f"Nov 30 10:00:{i:02d} a1-pc2 daemon.info rotate-test[{i}]: line {i}" for i in range(30)]
    co.rng.append_log(host, log, sent[:10])
    co.citysec("collect", "logs", "--agency", "a1")
    co.rng.append_log(host, log, sent[10:15])            # written after the read, then rotated
    co.rng.exec(host, ["sh", "-c", f"mv {log} {log}.1 && : > {log}"], check=True)
    co.rng.append_log(host, log, sent[15:20])
    co.citysec("collect", "logs", "--agency", "a1")
    # and once more, rotating between the stat and the read of one collection
    co.rng.append_log(host, log, sent[20:25])
    from citysec.cli.context import App
    from citysec.jobs import run_job
    real_plan = cursor.plan

    def plan_then_rotate(old, current, siblings, cap):
        p = real_plan(old, current, siblings, cap)
        if current is not None and current.path == log and old is not None and p.reads:
            co.rng.append_log(host, log, sent[25:28])
            co.rng.exec(host, ["sh", "-c", f"mv {log} {log}.1 && : > {log}"], check=True)
            co.rng.append_log(host, log, sent[28:30])
        return p

    monkeypatch.setattr(cursor, "plan", plan_then_rotate)
    run_job(App(config_path=co.config), "logs", agency="a1")
    monkeypatch.setattr(cursor, "plan", real_plan)
    co.citysec("collect", "logs", "--agency", "a1")
    rows = co.store().query("SELECT doc FROM events WHERE check_id='log.event' AND host='198.19.33.12'")
    got = [json.loads(r["doc"])["message"] for r in rows]
    got = [m for m in got if m.startswith("line ")]
    assert sorted(got, key=lambda m: int(m.split()[1])) == [f"line {i}" for i in range(30)]
    assert len(got) == 30


def test_changed_host_key_is_refused_and_reported(co):
    host = "a2-pc2"
    ip = co.rng.host(host).ip
    keyfile = f"/proc/{co.rng.pid(host)}/root/var/lib/citysec-range/ssh/ssh_host_ed25519_key"
    import os
    import subprocess
    os.remove(keyfile)
    os.remove(keyfile + ".pub")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyfile], check=True)
    co.rng.service(host, "ssh", "stop")
    co.rng.service(host, "ssh", "start")
    co.citysec("collect", "antivirus", "--agency", "a2")
    alerts = [json.loads(r["doc"]) for r in co.store().events(kind="alert", check="ssh.host_key_changed")]
    assert [a["host"]["ip"] for a in alerts] == [[ip]]
    assert "possible interception" in alerts[0]["message"]
    err = {d["host"]["name"]: d for d in _docs(co.store(), "collect.error")
           if d["citysec"]["subject"] == "antivirus"}[host]
    assert err["citysec"]["verdict"] == "error" and "refused" in err["event"]["reason"]
    rows = co.json("hosts", "enroll", "--agency", "a2", "--accept-from", "/dev/null")
    assert {r["name"]: r["status"] for r in rows}[host] == "changed"
    alerts = [json.loads(r["doc"]) for r in co.store().events(kind="alert", check="ssh.host_key_changed")]
    assert len(alerts) == 2 and all(a["host"]["ip"] == [ip] for a in alerts)      # enrolment saw it too


def test_av_detection_new_account_and_sudo_become_alerts(co):
    host = "a1-pc1"
    eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
    co.rng.drop_file(host, "/var/tmp/invoice.com", eicar)
    scan = co.rng.exec(host, ["socat", "-", "UNIX-CONNECT:/run/clamav/clamd.ctl"],      # clamd's own protocol
                       input="SCAN /var/tmp/invoice.com\n")
    assert "FOUND" in scan.stdout, scan                              # the host's clamd found it and logged it
    co.citysec("collect", "logs", "--agency", "a1")
    partial = [d for d in _docs(co.store(), "collect.error")
               if d["citysec"]["subject"] == "logs" and d["host"]["name"] == host]
    assert all(d["citysec"]["verdict"] == "pass" for d in partial), partial   # clamav.log root:adm 0640
    co.rng.exec(host, ["logger", "-p", "authpriv.info", "-t", "useradd",
                       "new user: name=backdoor, UID=1002, GID=1002, home=/home/backdoor, shell=/bin/sh"], check=True)
    co.rng.exec(host, ["logger", "-p", "authpriv.notice", "-t", "sudo",
                       "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/passwd backdoor"],
                check=True)
    co.citysec("collect", "logs", "--agency", "a1")
    alerts = {}
    for row in co.store().events(kind="alert"):
        doc = json.loads(row["doc"])
        if doc["host"]["ip"] == ["198.19.33.11"]:
            alerts.setdefault(doc["rule"]["id"], []).append(doc)
    assert "/var/tmp/invoice.com" in alerts["log.av_detection"][0]["message"]
    assert alerts["log.new_account"][0]["user"]["name"] == "backdoor"
    assert alerts["log.sudo"][0]["user"]["name"] == "alice"
    co.citysec("collect", "antivirus", "--agency", "a1")
    doc = {d["host"]["name"]: d for d in _docs(co.store(), "av.missing")}[host]
    assert "invoice.com" in doc["citysec"]["antivirus"]["last_detection"]


def test_brute_force_split_across_two_collections_is_detected(co):
    target = "198.19.33.13"
    co.citysec("collect", "logs", "--agency", "a1")
    assert co.rng.brute_force("atk", target, "oracle", 3) == 3
    co.citysec("collect", "logs", "--agency", "a1")

    def mine():
        return [json.loads(r["doc"]) for r in co.store().events(kind="alert", check="log.ssh_bruteforce")
                if json.loads(r["doc"])["host"]["ip"] == [target]]

    assert mine() == []                                  # 3 < 5 so far
    assert co.rng.brute_force("atk", target, "oracle", 3) == 3
    co.citysec("collect", "logs", "--agency", "a1")
    alerts = mine()
    assert len(alerts) == 1 and alerts[0]["citysec"]["logs"]["attempts"] == 5
    assert alerts[0]["user"]["name"] == "oracle"
