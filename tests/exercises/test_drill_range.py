"""Drills on the example range (`hp`, the Hải Phòng city of config/examples/haiphong.yaml), through
the command as a coordinator runs them, with citysec's own jobs running on the configured schedule
(compressed by the speed) in the runner:

- each built-in scenario, accelerated: each technical inject changes the range as intended (seen
  from the range, not from the runner's record); citysec's scanners/collectors detect it and the
  expectation is met with its time and the job run that found it; an expectation for something
  nobody does is missed; every cleanup runs and is verified;
- abort mid-run (the kill switch): no later inject, every cleanup, the range as described;
- kill -9 of the runner, then `resume`: no inject twice, none lost, the run completes;
- an inject aimed outside the range is refused before any packet or command, and recorded;
- a critical lapse reaches the controllers at once (SMTP and webhook).
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from drill_helpers import (
    Hooks,
    citysec,
    inject_state,
    mail,
    serve_hooks,
    spawn,
    store_of,
    timeline,
    wait_for,
    write_config,
)

from exercises.db import events_of
from exercises.range import EICAR
from findings.support.netns import connect_in_netns
from tests.playbooks.pb_helpers import SmtpSink, serve_smtp

pytestmark = pytest.mark.range
HERE = os.path.dirname(__file__)
IP = {"hb-motcua": "198.18.51.10", "tttt-pc01": "198.18.20.11", "vp-qlvb": "198.18.11.10",
      "stc-ketoan": "198.18.31.10", "nq-rogue": "198.18.60.66"}


class City:
    def __init__(self, cwd, cfg, smtp, hooks):
        self.cwd, self.cfg, self.smtp, self.hooks = cwd, cfg, smtp, hooks
        self.store = store_of(cwd)

    def run(self, *args, **kw):
        return citysec(self.cwd, self.cfg, *args, **kw)

    def status(self, rid: str) -> dict:
        return json.loads(self.run("exercise", "status", rid, "--json").stdout)

    def drill(self, scenario: str, speed: int, **kw) -> tuple[str, object]:
        before = self._runs()
        proc = spawn(self.cwd, self.cfg, "exercise", "run", scenario, "--mode", "accelerated", "--speed", str(speed))
        rid = wait_for(lambda: (set(self._runs()) - set(before)) and sorted(set(self._runs()) - set(before))[0], 60)
        return rid, proc

    def _runs(self) -> list[str]:
        try:
            return [r["id"] for r in self.store.query("SELECT id FROM exercise_runs")]
        except Exception:
            return []

    def host(self, name: str):
        from exercises.range import Range, load_spec
        return Range(load_spec(os.path.join(self.cwd, "var", "range", "spec.yaml")),
                     state_dir=os.path.join(self.cwd, "var", "range"))


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("drill-hp")
    smtp, hooks = serve_smtp(), serve_hooks()
    cfg = write_config(cwd, smtp_port=smtp.server_address[1],
                       webhook=f"http://127.0.0.1:{hooks.server_address[1]}/lapse")
    try:
        up = citysec(cwd, cfg, "range", "up")
        assert up.returncode == 0, up.stderr
        from citysec.app import App
        from citysec.cli.demo_support import enrol_range_hosts
        c = City(cwd, cfg, smtp, hooks)
        os.chdir(cwd)   # the example config's var/ paths are the working folder's
        try:
            enrol_range_hosts(App(config_path=cfg), c.host("x"))
        finally:
            os.chdir(os.path.dirname(os.path.dirname(HERE)))
        yield c
    finally:
        citysec(cwd, cfg, "range", "down")
        smtp.shutdown()
        hooks.shutdown()


def _file(rng, host: str, path: str) -> str | None:
    out = rng.exec(host, ["cat", path])
    return out.stdout if out.returncode == 0 else None


def _expectations(st: dict) -> dict:
    return {(i["number"], e["id"]): e for i in st["injects"] for e in i["expectations"]}


def _detected_by(city, st: dict, number: int, exp: str, job: str) -> dict:
    row = city.store.query("SELECT evidence, met_at FROM exercise_expectations WHERE run_id=? AND number=? AND"
                           " exp_id=?", (st["id"], number, exp))[0]
    ev = json.loads(row["evidence"])
    assert ev["job"] == job, ev
    # the finding is citysec's own, recorded by that job's run — not the inject's record
    table = "history" if ev["table"] == "history" else "events"
    got = city.store.query(f"SELECT t.dataset, r.job FROM {table} t JOIN runs r ON r.id=t.run_id WHERE t.id=?",
                           (ev["id"],))
    assert got and got[0]["job"] == job and got[0]["dataset"] != "citysec.exercise"
    return ev


def test_ransomware_at_a_district_office(city):
    rng = city.host("x")
    path = "/var/lib/citysec-data/ho-so/hoa-don-thang-11.exe"
    rid, proc = city.drill("ransomware-district", 60)
    wait_for(lambda: inject_state(city.store, rid, 2) == "sent", 60)
    assert _file(rng, "hb-motcua", path) == EICAR              # the dropper is on the server
    # a responder writes the incident notice as soon as the case opens (the rest nobody does)
    case = wait_for(lambda: city.store.query("SELECT id FROM cases WHERE playbook='malware-detected' AND host=?",
                                             (IP["hb-motcua"],)), 60)[0]["id"]
    rep = city.run("case", "report", case, "--kind", "notice", "--lang", "vi", "--by", "ir-hongbang")
    assert rep.returncode == 0, rep.stderr
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    st = city.status(rid)
    assert st["state"] == "completed"
    exp = _expectations(st)
    assert exp[(2, "av-alert")]["state"] == "met" and exp[(2, "av-alert")]["after_s"] > 0
    assert exp[(2, "case")]["state"] == "met"
    assert exp[(3, "notice")]["state"] == "met"
    assert exp[(3, "isolate")]["state"] == "missed" and exp[(4, "clean")]["state"] == "missed"   # nobody did it
    _detected_by(city, st, 2, "av-alert", "logs")
    assert st["injects"][1]["time_to_detect_s"] == exp[(2, "av-alert")]["after_s"]
    assert st["injects"][1]["cleanup"] == "done" and _file(rng, "hb-motcua", path) is None
    teams = os.path.join(city.cwd, "var", "exercises", rid, "teams", "q-hong-bang.md")
    assert "README-KHOI-PHUC" in open(teams, encoding="utf-8").read()        # the file inject
    mails = [mail(m) for m in SmtpSink.got if f"<{rid}.4@citysec>" in m]
    assert len(mails) == 1 and "noc@vnpt-hp.example" in mails[0]["to"]       # the email inject, once


def test_a_database_exposed_on_a_department_lan(city):
    rng = city.host("x")
    rid, proc = city.drill("exposed-database", 30)
    wait_for(lambda: inject_state(city.store, rid, 2) == "sent", 60)
    connect_in_netns(rng.sensor_netns, IP["tttt-pc01"], 5432, 5).close()     # it listens, seen from the SOC
    # the scan finds it and the case opens; nobody stops the service; the control cell calls ENDEX
    # (without it the run waits out the stop's 2 h window: 4 minutes at ×30)
    wait_for(lambda: all(_expectations(city.status(rid))[(2, e)]["state"] == "met" for e in ("scan", "case")), 600)
    ended = city.run("exercise", "end", rid)
    assert ended.returncode == 0, ended.stderr
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    st = city.status(rid)
    assert st["state"] == "completed"
    exp = _expectations(st)
    assert exp[(2, "scan")]["state"] == "met", st
    _detected_by(city, st, 2, "scan", "services")
    assert exp[(2, "case")]["state"] == "met" and exp[(2, "stop")]["state"] == "missed"
    assert st["injects"][1]["cleanup"] == "done"
    actions = [e["citysec"]["exercise"]["action"] for e in events_of(city.store, rid)]
    assert actions[-1] == "run_completed" and "expectation_missed" in actions
    assert actions.index("run_ended") < actions.index("cleanup_done")     # ENDEX, then the cleanups
    with pytest.raises(OSError):
        connect_in_netns(rng.sensor_netns, IP["tttt-pc01"], 5432, 3).close()


def test_a_backup_found_stale_in_the_middle_of_an_incident(city):
    rng = city.host("x")
    rid, proc = city.drill("stale-backup", 60)
    wait_for(lambda: inject_state(city.store, rid, 2) == "sent", 60)
    snaps = json.loads(rng.exec("vp-qlvb", ["restic", "--no-cache", "-q", "-r", "/var/backups/restic",
                                            "--password-file", "/var/backups/restic.pass", "snapshots", "--json"],
                                timeout=120).stdout)
    from findings.model import parse_ts
    newest = max(parse_ts(s["time"]) for s in snaps)
    assert (time.time() - newest.timestamp()) / 3600 >= 79.9                # the newest is days old now
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    st = city.status(rid)
    exp = _expectations(st)
    assert exp[(1, "av-alert")]["state"] == "met" and exp[(2, "stale")]["state"] == "met"
    _detected_by(city, st, 2, "stale", "backup")
    assert exp[(2, "case")]["state"] == "met" and exp[(3, "snapshot")]["state"] == "missed"
    assert [i["cleanup"] for i in st["injects"][:2]] == ["done", "done"]
    snaps = json.loads(rng.exec("vp-qlvb", ["restic", "--no-cache", "-q", "-r", "/var/backups/restic",
                                            "--password-file", "/var/backups/restic.pass", "snapshots", "--json"],
                                timeout=120).stdout)
    assert (time.time() - max(parse_ts(s["time"]) for s in snaps).timestamp()) / 3600 < 1   # fresh again


def test_phishing_then_account_compromise_survives_kill_9(city):
    rng = city.host("x")
    auth = "/var/log/auth.log"
    trace = f"from {IP['nq-rogue']} port"
    failures = lambda: sum(1 for line in (_file(rng, "stc-ketoan", auth) or "").splitlines()
                           if "Failed password" in line and trace in line)
    before = failures()
    rid, proc = city.drill("phishing-account", 60)
    wait_for(lambda: inject_state(city.store, rid, 1) == "sent", 60)
    proc.send_signal(signal.SIGKILL)                                          # the runner dies mid-drill
    proc.wait(timeout=30)
    assert city.status(rid)["state"] == "running"
    resumed = city.run("exercise", "resume", rid, timeout=600)               # another shell takes over
    assert resumed.returncode == 0, resumed.stderr
    assert "taking over" in resumed.stderr
    st = city.status(rid)
    assert st["state"] == "completed"
    sent = [e for e in timeline(city.store, rid) if e["action"] == "inject_sent"]
    assert sorted(e["inject"] for e in sent) == [1, 2]                        # each once, none lost
    assert failures() - before == 12                                           # the brute force ran once
    assert len([m for m in SmtpSink.got if f"<{rid}.1@citysec>" in m]) == 1   # the phishing email once
    exp = _expectations(st)
    assert exp[(2, "brute")]["state"] == "met" and exp[(2, "login")]["state"] == "met"
    _detected_by(city, st, 2, "login", "logs")
    assert exp[(2, "block")]["state"] == "missed"
    assert st["injects"][1]["cleanup"] == "done"


def test_abort_is_a_kill_switch_that_cleans_up(city):
    rng = city.host("x")
    path = "/var/lib/citysec-data/ho-so/hoa-don-thang-11.exe"
    rid, proc = city.drill("ransomware-district", 60)
    wait_for(lambda: inject_state(city.store, rid, 2) == "sent", 60)
    assert _file(rng, "hb-motcua", path) == EICAR
    out = city.run("exercise", "abort", rid)
    assert out.returncode == 0, out.stderr
    proc.communicate(timeout=120)
    st = city.status(rid)
    assert st["state"] == "aborted"
    assert _file(rng, "hb-motcua", path) is None and st["injects"][1]["cleanup"] == "done"
    later = {i["number"]: i["state"] for i in st["injects"]}
    assert later[4] == "skipped" and not st["injects"][3]["sent_at"]            # nothing sent after the abort
    actions = [e["action"] for e in timeline(city.store, rid)]
    assert actions[-1] == "run_aborted" and "cleanup_done" in actions


def test_an_inject_outside_the_range_is_refused_before_it_acts(city, tmp_path):
    import yaml
    src = os.path.join(os.path.dirname(os.path.dirname(HERE)), "exercises", "scenarios", "phishing-account.yaml")
    data = yaml.safe_load(open(src, encoding="utf-8"))
    data["msel"][1]["technical"] = {"type": "rogue_host", "agency": "q-ngo-quyen", "ip": "198.51.100.7"}
    data["msel"][1]["expectations"] = []
    path = tmp_path / "outside.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    netns_before = set(os.listdir("/run/netns"))
    before = len(SmtpSink.got)
    out = city.run("exercise", "run", str(path), "--mode", "accelerated", "--speed", "60")
    assert out.returncode == 2 and "198.51.100.7" in out.stderr, out
    assert set(os.listdir("/run/netns")) == netns_before and len(SmtpSink.got) == before   # nothing acted
    assert f"{path}: line " in out.stderr and "msel[1].technical.ip" in out.stderr   # where, in the file
    refused = [json.loads(r["doc"]) for r in city.store.query(
        "SELECT doc FROM events WHERE check_id='exercise.inject_refused' ORDER BY ts")]
    assert refused and "198.51.100.7" in refused[-1]["citysec"]["exercise"]["detail"]     # and on the record
    # an inject the scenario validates but the range no longer holds (a rogue already removed) is
    # refused by the runner's own check before it acts, and the refused run is recorded
    from exercises.runner import Setup, preflight
    from exercises.validate import load_scenario
    data["msel"][1]["technical"] = {"type": "eicar", "host": "hb-gone"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    problems = preflight(load_scenario(str(path)), "accelerated", Setup(range=city.host("x")))
    assert problems and "hb-gone" in problems[0]


def test_a_critical_lapse_reaches_the_controllers_at_once(city, tmp_path):
    import yaml
    src = os.path.join(os.path.dirname(os.path.dirname(HERE)), "exercises", "scenarios", "ransomware-district.yaml")
    data = yaml.safe_load(open(src, encoding="utf-8"))
    data["id"] = "lapse-check"
    inj = data["msel"][1]
    inj["technical"].update(scan=False, host="tttt-pc01")   # the host's scan never runs: nothing can see it
    inj["expectations"] = [{"id": "av-alert", "kind": "detect", "check": "log.av_detection", "within": "2m",
                            "severity": "critical",
                            "description": {"vi": "không ai thấy được", "en": "nobody can see this one"}}]
    data["msel"] = data["msel"][:2]
    path = tmp_path / "lapse.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    hooks_before, mails_before = len(Hooks.got), len(SmtpSink.got)
    out = city.run("exercise", "run", str(path), "--mode", "accelerated", "--speed", "60", timeout=300)
    assert out.returncode == 0, out.stderr
    assert "CRITICAL LAPSE" in out.stderr
    rid = city.store.query("SELECT id FROM exercise_runs WHERE scenario_id='lapse-check'")[0]["id"]
    lapse = [h for h in Hooks.got[hooks_before:] if h["drill"] == rid]
    assert len(lapse) == 1 and lapse[0]["lapse"] == "expectation-2-av-alert" and lapse[0]["key"]
    mails = [mail(m) for m in SmtpSink.got[mails_before:]]
    assert any("CRITICAL LAPSE" in m["subject"] and "soc@haiphong.gov.vn" in m["to"] for m in mails)
    st = city.status(rid)
    assert st["lapses"] and json.loads(st["lapses"][0]["notified"])[:1] == ["console"]
