"""What a person reads: remote text is shown as it is, never interpreted; lines fit 80 columns;
status is words and aligned values, not Python; every empty list says so (issue #19)."""

from __future__ import annotations

import io
import json
import os
import shutil
from contextlib import redirect_stderr, redirect_stdout

import click
import pytest

from citysec.app import App
from citysec.cli import cli, main
from findings.model import Finding

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "config", "examples", "haiphong.yaml")
HOSTILE = "MySQL 8.0.36 [/x] reachable [red]RED[/red] [link=http://198.18.0.9]click[/link] \x1b[31mesc\x07 end"


def run(cfg, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main(["--config", str(cfg), *argv])
    except SystemExit as exc:
        code = exc.code or 0
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def city(tmp_path, monkeypatch):
    cfg = tmp_path / "city.yaml"
    shutil.copy(EXAMPLE, cfg)
    monkeypatch.chdir(tmp_path)
    for var in ("CITYSEC_CONFIG", "CITYSEC_SENSOR", "COLUMNS"):
        monkeypatch.delenv(var, raising=False)
    return cfg


@pytest.fixture
def hostile(city):
    app = App(config_path=str(city))
    app.store.record([
        Finding(check="exposure.forbidden_service", agency="q-ngo-quyen", verdict="fail", severity="high",
                host_ip="198.18.21.17", port=3306, message=HOSTILE),
        Finding(check="antivirus.missing", agency="so-tttt", verdict="fail", severity="critical",
                host_ip="198.18.1.5", message="no antivirus on tttt-dvc " + "(ClamAV not installed) " * 8),
    ], run_id="r1")
    return city


def fingerprints(cfg) -> list[str]:
    code, out, _ = run(cfg, "findings", "list", "--json")
    assert code == 0
    return [r["fingerprint"] for r in json.loads(out)]


def assert_shown_as_is(text: str) -> None:
    assert "[/x]" in text and "[red]RED[/red]" in text and "[link=http://198.18.0.9]" in text
    assert "\x1b" not in text and "\x07" not in text


def test_findings_list_shows_markup_and_never_interprets_it(hostile):
    code, out, err = run(hostile, "findings", "list")
    assert code == 0, err
    assert "Traceback" not in out + err
    assert_shown_as_is(out)
    assert all(len(line) <= 80 for line in out.splitlines()), out
    for fp in fingerprints(hostile):   # short ids are whole, never split over two lines
        assert fp[:12] in out
    assert "exposure.forbidden_service" in out and "198.18.21.17:3306" in out


def test_findings_show_and_the_triage_log_show_remote_text_as_is(hostile):
    fp = next(f for f in fingerprints(hostile) if f)
    code, out, err = run(hostile, "findings", "false-positive", fp, "--reason", HOSTILE, "--by", "[bold]eve\x1b[2J")
    assert code == 0, err
    assert "[bold]eve" in out and "\x1b" not in out
    code, out, err = run(hostile, "findings", "show", fp)
    assert code == 0, err
    code, log, err = run(hostile, "findings", "triage-log")
    assert code == 0, err
    assert_shown_as_is(log)


def test_the_acting_user_is_the_login_name_unless_by(hostile, monkeypatch):
    monkeypatch.setenv("CITYSEC_USER", "lan.nguyen")
    fp = fingerprints(hostile)[0]
    code, out, err = run(hostile, "findings", "accept", fp, "--reason", "vendor fix in Q1", "--until", "2099-01-01",
                         "--json")
    assert code == 0, err
    assert json.loads(out)["actor"] == "lan.nguyen"


def test_status_is_words_and_aligned_values_not_python(hostile):
    code, out, err = run(hostile, "status")
    assert code == 0, err
    for python in ("{'", "None", "True", "False", "[]", "{}"):
        assert python not in out, (python, out)
    assert "open findings" in out and "days left" in out
    assert all(len(line) <= 80 for line in out.splitlines() if "/" not in line), out   # a path is as long as it is
    code, out, err = run(hostile, "status", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["store"]["open_findings"] == 2 and data["elasticsearch"]["configured"] is False


def test_hosts_list_shows_how_each_host_is_reached(city):
    code, out, err = run(city, "hosts", "list")
    assert code == 0, err
    assert "citysec@198.18.10.11:22" in out
    assert "@:" not in out


@pytest.mark.parametrize("argv, words", [
    (("findings", "list"), "no findings"),
    (("findings", "list", "--severity", "critical"), "no findings match"),
    (("findings", "triage-log"), "the triage log is empty"),
    (("notify", "list"), "no digests yet"),
    (("exercise", "runs"), "no drill runs yet"),
])
def test_an_empty_list_says_so(city, argv, words):
    code, out, err = run(city, *argv)
    assert code == 0, err
    assert out.strip().endswith(words), out


def test_the_drill_plan_fits_80_columns(city):
    code, out, err = run(city, "exercise", "plan", "ransomware-district")
    assert code == 0, err
    assert out.count("\n#") + out.startswith("#") == 4
    assert all(len(line) <= 80 for line in out.splitlines()), out


@pytest.mark.parametrize("argv, hint", [
    (("findings", "list", "--agency", "so-ttt"), "unknown agency 'so-ttt' (did you mean 'so-tttt'?)"),
    (("findings", "list", "--agency", ""), "unknown agency ''"),
    (("hosts", "list", "--agency", ""), "unknown agency ''"),
    (("--sensor", "city-so", "collect", "logs"), "unknown sensor 'city-so' (did you mean 'city-soc'?)"),
    (("case", "open", "--playbook", "antivirus-mising", "--agency", "so-tttt"),
     "unknown playbook 'antivirus-mising' (did you mean 'antivirus-missing'?)"),
    (("backup", "record-restore-test", "qlv", "--result", "ok"), "unknown information system 'qlv' (did you mean 'qlvb'?)"),
    (("report", "periodic", "--period", "2026", "--agency", "so-tt"), "(did you mean 'so-tttt'?)"),
])
def test_an_unknown_id_is_exit_2_with_did_you_mean(city, argv, hint):
    code, _out, err = run(city, *argv)
    assert code == 2 and hint in err, err


def commands(group: click.Group, path=()):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from commands(cmd, (*path, name))
        yield (*path, name), cmd


def test_every_command_and_option_has_help():
    missing = [" ".join(p) for p, c in commands(cli) if not (c.help or c.short_help)]
    missing += [f"{' '.join(p)} {o.opts[0]}" for p, c in commands(cli) for o in c.params
                if isinstance(o, click.Option) and not o.help]
    # citysec/cli/playbook.py (the case commands) is being reworked on branch l16-cases
    missing = [m for m in missing if not m.startswith("case ")]
    assert not missing, missing


def test_pause_resume_and_abort_take_json():
    for verb in ("pause", "resume", "abort"):
        assert any(p.name == "as_json" for p in cli.commands["exercise"].commands[verb].params), verb


def test_lang_is_a_choice_of_vi_and_en_everywhere():
    for path, cmd in commands(cli):
        for o in cmd.params:
            if "--lang" in getattr(o, "opts", ()):
                assert isinstance(o.type, click.Choice) and set(o.type.choices) == {"vi", "en"}, path
