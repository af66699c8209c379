"""The finding model: fingerprint of stable identity only, the ECS document, remote text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from findings.checks import Catalogue, Check
from findings.errors import ConfigError
from findings.model import Finding, from_document, to_document

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
BASE = {"check": "exposure.telnet", "agency": "q-a", "verdict": "fail", "severity": "high",
        "host_ip": "198.18.202.11", "port": 23, "transport": "tcp", "message": "Telnet open",
        "service_name": "telnet", "service_version": "Linux telnetd 0.17", "timestamp": T0, "run_id": "r1"}


def make(**changes) -> Finding:
    return Finding(**(BASE | changes))


@pytest.mark.parametrize("change", [
    {"message": "Telnet still open (banner: Ubuntu 22.04)"},
    {"service_version": "BusyBox telnetd"},
    {"timestamp": T0 + timedelta(days=3)},
    {"run_id": "r2"},
    {"verdict": "pass", "severity": "info"},
    {"reason": "port 23 answered"},
    {"host_name": "hb-pc01"},
    {"details": {"banner": "login:"}},
])
def test_fingerprint_ignores_text_that_changes_between_runs(change):
    assert make(**change).fingerprint == make().fingerprint


@pytest.mark.parametrize("change", [
    {"host_ip": "198.18.202.12"},
    {"port": 2323},
    {"transport": "udp"},
    {"check": "exposure.ftp"},
    {"agency": "q-b"},
    {"subject": "/etc/shadow"},
])
def test_fingerprint_changes_with_identity(change):
    assert make(**change).fingerprint != make().fingerprint


def test_state_id_is_one_per_observation_per_run():
    assert make().id == make(message="other text").id
    assert make().id != make(run_id="r2").id
    assert make().id != make().fingerprint


def test_document_round_trip():
    f = make(controls=("CIS8:4.8",), remediation={"vi": "Tắt Telnet", "en": "Disable Telnet"},
             details={"rule": "forbid telnet"}, dataset="citysec.exposure", sensor="city-soc")
    doc = to_document(f, status="open", first_seen=T0, last_seen=T0)
    assert doc["event"]["kind"] == "state" and "outcome" not in doc["event"]
    assert doc["citysec"]["verdict"] == "fail" and doc["citysec"]["status"] == "open"
    assert doc["organization"]["id"] == "q-a" and doc["server"]["port"] == 23
    assert doc["citysec"]["exposure"] == {"rule": "forbid telnet"}
    back = from_document(doc)
    assert back.fingerprint == f.fingerprint and back.id == f.id and back.controls == f.controls


def test_remote_text_loses_control_characters():
    f = make(message="open\x1b[2J\x07 now", service_version="x\x00y")
    assert "\x1b" not in f.message and "\x07" not in f.message and "\x00" not in f.service_version


def test_check_metadata_fills_remediation_and_controls_and_passes_are_info():
    cat = Catalogue.from_mapping({"av.signatures": {
        "name": {"vi": "Mẫu nhận diện còn mới", "en": "Signatures current"}, "severity": "high", "controls": ["TCVN11930:x.2.2.5", "CIS8:10.2"],
        "remediation": {"vi": "Cập nhật mẫu nhận diện.", "en": "Update the signatures."}}})
    fail = cat["av.signatures"].finding(agency="q-a", verdict="fail", host_ip="198.18.202.11")
    ok = cat["av.signatures"].finding(agency="q-a", verdict="pass", host_ip="198.18.202.11")
    assert fail.severity == "high" and ok.severity == "info"
    assert fail.controls == ("TCVN11930:x.2.2.5", "CIS8:10.2") and fail.remediation["vi"].startswith("Cập nhật")
    assert fail.check_name == "Signatures current"


def test_check_without_remediation_in_both_languages_is_rejected():
    with pytest.raises(ConfigError, match="remediation.en is missing"):
        Check(id="x.y", name="x", severity="low", remediation={"vi": "a"})
    with pytest.raises(ConfigError, match="cat.yaml: check x.z: missing name"):
        Catalogue.from_mapping({"x.z": {"severity": "low", "remediation": {}}}, source="cat.yaml")


@pytest.mark.parametrize("cid,meta,message", [
    ("Exposure Telnet", {}, "the id must be 'area.name'"),
    ("exposure.telnet", {"dataset": "citysec.exposure-scan"}, "must be 'citysec.<area>' (no '-')"),
    ("exposure.telnet", {"remediation": "Tắt Telnet"}, "remediation must map vi and en to text"),
    ("exposure.telnet", {"controls": ["CIS8:4.8", ""]}, "controls must be a list of control ids"),
    ("exposure.telnet", {"severity": "urgent"}, "severity 'urgent' is not one of"),
])
def test_catalogue_rejects_bad_metadata_naming_source_and_check(cid, meta, message):
    good = {"name": {"vi": "Telnet", "en": "Telnet"}, "severity": "high", "remediation": {"vi": "Tắt Telnet", "en": "Disable Telnet"}}
    with pytest.raises(ConfigError) as exc:
        Catalogue.from_mapping({cid: good | meta}, source="exposure.yaml")
    assert any(p.startswith(f"exposure.yaml: check {cid}: ") and message in p for p in exc.value.problems)


def test_catalogue_entry_that_is_not_a_mapping():
    with pytest.raises(ConfigError, match="cat.yaml: check av.x: give a mapping"):
        Catalogue.from_mapping({"av.x": "high"}, source="cat.yaml")


def test_check_name_without_both_translations_is_rejected_at_load():
    rem = {"vi": "a", "en": "b"}
    with pytest.raises(ConfigError, match="cat.yaml: check x.z: name: the en translation is missing"):
        Catalogue.from_mapping({"x.z": {"name": {"vi": "X"}, "severity": "low", "remediation": rem}}, source="cat.yaml")
    with pytest.raises(ConfigError, match="cat.yaml: check x.z: name must give the name in both languages"):
        Catalogue.from_mapping({"x.z": {"name": "X", "severity": "low", "remediation": rem}}, source="cat.yaml")
    cat = Catalogue.from_mapping({"x.z": {"name": {"vi": "Chữ", "en": "Word"}, "severity": "low", "remediation": rem}})
    assert cat["x.z"].label("vi") == "Chữ" and cat["x.z"].label("en") == "Word" and cat.names()["x.z"]["en"] == "Word"
