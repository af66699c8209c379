"""The exposure catalogue: every policy's service id exists; bad entries are named with file and line."""

from __future__ import annotations

import pytest

from citysec.jobs.scan import load_exposure
from config.loader import load_config
from findings.errors import ConfigError


def test_every_service_id_the_example_city_uses_is_in_the_catalogue(cat):
    city = load_config("config/examples/haiphong.yaml").city
    named = {n for r in city.policies.services for n in r.allow + r.forbid}
    assert named - set(cat.entries) == set()
    for e in cat.entries.values():
        assert e.check.remediation["vi"] and e.check.remediation["en"] and e.check.controls


def test_bad_entries_name_file_path_and_line(tmp_path):
    bad = tmp_path / "exposure.yaml"
    bad.write_text("version: 1\nservices:\n  telnet:\n    name: {vi: Telnet, en: Telnet}\n    severity: huge\n    default: maybe\n"
                   "    match: {ports: [23/sctp], colour: red}\n    remediation: {vi: x}\n")
    with pytest.raises(ConfigError) as err:
        load_exposure(str(bad))
    text = "\n".join(err.value.problems)
    assert f"{bad}: line 6: services.telnet.default: must be forbid or allow" in text
    assert "line 7: services.telnet.match.ports[0]: '23/sctp' is not PORT/tcp" in text
    assert "unknown key 'colour'" in text
    assert "severity 'huge'" in text and "remediation.en is missing" in text


def test_a_missing_translation_of_a_name_is_a_load_time_error(tmp_path):
    bad = tmp_path / "exposure.yaml"
    bad.write_text("version: 1\nservices:\n  telnet:\n    name: {vi: Telnet}\n    severity: high\n"
                   "    default: forbid\n    match: {ports: [23/tcp]}\n    remediation: {vi: x, en: y}\n"
                   "  ftp:\n    name: FTP\n    severity: high\n    default: forbid\n    match: {ports: [21/tcp]}\n"
                   "    remediation: {vi: x, en: y}\n")
    with pytest.raises(ConfigError) as err:
        load_exposure(str(bad))
    text = "\n".join(err.value.problems)
    assert f"{bad}: line 4: services.telnet.name:" in text and "the en translation is missing" in text
    assert "line 10: services.ftp.name:" in text and "both languages" in text


def test_every_catalogued_check_has_its_name_in_both_languages():
    names = load_exposure().names()
    assert names["exposure.telnet"]["vi"] != names["exposure.telnet"]["en"]
    assert all(n["vi"].strip() and n["en"].strip() for n in names.values())
