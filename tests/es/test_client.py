"""The client from the configuration: credentials by id (env var or file), never a secret in output."""

from __future__ import annotations

from es_helpers import as_json, citysec, findings, write_config

from findings import Store
from tests.es_server import free_port

SECRET = "c2VjcmV0LWFwaS1rZXktdmFsdWU="


def test_api_key_from_an_environment_variable(tmp_path, es_server):
    config = write_config(tmp_path, es_server.url, credentials={"es-key": {"env": "CITYSEC_TEST_ES_KEY"}},
                          api_key="es-key")
    Store(tmp_path / "citysec.db").record(findings(10, "r1"), run_id="r1")
    proc = citysec(config, "ship", "--json", env={"CITYSEC_TEST_ES_KEY": SECRET})
    assert as_json(proc)["sent"] == 20
    assert SECRET not in config.read_text() and SECRET not in proc.stdout + proc.stderr

    missing = citysec(config, "ship", env={"CITYSEC_TEST_ES_KEY": ""})
    assert missing.returncode == 3
    assert "CITYSEC_TEST_ES_KEY is not set" in missing.stderr


def test_password_from_a_file_is_never_printed(tmp_path):
    (tmp_path / "es.pass").write_text(SECRET + "\n")
    url = f"http://elastic:{SECRET}@127.0.0.1:{free_port()}"  # even a password in a URL is redacted
    config = write_config(tmp_path, url, credentials={"es-pass": {"key_file": str(tmp_path / "es.pass")}},
                          username="citysec", password="es-pass")
    Store(tmp_path / "citysec.db").record(findings(3, "r1"), run_id="r1")
    proc = citysec(config, "ship", "--retry-for", "0.2")
    assert proc.returncode == 3 and "unreachable" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr
    status = citysec(config, "status", "--json")
    assert status.returncode == 0 and SECRET not in status.stdout + status.stderr


def test_a_secret_written_in_the_yaml_is_a_config_error(tmp_path):
    config = write_config(tmp_path, "http://127.0.0.1:9", api_key=SECRET)
    proc = citysec(config, "ship")
    assert proc.returncode == 2
    assert "elasticsearch.api_key" in proc.stderr and "line" in proc.stderr
    assert SECRET not in proc.stderr
