"""Scenarios: the built-in ones validate, plan and list; bad ones name file, line and YAML path
(exit 2); a tabletop run needs no range, sends message injects only, pauses and resumes."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from drill_helpers import (
    citysec,
    inject_state,
    mail,
    run_id_when_started,
    spawn,
    store_of,
    timeline,
    wait_for,
    write_config,
)

from exercises import db
from exercises.validate import Context, builtin, load_scenario
from findings.errors import ConfigError
from tests.playbooks.pb_helpers import SmtpSink, serve_smtp

BUILTIN = ("ransomware-district", "exposed-database", "stale-backup", "phishing-account")


def test_the_four_built_in_scenarios_validate_and_plan(tmp_path):
    cfg = write_config(tmp_path)
    assert {os.path.basename(p)[:-5] for p in builtin()} >= set(BUILTIN)
    for sid in BUILTIN:
        out = citysec(tmp_path, cfg, "exercise", "validate", sid, "--json")
        assert out.returncode == 0, out.stderr
        s = json.loads(out.stdout)
        assert s["technical"] >= 1 and s["expectations"] >= 3, s
    plan = json.loads(citysec(tmp_path, cfg, "exercise", "plan", "ransomware-district", "--json").stdout)
    assert [r["number"] for r in plan] == [1, 2, 3, 4]
    assert plan[1]["technical"] == "eicar" and plan[1]["expected_action"]
    assert any(e.startswith("detect:log.av_detection") for e in plan[1]["expectations"])
    listing = json.loads(citysec(tmp_path, cfg, "exercise", "list", "--json").stdout)
    assert {s["id"] for s in listing["scenarios"]} >= set(BUILTIN)


def _broken(tmp_path, edit) -> str:
    data = yaml.safe_load(open(os.path.join(os.path.dirname(builtin()[0]), "ransomware-district.yaml"),
                               encoding="utf-8"))
    edit(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return str(path)


def _line_of(path: str, needle: str) -> int:
    return next(i for i, line in enumerate(open(path, encoding="utf-8"), 1) if needle in line)


@pytest.mark.parametrize("edit, where, message", [
    (lambda d: d["msel"][1]["technical"].update(host="nowhere"), "msel[1].technical", "'nowhere' is not a host"),
    (lambda d: d["msel"][1]["technical"].update(colour="red"), "msel[1].technical.colour", "unknown key"),
    (lambda d: d["msel"][2].update(number=2), "msel[2].number", "inject number 2 used twice"),
    (lambda d: d["msel"][2].update(objective="nope"), "msel[2].objective", "unknown objective 'nope'"),
    (lambda d: d["msel"][1]["expectations"][1].update(playbook="nope"), "msel[1].expectations[1].playbook",
     "unknown playbook"),
    (lambda d: d["msel"][2]["expectations"][0].update(step="nope"), "msel[2].expectations[0].step", "has no step"),
    (lambda d: d["participants"][1].update(id="q-nowhere"), "participants[1].id", "not an agency"),
    (lambda d: d["msel"][0].update(at="5 minutes"), "msel[0].at", "invalid duration"),
    (lambda d: d.update(schedules={"logs": "sometimes"}), "schedules.logs", "not a schedule"),
    (lambda d: d["msel"][0].update(method="pigeon"), "msel[0].method", "Input should be"),
    # every text the participants and the documents show is bilingual: one string, or one language, is an error
    (lambda d: d.update(title="Diễn tập 2026"), "title", "give this text in both languages"),
    (lambda d: d["objectives"][0]["title"].pop("en"), "objectives[0].title", "the en text is missing"),
    (lambda d: d["msel"][1].update(synopsis={"vi": "Mã độc", "en": ""}), "msel[1].synopsis", "the en text is missing"),
    (lambda d: d["msel"][1]["expectations"][0].update(description="citysec thu cảnh báo"),
     "msel[1].expectations[0].description", "both languages"),
    (lambda d: d["rules_of_engagement"].append("Chỉ một ngôn ngữ"), "rules_of_engagement[4]", "both languages"),
])
def test_a_bad_scenario_names_file_line_and_path(tmp_path, edit, where, message):
    path = _broken(tmp_path, edit)
    out = citysec(tmp_path, write_config(tmp_path), "exercise", "validate", path)
    assert out.returncode == 2, out
    line = next(ln for ln in out.stderr.splitlines() if f": {where}: " in ln)
    assert line.strip().startswith(f"{path}: line ") and message in line, out.stderr
    assert int(line.split("line ")[1].split(":")[0]) >= 1


def test_problems_are_all_reported_at_once(tmp_path):
    path = _broken(tmp_path, lambda d: (d["msel"][2].update(objective="x"), d["msel"][3].update(to=["ghost"])))
    with pytest.raises(ConfigError) as exc:
        load_scenario(path, Context())
    text = "\n".join(exc.value.problems)
    assert "msel[2].objective" in text and "msel[3].to[0]: 'ghost' is not a participant" in text
    assert f"line {_line_of(path, 'ghost')}" in text


def test_a_run_stored_before_bilingual_scenarios_keeps_its_one_text(tmp_path):
    """A scenario file with single-string texts is refused, but a run stored with such a text (before
    scenarios were bilingual) is still read, its text the same in both languages, so its
    after-action report and ratings still work."""
    from exercises.validate import from_text
    path = _broken(tmp_path, lambda d: d.update(title="Diễn tập cũ", summary="Tóm tắt cũ"))
    with pytest.raises(ConfigError):
        load_scenario(path, Context())
    with open(path, encoding="utf-8") as fh:
        sc = from_text(fh.read(), path)
    assert (sc.title.vi, sc.title.en, sc.summary.en) == ("Diễn tập cũ", "Diễn tập cũ", "Tóm tắt cũ")


@pytest.fixture()
def smtp():
    server = serve_smtp()
    yield server
    server.shutdown()


def test_tabletop_run_without_a_range_sends_messages_only_and_pauses(tmp_path, smtp):
    cfg = write_config(tmp_path, smtp_port=smtp.server_address[1])
    before = len(SmtpSink.got)
    proc = spawn(tmp_path, cfg, "exercise", "run", "phishing-account", "--mode", "tabletop", "--speed", "120",
                 "--range-state", str(tmp_path / "no-range"))
    rid = run_id_when_started(tmp_path)
    store = store_of(tmp_path)
    wait_for(lambda: inject_state(store, rid, 1) == "sent", 30)
    # pause from another shell: scenario time stands still, the next inject waits
    assert citysec(tmp_path, cfg, "exercise", "pause", rid).returncode == 0
    paused = wait_for(lambda: (s := json.loads(citysec(tmp_path, cfg, "exercise", "status", rid, "--json").stdout))
                      ["state"] == "paused" and s, 30)
    again = json.loads(citysec(tmp_path, cfg, "exercise", "status", rid, "--json").stdout)
    assert again["scenario_seconds"] == pytest.approx(paused["scenario_seconds"], abs=1.0)
    assert citysec(tmp_path, cfg, "exercise", "resume", rid).returncode == 0
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    s = json.loads(citysec(tmp_path, cfg, "exercise", "status", rid, "--json").stdout)
    assert s["state"] == "completed" and s["mode"] == "tabletop"
    states = {i["number"]: i["state"] for i in s["injects"]}
    assert states == {1: "sent", 2: "skipped"}             # the technical inject is not sent
    exps = {e["id"]: e["state"] for i in s["injects"] for e in i["expectations"]}
    assert exps["reported"] == "rated" and exps["brute"] == "not_applicable"
    mails = [mail(m) for m in SmtpSink.got[before:]]
    assert len(mails) == 1 and mails[0]["to"] == "cntt.stc@haiphong.gov.vn", mails
    assert mails[0]["subject"].startswith("[Diễn tập 2026") and "#1" in mails[0]["subject"]
    assert "Tài khoản của bạn sắp bị khóa" in mails[0]["text"] and mails[0]["id"] == f"<{rid}.1@citysec>"
    actions = [e["action"] for e in timeline(store, rid)]
    assert actions[0] == "run_started" and actions[-1] == "run_completed"
    assert "run_paused" in actions and "run_resumed" in actions and "inject_sent" in actions
    db_run = db.run_row(store, rid)
    assert db_run["paused_seconds"] > 0


def test_status_and_control_of_an_unknown_run_exit_2(tmp_path):
    cfg = write_config(tmp_path)
    for args in (("status", "no-such-run"), ("abort", "no-such-run"), ("end", "no-such-run"), ("pause", "x")):
        out = citysec(tmp_path, cfg, "exercise", *args)
        assert out.returncode == 2 and "no drill run" in out.stderr, out
