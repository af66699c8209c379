"""The full TCP sweep on its own range `sw` (198.18.128.0/19): services moved off their usual
ports (telnet 2323, redis 6380, vnc 45900) are found by `citysec scan sweep` and judged by what
answers; the daily scan re-checks them; a stopped one is closed; an outside target sends
nothing; any port list works; 1 % packet loss on the range's core loses no open port.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from citysec.cli.context import App
from citysec.jobs import run_job
from findings.support.netns import run_in_netns
from scanners import synsweep
from tests.scanners.range_city import capture, cli, module_city, module_range

pytestmark = pytest.mark.range

HOSTS = ["198.18.129.11", "198.18.129.12", "198.18.130.10"]
PLACED = {("198.18.129.11", 2323): "exposure.telnet", ("198.18.129.12", 6380): "exposure.redis",
          ("198.18.129.12", 45900): "exposure.vnc"}


@pytest.fixture(scope="module")
def rng(tmp_path_factory):
    yield from module_range(tmp_path_factory, "sweep_range.yaml", "sw")


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    return module_city(tmp_path_factory, "sweep_city.yaml", "sw", "var/sweep-test.db")


def exposure(config) -> dict:
    rows = App(config_path=config).store.current(check="exposure")
    return {(r["host"], r["port"]): r for r in rows if r["port"]}


@pytest.fixture(scope="module")
def first_sweep(rng, config):
    out = cli(config, "scan", "sweep", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_moved_services_are_found_and_judged_by_what_answers(first_sweep, config):
    assert first_sweep["live"] == 3 and first_sweep["hosts"] == 3 and first_sweep["incomplete"] == {}
    assert first_sweep["probes"] >= 3 * 65535
    rows = exposure(config)
    for (host, port), check in PLACED.items():
        row = rows[(host, port)]
        assert (row["check_id"], row["verdict"], row["status"]) == (check, "fail", "open"), (host, port)
        doc = json.loads(row["doc"])
        assert doc["service"]["name"] == check.split(".")[1]
        assert f"{host}:{port}/tcp" in doc["message"] and "not on its usual port" in doc["message"]
    assert "Redis" in json.loads(rows[("198.18.129.12", 6380)]["doc"])["service"]["version"]
    assert rows[("198.18.130.10", 15432)]["verdict"] == "pass"            # postgresql allowed on servers
    assert ("198.18.130.10", 161) not in rows                              # UDP is the daily scan's


def test_the_daily_scan_rechecks_what_the_sweep_found(first_sweep, config):
    app = App(config_path=config)
    argv: list = []
    run_id, _ = run_job(app, "services", on_start=lambda p: argv.append(p.args))
    ports = argv[0][argv[0].index("-p") + 1]
    assert "2323" in ports and "6380" in ports and "45900" in ports and "U:53" in ports
    rows = exposure(config)
    for key in PLACED:
        assert rows[key]["last_run"] == run_id and rows[key]["status"] == "open"
    assert rows[("198.18.130.10", 161)]["check_id"] == "exposure.snmp"     # the daily UDP set


def test_a_sweep_closes_nothing_it_did_not_look_at(first_sweep, config):
    daily = exposure(config)[("198.18.130.10", 161)]["last_run"]
    out = cli(config, "scan", "sweep", "--target", "198.18.130.10", "--json")          # TCP only
    assert out.returncode == 0, out.stderr
    rows = exposure(config)
    assert rows[("198.18.130.10", 15432)]["last_run"] == json.loads(out.stdout)["run_id"]
    assert rows[("198.18.130.10", 161)]["last_run"] == daily                            # UDP not asked
    out = cli(config, "scan", "sweep", "--target", "198.18.129.12", "--ports", "1-100,8000-9000,161/udp", "--json")
    assert out.returncode == 0, out.stderr
    run_id, rows = json.loads(out.stdout)["run_id"], exposure(config)
    assert rows[("198.18.129.12", 22)]["last_run"] == run_id
    for port in (6380, 45900):                      # forbidden, open, outside the list: not closed
        assert (rows[("198.18.129.12", port)]["status"], rows[("198.18.129.12", port)]["last_run"] != run_id) \
            == ("open", True), port


def test_a_stopped_service_is_closed(first_sweep, rng, config):
    rng.service("sw-pc01", "telnet", "stop")
    try:
        out = cli(config, "scan", "services", "--target", "198.18.129.11", "--json")
        assert out.returncode == 0, out.stderr
        row = exposure(config)[("198.18.129.11", 2323)]
        assert (row["status"], row["verdict"]) == ("closed", "pass")
        assert exposure(config)[("198.18.129.12", 6380)]["status"] == "open"
    finally:
        rng.service("sw-pc01", "telnet", "start")


def test_the_capture_sees_a_probe_to_an_outside_address(rng):
    # what a stray probe would look like: routed to the core (198.18.0.0/15) and captured
    _, stray = capture(rng, lambda: rng.sensor_exec(["ncat", "-z", "-w", "1", "198.18.140.7", "22"]),
                       "ip and dst net 198.18.140.7")
    assert len(stray) > 24


@pytest.mark.parametrize("target", ["198.18.140.7", "198.18.129.201", "198.18.131.0/24"])
def test_an_outside_sweep_target_is_refused_and_nothing_is_sent(rng, config, target):
    out, pcap = capture(rng, lambda: cli(config, "scan", "sweep", "--target", target), f"ip and dst net {target}")
    assert out.returncode == 2 and "refused" in out.stderr, out.stderr
    assert len(pcap) == 24, f"{len(pcap) - 24} bytes of IPv4 packets to {target} crossed the core"


def test_any_port_list_works(first_sweep, config):
    out = cli(config, "scan", "services", "--target", "198.18.129.11", "--ports", "1-65535", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["open_ports"] == 2                       # ssh and telnet on 2323
    out = cli(config, "scan", "services", "--target", "198.18.130.10", "--ports", "1-100,8000-9000,161/udp",
              "--json")
    assert out.returncode == 0, out.stderr
    assert exposure(config)[("198.18.130.10", 161)]["last_run"] == json.loads(out.stdout)["run_id"]


@pytest.mark.parametrize("argv, bad", [
    (["scan", "sweep", "--ports", "1-,80"], "'1-'"),
    (["scan", "services", "--ports", "22,70000"], "'70000'"),
    (["scan", "services", "--ports", "80-70"], "'80-70'"),
])
def test_a_malformed_port_list_exits_2_naming_the_item(config, argv, bad):
    out = cli(config, *argv)
    assert out.returncode == 2 and bad in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_sweep_cut_by_its_deadline_says_so(rng):
    cut = run_in_netns(rng.sensor_netns, synsweep.sweep, HOSTS, range(1, 65536), pps=2000,
                       deadline=time.monotonic() + 0.5)
    assert cut.cut and cut.sent < 3 * 65535


def test_one_percent_loss_on_the_core_loses_no_open_port(rng):
    clean = run_in_netns(rng.sensor_netns, synsweep.sweep, HOSTS, range(1, 65536), pps=20000)
    assert set(PLACED) <= {(h, p) for h, ports in clean.open.items() for p in ports}
    nft = ["ip", "netns", "exec", rng.core_netns, "nft"]
    subprocess.run(nft + ["-f", "-"], check=True, text=True, input=(
        "table inet citysec_loss {\n chain lossy {\n  type filter hook forward priority 0;\n"
        "  numgen random mod 100 < 1 drop\n }\n}\n"))
    try:
        lossy = run_in_netns(rng.sensor_netns, synsweep.sweep, HOSTS, range(1, 65536), pps=20000)
    finally:
        subprocess.run(nft + ["delete", "table", "inet", "citysec_loss"], check=True)
    assert lossy.passes[0].answered < lossy.passes[0].sent          # the loss was real
    assert len(lossy.passes) > 1                                    # and the silent probes were sent again
    assert lossy.open == clean.open                                 # no open port lost
