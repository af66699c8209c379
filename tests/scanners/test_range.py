"""The scanners on their own range `sc` (198.19.16.0/20): discovery, service scan, kill, stop, scope.

Each expectation is what the security team would check: the forbidden service placed on the range
is reported with the rule and severity; allowed ones pass; the rogue host is flagged; a killed nmap
keeps the open findings open; a stopped service's finding closes; outside targets are refused and
no packet leaves (a capture on the range's core says so).
"""

from __future__ import annotations

import json
import os
import signal
import threading

import pytest

from citysec.cli.context import App
from citysec.jobs import run_job
from tests.scanners.range_city import capture, cli, module_city, module_range

pytestmark = pytest.mark.range



@pytest.fixture(scope="module")
def rng(tmp_path_factory):
    yield from module_range(tmp_path_factory, "range.yaml", "sc")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return module_city(tmp_path_factory, "city.yaml", "sc", "var/scanners-test.db")


@pytest.fixture(scope="module")
def first_scan(rng, config):
    disc = cli(config, "scan", "discover", "--json")
    assert disc.returncode == 0, disc.stderr
    svc = cli(config, "scan", "services", "--json")
    assert svc.returncode == 0, svc.stderr
    return json.loads(disc.stdout), json.loads(svc.stdout)


def current(config, check="exposure"):
    out = cli(config, "findings", "list", "--status", "all", "--check", check, "--json")
    assert out.returncode == 0, out.stderr
    return {(r["host"], r["port"], r["check_id"]): r for r in json.loads(out.stdout)}


EXPECTED = [  # host, port, check, verdict, severity, rule
    ("198.19.17.11", 23, "exposure.telnet", "fail", "high", "policies.services[0]"),
    ("198.19.17.11", 445, "exposure.smb", "fail", "medium", "policies.services[1]"),
    ("198.19.17.12", 8080, "exposure.http-admin", "fail", "high", "policies.services[1]"),
    ("198.19.17.12", 5900, "exposure.vnc", "fail", "high", "policies.services[0]"),
    ("198.19.17.12", 3389, "exposure.rdp", "fail", "high", "policies.services[0]"),
    ("198.19.17.66", 21, "exposure.ftp", "fail", "high", "policies.services[0]"),
    ("198.19.18.10", 6379, "exposure.redis", "fail", "high", "policies.services[3]"),
    ("198.19.18.10", 5432, "exposure.postgresql", "pass", "info", "policies.services[3]"),
    ("198.19.18.10", 3306, "exposure.mysql", "pass", "info", "policies.services[3]"),
    ("198.19.19.10", 80, "exposure.http", "pass", "info", "policies.services[2]"),
    ("198.19.19.10", 443, "exposure.https", "pass", "info", "policies.services[2]"),
    ("198.19.19.10", 9200, "exposure.elasticsearch", "fail", "high", "policies.services[2]"),
    ("198.19.19.10", 2375, "exposure.docker-api", "fail", "critical", "policies.services[0]"),
    ("198.19.16.20", 161, "exposure.snmp-public", "fail", "high", "policies.services[0]"),
    ("198.19.16.20", 443, "exposure.https", "pass", "info", "policies.services[4]"),
    ("198.19.16.21", 161, "exposure.snmp", "pass", "info", "policies.services[4]"),
    ("198.19.16.21", 22, "exposure.ssh", "pass", "info", "catalogue:ssh"),
]


def test_discovery_flags_the_rogue_host_and_records_assets(first_scan, config):
    disc, _ = first_scan
    assert disc["rogue"] == ["198.19.17.66"]
    assert disc["live"] == 7 and disc["skipped"] == {}
    rogue = current(config, "discovery.rogue")
    assert rogue[("198.19.17.66", None, "discovery.rogue")]["status"] == "open"
    assert rogue[("198.19.17.11", None, "discovery.rogue")]["verdict"] == "pass"


