"""SMTP: STARTTLS by default, the relay's certificate verified (system CA store or notify.smtp.ca_file),
plain SMTP only when configured, with a warning in `config check`. A real local TLS relay."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from tls_smtp import TlsRelay, self_signed

from config.loader import load_config
from config.validate import warnings
from findings.notify.send import SendError, smtp_send


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def relay(cert):
    servers: list[TlsRelay] = []

    def start(**kw) -> TlsRelay:
        servers.append(TlsRelay(*cert, **kw))
        return servers[-1]
    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def message(subject: str = "citysec test") -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "soc@city.example", "ir@city.example", subject
    msg.set_content("Xin chào")
    return msg


def test_starttls_is_the_default_and_a_self_signed_relay_is_refused(relay):
    r = relay()
    with pytest.raises(SendError, match=r"certificate is not trusted .*notify.smtp.ca_file"):
        smtp_send({"host": "127.0.0.1", "port": r.port}, message())
    assert r.got == []


def test_the_configured_ca_file_lets_the_message_through_encrypted(relay, cert):
    r = relay()
    refused = smtp_send({"host": "127.0.0.1", "port": r.port, "ca_file": str(cert[0])}, message("over starttls"))
    assert refused == {}
    (text, encrypted), = r.got
    assert "Subject: over starttls" in text and encrypted


def test_implicit_tls_verifies_too(relay, cert):
    r = relay(implicit=True)
    with pytest.raises(SendError, match="not trusted"):
        smtp_send({"host": "127.0.0.1", "port": r.port, "security": "tls"}, message())
    smtp_send({"host": "127.0.0.1", "port": r.port, "security": "tls", "ca_file": str(cert[0])}, message("tls"))
    assert [enc for _, enc in r.got] == [True]


def test_a_relay_without_starttls_is_refused_unless_plain_is_configured(relay):
    r = relay(offer_starttls=False)
    with pytest.raises(SendError, match="does not offer STARTTLS"):
        smtp_send({"host": "127.0.0.1", "port": r.port}, message())
    assert r.got == []
    smtp_send({"host": "127.0.0.1", "port": r.port, "security": "plain"}, message("plain"))
    assert [enc for _, enc in r.got] == [False]


CITY = """
name: t
sensors: [{id: s, name: S, agency: a}]
agencies:
  - {id: a, name: A, kind: ward, networks: [{cidr: 198.18.250.0/24, zone: lan, sensor: s}]}
notify:
  smtp: {host: 127.0.0.1, port: 2525%s}
"""


@pytest.mark.parametrize("extra, warned", [("", False), (", security: starttls", False), (", security: plain", True)])
def test_config_check_warns_about_plain_smtp_only(tmp_path, extra, warned):
    path = tmp_path / "city.yaml"
    path.write_text(CITY % extra, encoding="utf-8")
    cfg = load_config(str(path))
    got = warnings(cfg.city)
    assert bool(got) == warned
    if warned:
        assert got[0][0] == ("notify", "smtp", "security") and "unencrypted" in got[0][1]


def test_config_check_prints_the_warning_and_still_exits_0(tmp_path):
    import os
    import subprocess
    import sys
    path = tmp_path / "city.yaml"
    path.write_text(CITY % ", security: plain", encoding="utf-8")
    r = subprocess.run([sys.executable, "-c", "from citysec.cli import main; main()", "--config", str(path),
                        "config", "check"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                       env={**os.environ, "CI": "1"}, check=False)
    assert r.returncode == 0, r.stderr
    assert f"warning: {path}: line 7: notify.smtp.security: plain SMTP" in r.stderr


NOTIFY_CITY = """name: t
sensor: s
sensors: [{id: s, name: S, agency: a}]
agencies:
  - id: a
    name: A
    kind: ward
    contacts: [{name: "Bình", role: "cán bộ CNTT", email: binh@a.example}]
    networks: [{cidr: 198.18.250.0/24, zone: lan, sensor: s}]
store: {path: %s}
notify:
  smtp: {host: 127.0.0.1, port: %d, sender: soc@city.example%s}
"""


def test_notify_run_delivers_over_verified_tls_only_once_the_relays_ca_is_configured(tmp_path, relay, cert):
    import json
    import os
    import shutil
    import subprocess
    import sys

    from findings import Finding, Store
    from findings.model import utcnow
    r = relay()
    shutil.copy(cert[0], tmp_path / "relay-ca.pem")
    db = tmp_path / "citysec.db"
    store = Store(str(db))
    store.record([Finding(check="exposure.telnet", agency="a", verdict="fail", severity="high", message="Telnet open",
                          host_ip="198.18.250.11", port=23, transport="tcp", service_name="telnet",
                          timestamp=utcnow(), run_id="scan-1")])
    store.close()
    path = tmp_path / "city.yaml"

    def notify_run(extra: str) -> dict:
        path.write_text(NOTIFY_CITY % (db, r.port, extra), encoding="utf-8")
        out = subprocess.run([sys.executable, "-c", "from citysec.cli import main; main()", "--config", str(path),
                              "notify", "run", "--json"], capture_output=True, text=True, timeout=120,
                             cwd=tmp_path, env={**os.environ, "CI": "1"}, check=False)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    first = notify_run("")                                   # STARTTLS, the system CA store: refused
    assert (first["digests"], first["delivered"], first["failed"]) == (1, 0, 1)
    assert "certificate is not trusted" in first["errors"][0] and r.got == []
    second = notify_run(", ca_file: relay-ca.pem")           # relative to the configuration file
    assert (second["delivered"], second["failed"]) == (1, 0)
    (text, encrypted), = r.got
    assert encrypted and "To: binh@a.example" in text
