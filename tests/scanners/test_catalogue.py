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
    bad.write_text("version: 1\nservices:\n  telnet:\n    name: Telnet\n    severity: huge\n    default: maybe\n"
                   "    match: {ports: [23/sctp], colour: red}\n    remediation: {vi: x}\n")
    with pytest.raises(ConfigError) as err:
        load_exposure(str(bad))
    text = "\n".join(err.value.problems)
    assert f"{bad}: line 6: services.telnet.default: must be forbid or allow" in text
    assert "line 7: services.telnet.match.ports[0]: '23/sctp' is not PORT/tcp" in text
    assert "unknown key 'colour'" in text
    assert "severity 'huge'" in text and "remediation.en is missing" in text