def test_every_placed_service_is_judged_with_its_rule_and_severity(first_scan, config):
    _, svc = first_scan
    assert svc["incomplete"] == {} and svc["scan_type"] == "syn"
    rows = current(config)
    for host, port, check, verdict, severity, rule in EXPECTED:
        row = rows.get((host, port, check))
        assert row is not None, f"{check} on {host}:{port} not reported"
        doc = cli(config, "findings", "show", row["fingerprint"], "--json")
        cs = json.loads(doc.stdout)["doc"]["citysec"]
        assert (row["verdict"], row["severity"], cs["exposure"]["decided_by"]) == (verdict, severity, rule), host
        assert cs["remediation"]["vi"] and cs["controls"]
        assert row["status"] == ("open" if verdict == "fail" else "closed")


def test_killed_nmap_gives_incomplete_and_keeps_findings_open(first_scan, config):
    app = App(config_path=config)
    before = {r["fingerprint"] for r in app.store.current(status=("open", "reopened"), check="exposure")}

    def kill_soon(proc):
        threading.Timer(3.0, lambda: os.kill(proc.pid, signal.SIGKILL)).start()

    _, counts = run_job(app, "services", on_start=kill_soon)
    assert any("killed (signal 9)" in n for n in counts["notes"])
    assert counts["closed"] == 0 and counts["incomplete"]
    after = {r["fingerprint"] for r in app.store.current(status=("open", "reopened"), check="exposure")}
    assert before <= after
    scan = {r["host"]: r["verdict"] for r in app.store.current(check="exposure.scan")}
    assert {scan[h] for h in counts["incomplete"]} == {"incomplete"}


def test_a_stopped_service_is_closed_by_the_next_scan(first_scan, rng, config):
    rng.service("w-pc01", "telnet", "stop")
    try:
        out = cli(config, "scan", "services", "--target", "198.19.17.11", "--json")
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["closed"] >= 1
        row = current(config)[("198.19.17.11", 23, "exposure.telnet")]
        assert (row["status"], row["verdict"]) == ("closed", "pass")
        assert current(config)[("198.19.17.11", 445, "exposure.smb")]["status"] == "open"
        diff = json.loads(cli(config, "scan", "diff", "--agency", "ward", "--json").stdout)
        assert [(i["host"], i["port"]) for i in diff["gone"]] == [("198.19.17.11", 23)]
    finally:
        rng.service("w-pc01", "telnet", "start")


def test_the_capture_sees_a_probe_from_the_sensor(rng):
    probe, pcap = capture(rng, lambda: rng.sensor_exec(["ncat", "-z", "-w", "2", "198.19.17.11", "22"]))
    assert probe.returncode == 0 and len(pcap) > 24
    # what a stray probe to an outside target would look like: it reaches the core and is captured
    _, stray = capture(rng, lambda: rng.sensor_exec(["ncat", "-z", "-w", "1", "198.19.30.7", "22"]))
    assert len(stray) > 24


# Outside targets the sensor could route (198.18.0.0/15 goes to the core): a stray packet would be captured.
@pytest.mark.parametrize("argv", [
    ["scan", "services", "--target", "198.19.30.7"],
    ["scan", "discover", "--target", "198.19.29.0/24"],
    ["scan", "services", "--agency", "ward", "--target", "198.19.18.10"],
    ["scan", "discover", "--target", "198.19.17.201"],
])
def test_scope_guard_refuses_and_nothing_leaves(rng, config, argv):
    out, pcap = capture(rng, lambda: cli(config, *argv))
    assert out.returncode == 2, out.stderr
    assert "refused" in out.stderr or "belongs to agency" in out.stderr
    assert len(pcap) == 24, f"{len(pcap) - 24} bytes of IPv4 packets crossed the core"   # the pcap header only


def test_nmap_missing_is_exit_3(config):
    out = cli(config, "scan", "services", "--agency", "ward", env={"PATH": "/nonexistent"})
    assert out.returncode == 3 and "nmap is not installed" in out.stderr
