"""Config validation: one test per error class, each naming the file, the YAML path and the line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from config.loader import load_config
from findings.errors import ConfigError

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "config")
CITYSEC = os.path.join(os.path.dirname(sys.executable), "citysec")


def fixture(name: str) -> str:
    return os.path.abspath(os.path.join(FIX, name))


def line_of(path: str, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line of ``path`` containing ``needle``."""
    seen = 0
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if needle in line:
                seen += 1
                if seen == nth:
                    return n
    raise AssertionError(f"{needle!r} not in {path}")


def problems(name: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_config(fixture(name))
    return exc.value.problems


def check_cli(name: str) -> subprocess.CompletedProcess:
    return subprocess.run([CITYSEC, "--config", fixture(name), "config", "check"],
                          capture_output=True, text=True, timeout=60, check=False)


def has(probs: list[str], file: str, line: int, path: str, text: str) -> bool:
    return any(p.startswith(f"{file}: line {line}: {path}: ") and text in p for p in probs)


def test_valid_fixture_loads_with_includes():
    cfg = load_config(fixture("valid.yaml"))
    assert [a.id for a in cfg.city.agencies] == ["p-b", "so-tttt", "q-a"]
    assert cfg.where("agencies", 1, "networks", 0, "cidr") == \
        f"{fixture('common.yaml')}: line {line_of(fixture('common.yaml'), '198.18.201.0/24')}: agencies[1].networks[0].cidr"


def test_unknown_key_is_rejected_with_a_suggestion():
    f = fixture("unknown_key.yaml")
    probs = problems("unknown_key.yaml")
    assert has(probs, f, line_of(f, "netwrks:"), "agencies[0].netwrks", "unknown key 'netwrks' (did you mean 'networks'?)")
    assert has(probs, f, line_of(f, "- id: p-b"), "agencies[0].networks", "missing required key 'networks'")


def test_invalid_cidr_and_host_bits():
    f = fixture("bad_cidr.yaml")
    probs = problems("bad_cidr.yaml")
    assert has(probs, f, line_of(f, "198.18.300.0/24"), "agencies[0].networks[1].cidr", "invalid CIDR '198.18.300.0/24'")
    assert has(probs, f, line_of(f, "198.18.204.1/24"), "agencies[0].networks[2].cidr", "has host bits set")
    assert len(probs) == 2


def test_overlapping_networks_of_two_agencies_name_both_places():
    f, common = fixture("overlap.yaml"), fixture("common.yaml")
    (prob,) = problems("overlap.yaml")
    assert prob.startswith(f"{common}: line {line_of(common, '198.18.202.0/24')}: agencies[2].networks[0].cidr: ")
    assert "overlaps 198.18.202.128/25 of agency 'p-b'" in prob
    assert f"{f}: line {line_of(f, '198.18.202.128/25')}: agencies[0].networks[0].cidr" in prob


def test_agency_without_a_network():
    f = fixture("no_network.yaml")
    assert problems("no_network.yaml") == [
        f"{f}: line {line_of(f, 'networks: []')}: agencies[0].networks: agency 'p-b' has no network"]


def test_duplicate_agency_id():
    f, common = fixture("duplicate_id.yaml"), fixture("common.yaml")
    (prob,) = problems("duplicate_id.yaml")
    assert prob.startswith(f"{common}: line {line_of(common, '- id: q-a')}: agencies[2].id: duplicate agency id 'q-a'")
    assert f"first at {f}: line {line_of(f, '- id: q-a')}" in prob


def test_missing_key_file():
    f = fixture("missing_key_file.yaml")
    (prob,) = problems("missing_key_file.yaml")
    assert prob.startswith(f"{f}: line {line_of(f, 'no_such_key')}: credentials.backup-reader.key_file: "
                           "key file keys/no_such_key does not exist")


@pytest.mark.parametrize("needle,path,text", [
    ("parent: q-nowhere", "agencies[0].parent", "unknown agency 'q-nowhere'"),
    ("no-such-sensor", "agencies[0].networks[0].sensor", "unknown sensor 'no-such-sensor'"),
    ("no-such-credential", "agencies[0].ssh.key", "unknown credential 'no-such-credential'"),
    ("no-such-system", "agencies[0].hosts[0].system", "unknown information system 'no-such-system'"),
    ("no-such-backup", "systems[0].backup", "unknown backup policy 'no-such-backup'"),
    ("no-such-agency", "policies.services[0].agencies[1]", "unknown agency 'no-such-agency'"),
])
def test_dangling_reference(needle, path, text):
    f = fixture("dangling.yaml")
    assert has(problems("dangling.yaml"), f, line_of(f, needle), path, text)


def test_secret_values_are_errors_and_never_printed():
    f = fixture("secret.yaml")
    probs = problems("secret.yaml")
    assert has(probs, f, line_of(f, "hunter2"), "credentials.es-admin.password", "a secret value is written")
    assert has(probs, f, line_of(f, "role: |"), "agencies[0].contacts[0].role", "a private key is written")
    text = "\n".join(probs)
    assert "hunter2" not in text and "b3BlbnNzaC1rZXkt" not in text


def test_secret_in_the_elasticsearch_password_is_not_echoed(tmp_path):
    shutil.copytree(FIX, tmp_path / "c")
    path = tmp_path / "c" / "es.yaml"
    path.write_text("include: common.yaml\nelasticsearch:\n  hosts: [https://es.invalid:9200]\n"
                    "  username: citysec\n  password: S3cr3t-not-an-id\n")
    with pytest.raises(ConfigError) as exc:
        load_config(str(path))
    (prob,) = exc.value.problems
    assert prob.startswith(f"{path}: line 5: elasticsearch.password: unknown credential id")
    assert "S3cr3t" not in prob


def test_env_credential_must_be_a_variable_name(tmp_path):
    shutil.copytree(FIX, tmp_path / "c")
    path = tmp_path / "c" / "env.yaml"
    path.write_text("include: common.yaml\ncredentials:\n  es: {env: 'abc def!'}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(str(path))
    (prob,) = exc.value.problems
    assert prob.startswith(f"{path}: line 3: credentials.es.env: env must be the NAME")
    assert "abc def" not in prob


def test_errors_in_an_included_file_name_that_file_and_its_line():
    inc = fixture("included/agencies.yaml")
    (prob,) = problems("with_include.yaml")
    assert prob == (f"{inc}: line {line_of(inc, '198.18.205.300')}: agencies[3].hosts[1].ip: "
                    "invalid IP address '198.18.205.300'")


def test_cross_check_errors_in_an_included_file(tmp_path):
    shutil.copytree(FIX, tmp_path / "c")
    inc = tmp_path / "c" / "included" / "agencies.yaml"
    inc.write_text("\n".join(l for l in inc.read_text().splitlines() if "c-pc02" not in l) + "\n")
    with pytest.raises(ConfigError) as exc:
        load_config(str(tmp_path / "c" / "with_include.yaml"))
    (prob,) = exc.value.problems
    assert prob == (f"{inc}: line {line_of(str(inc), '198.18.206.13')}: agencies[3].hosts[1].ip: "
                    "198.18.206.13 is in none of agency 'p-c''s networks")


def test_unquoted_time_of_day_is_an_error(tmp_path):
    shutil.copytree(FIX, tmp_path / "c")
    path = tmp_path / "c" / "t.yaml"
    path.write_text("include: common.yaml\npolicies:\n  scan_windows:\n    - {start: 10:30, end: '12:00'}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(str(path))
    assert exc.value.problems == [(f"{path}: line 4: policies.scan_windows[0].start: write times of day in "
                                   "quotes, e.g. '10:30' (unquoted YAML reads 10:30 as a number)")]


def test_all_errors_are_reported_together_in_line_order():
    f = fixture("dangling.yaml")
    probs = problems("dangling.yaml")
    lines = [int(p.split(": line ")[1].split(":")[0]) for p in probs]
    assert len(probs) == 6 and lines == sorted(lines) and all(p.startswith(f) for p in probs)


# -- the real command --------------------------------------------------------------------------

def test_cli_config_check_prints_every_error_and_exits_2():
    f = fixture("dangling.yaml")
    run = check_cli("dangling.yaml")
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("invalid configuration:\n")
    for needle, path in (("parent: q-nowhere", "agencies[0].parent"), ("no-such-backup", "systems[0].backup"),
                         ("no-such-agency", "policies.services[0].agencies[1]")):
        assert f"{f}: line {line_of(f, needle)}: {path}: " in run.stderr
    assert len([ln for ln in run.stderr.splitlines() if ln.startswith("  ")]) == 6


@pytest.mark.parametrize("name,needle,path", [
    ("bad_cidr.yaml", "198.18.300.0/24", "agencies[0].networks[1].cidr"),
    ("no_network.yaml", "networks: []", "agencies[0].networks"),
    ("missing_key_file.yaml", "no_such_key", "credentials.backup-reader.key_file"),
    ("included/agencies.yaml", "198.18.205.300", "agencies[3].hosts[1].ip"),
])
def test_cli_names_file_path_and_line(name, needle, path):
    run = check_cli("with_include.yaml" if name.startswith("included/") else name)
    assert run.returncode == 2
    assert f"{fixture(name)}: line {line_of(fixture(name), needle)}: {path}: " in run.stderr


def test_cli_summary_of_a_valid_config_exits_0():
    run = check_cli("valid.yaml")
    assert run.returncode == 0, run.stderr
    assert "valid — Thành phố Thử (profile nd85)" in run.stdout
    assert "agencies: 3" in run.stdout and "networks: 3" in run.stdout
    # 198.18.201.0/24 minus the sensor + 198.18.202.0/24 + 198.18.203.0/25
    assert "addresses in scope: 639" in run.stdout
    assert "level 3: 1" in run.stdout


def test_cli_example_city_is_valid():
    run = subprocess.run([CITYSEC, "config", "check", "--json"], capture_output=True, text=True, timeout=60, check=False,
                         cwd=os.path.join(os.path.dirname(__file__), "..", ".."))
    assert run.returncode == 0, run.stderr
    assert '"agencies": 10' in run.stdout
