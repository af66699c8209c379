"""Regulatory profiles: deadlines, recipients, report calendar and control mappings from YAML."""

from __future__ import annotations

from datetime import date

import pytest

from config.loader import load_config
from config.profiles import PROFILES, load_profile, profile_file
from findings.errors import ConfigError


def test_nd85_deadlines():
    p = load_profile("nd85")
    assert (p.deadline("notice").hours, p.deadline("notice").start) == (120, "detection")
    assert (p.deadline("final_report").hours, p.deadline("final_report").start) == (120, "response_end")
    initial = p.deadline("initial_report")
    assert (initial.hours, initial.when, initial.report) == (0, "beyond_capacity", "initial")


def test_nd331_deadlines():
    p = load_profile("nd331")
    assert (p.deadline("serious_notice").hours, p.deadline("serious_notice").min_severity) == (24, "high")
    assert p.deadline("cause_scope_fix").hours == 72
    assert p.deadline("immediate_notice").hours == 0
    assert not p.deadline("serious_notice").verified


def test_incident_deadlines_as_plain_dicts_use_the_yaml_names():
    d = load_profile("nd85").incident_deadlines()[2]
    assert d["name"] == "final_report" and d["from"] == "response_end" and d["hours"] == 120


@pytest.mark.parametrize("name", PROFILES)
def test_report_calendar(name):
    p = load_profile(name)
    due = [(d, r.id) for d, r in p.due_dates(2026)]
    assert due == [(date(2026, 6, 20), "form05-network-member"), (date(2026, 12, 15), "form05-network-member"),
                   (date(2026, 12, 20), "level-compliance-operator"), (date(2026, 12, 25), "level-compliance-owner")]
    assert p.report("exercise-aar").period == "drill" and p.report("exercise-aar").due == []
    assert next(r.id for r in p.recipients_of("final")) == "city-ir-team"


def test_control_mapping_by_prefix_and_level():
    p = load_profile("nd85")
    assert p.controls_for("av.signatures", level=3) == ("TCVN11930:7.2.2.5", "CIS8:10.1", "CIS8:10.2", "CIS8:10.6")
    assert p.controls_for("log.av_detection")[-1] == "CIS8:13.2"   # the exact id wins over "log."
    assert p.controls_for("exposure.telnet", level=2)[0] == "TCVN11930:6.2.1.2"
    assert p.controls_for("nothing.here") == ()


def test_a_broken_profile_names_file_path_and_line(tmp_path):
    bad = tmp_path / "p.yaml"
    with open(profile_file("nd85"), encoding="utf-8") as fh:
        text = fh.read()
    bad.write_text(text.replace('due: ["06-20", "12-15"]', 'due: ["06-20", "13-15"]')
                   .replace("      hours: 120                 # incident", "      hourz: 120"), encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        load_profile(str(bad))
    lines = bad.read_text(encoding="utf-8").splitlines()
    due_line = next(i for i, ln in enumerate(lines, 1) if "13-15" in ln)
    hourz_line = next(i for i, ln in enumerate(lines, 1) if "hourz" in ln)
    assert f"{bad}: line {due_line}: reports[0].due: due '13-15' is not a month-day like '12-15'" in exc.value.problems
    assert f"{bad}: line {hourz_line}: incident.deadlines[0].hourz: unknown key 'hourz' (did you mean 'hours'?)" \
        in exc.value.problems


def test_unknown_profile():
    with pytest.raises(ConfigError, match="profile 'nd99': no such file"):
        load_profile("nd99")


def test_config_check_validates_the_profile():
    assert load_config("config/examples/haiphong.yaml").city.profile == "nd85"
