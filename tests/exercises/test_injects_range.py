"""Every technical drill inject on the range `dj` (198.19.224.0/20 only): apply, observe the effect as a
user would (from the sensor, inside the host, with the real tools), applied(), cleanup, verify() == []
and the effect gone; verify() reports a defeated cleanup; the scope check refuses and nothing acts.
check() is tested without a range."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import subprocess
import time

import paramiko
import pytest

from exercises.injects import KINDS, scope_check
from exercises.range import EICAR
from findings.errors import UsageError
from findings.support.netns import connect_in_netns
from tests.range_support import build_range

pytestmark = pytest.mark.range
FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "exercises", "injects-range.yaml")
IP = {"a-srv1": "198.19.226.10", "a-srv2": "198.19.226.11", "a-pc1": "198.19.225.11", "x-atk": "198.19.227.66"}
ROGUE_IP = "198.19.225.50"
REPO = ["restic", "--no-cache", "-q", "-r", "/var/backups/restic", "--password-file", "/var/backups/restic.pass"]


@pytest.fixture(scope="module")
def rng(tmp_path_factory):
    with build_range(FIX, "dj", tmp_path_factory.mktemp("dj-range")) as r:
        yield r


def run_inject(rng, kind: str, params: dict) -> dict:
    """apply, then the facts must survive JSON (the runner stores them), then applied()."""
    k = KINDS[kind]
    assert scope_check(rng, kind, params) == []
    facts = json.loads(json.dumps(k.apply(rng, params)))
    assert k.applied(rng, params, facts)
    return facts


def undo(rng, kind: str, params: dict, facts: dict) -> None:
    k = KINDS[kind]
    k.cleanup(rng, params, facts)
    assert k.verify(rng, params, facts) == []
    if kind != "brute_force":  # its log lines are history: applied() stays true
        assert not k.applied(rng, params, facts)


def reachable(rng, ip: str, port: int) -> bool:
    try:
        connect_in_netns(rng.sensor_netns, ip, port, 2).close()
        return True
    except OSError:
        return False


def banner(rng, ip: str, port: int) -> bytes:
    sock = connect_in_netns(rng.sensor_netns, ip, port, 5)
    try:
        sock.settimeout(5)
        return sock.recv(64)
    finally:
        sock.close()


def page(rng, ip: str) -> str:
    return rng.sensor_exec(["curl", "-s", "--max-time", "5", f"http://{ip}/"]).stdout


def cat(rng, host: str, path: str) -> subprocess.CompletedProcess:
    return rng.exec(host, ["cat", path])


def host_sha(rng, host: str, path: str) -> str:
    return rng.exec(host, ["sha256sum", path], check=True).stdout.split()[0]


def ages_h(rng, host: str) -> list[float]:
    """Ages of the host's restic snapshots, read with restic itself (`date` parses RFC 3339)."""
    snaps = json.loads(rng.exec(host, [*REPO, "snapshots", "--json"], check=True, timeout=120).stdout)
    out = []
    for s in snaps:
        epoch = float(rng.exec(host, ["date", "-d", s["time"], "+%s.%N"], check=True).stdout)
        out.append((time.time() - epoch) / 3600)
    return sorted(out)


# ----- check(): no range needed
@pytest.mark.parametrize("kind,params,key,word", [
    ("eicar", {}, "host", "required"),
    ("eicar", {"host": "a", "pth": "/var/x"}, "pth", "unknown key"),
    ("eicar", {"host": "a", "path": "relative/x"}, "path", "absolute"),
    ("eicar", {"host": "a", "path": "/etc/passwd"}, "path", "under /var"),
    ("eicar", {"host": "a", "path": "/var/lib/../../etc/x"}, "path", ".."),
    ("eicar", {"host": "a", "path": "/var/run/x"}, "path", "/var/run"),
    ("eicar", {"host": "a", "scan": "yes"}, "scan", "true or false"),
    ("service", {"host": "a", "service": "gopher"}, "service", "expected one of"),
    ("service", {"host": "a", "service": "ssh"}, "service", "expected one of"),
    ("service", {"host": "a", "service": "ftp", "action": "restart"}, "action", "start or stop"),
    ("antivirus", {"host": "a", "state": "x"}, "state", "expected stopped or stale, got 'x'"),
    ("antivirus", {"host": "a", "state": "stale"}, "signature_age_hours", "required"),
    ("antivirus", {"host": "a", "state": "stale", "signature_age_hours": 72}, "signature_age_hours", "at least 73"),
    ("antivirus", {"host": "a", "state": "stopped", "signature_age_hours": 100}, "signature_age_hours", "only"),
    ("antivirus", {"host": "a", "state": "stale", "signature_age_hours": True}, "signature_age_hours", "number"),
    ("backup", {"host": "a", "state": "broken"}, "state", "failing or aged"),
    ("backup", {"host": "a", "state": "aged"}, "hours", "required"),
    ("backup", {"host": "a", "state": "aged", "hours": -1}, "hours", "positive"),
    ("brute_force", {"target": "b"}, "attacker", "required"),
    ("brute_force", {"attacker": "a", "target": "b", "attempts": 0}, "attempts", "1 to 1000"),
    ("brute_force", {"attacker": "a", "target": "b", "attempts": 2.5}, "attempts", "whole number"),
    ("brute_force", {"attacker": "a", "target": "a"}, "target", "differ"),
    ("brute_force", {"attacker": "a", "target": "b", "user": "x; rm -rf /"}, "user", "user name"),
    ("rogue_host", {"agency": "a"}, "ip", "required"),
    ("rogue_host", {"agency": "a", "ip": "not-an-ip"}, "ip", "IPv4"),
    ("rogue_host", {"agency": "a", "ip": "10.0.0.5"}, "ip", "outside 198.18.0.0/15"),
    ("deface", {"host": "a", "content": 5}, "content", "text"),
    ("deface", {"host": "a", "path": "/srv/www/index.html"}, "path", "under /var"),
])
def test_check_refuses_bad_params(kind, params, key, word):
    problems = KINDS[kind].check(params)
    assert any(k == key and word in m for k, m in problems), problems


def test_check_accepts_good_params_and_describes():
    good = {"eicar": {"host": "a"}, "service": {"host": "a", "service": "telnet"},
            "antivirus": {"host": "a", "state": "stale", "signature_age_hours": 100},
            "backup": {"host": "a", "state": "aged", "hours": 48},
            "brute_force": {"attacker": "a", "target": "b", "success": True},
            "rogue_host": {"agency": "x", "ip": "198.18.5.5"}, "deface": {"host": "a"}}
    assert set(good) == set(KINDS)
    for kind, params in good.items():
        assert KINDS[kind].check(params) == [], kind
        line = KINDS[kind].describe(params)
        assert line and "\n" not in line
    assert KINDS["brute_force"].targets(good["brute_force"]) == ["a", "b"]
    assert KINDS["rogue_host"].targets(good["rogue_host"]) == ["198.18.5.5"]
    assert KINDS["eicar"].check("host=a") != []


def test_parse_gives_the_kinds_frozen_parameters():
    p = KINDS["eicar"].parse({"host": "a"})
    assert (type(p).__name__, p.host, p.path, p.scan) == ("EicarParams", "a",
                                                          "/var/lib/citysec-data/documents/hoa-don.exe", True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.host = "b"
    assert KINDS["eicar"].parse(p) is p and KINDS["eicar"].describe(p) == KINDS["eicar"].describe({"host": "a"})
    assert KINDS["brute_force"].targets(KINDS["brute_force"].parse({"attacker": "a", "target": "b"})) == ["a", "b"]
    with pytest.raises(UsageError, match=r"inject backup: state: required; hours: expected a number of hours"):
        KINDS["backup"].parse({"host": "a", "hours": "soon"})


# ----- each type on the range
def test_eicar(rng):
    params = {"host": "a-pc1"}
    path = "/var/lib/citysec-data/documents/hoa-don.exe"
    assert cat(rng, "a-pc1", path).returncode != 0
    facts = run_inject(rng, "eicar", params)
    assert cat(rng, "a-pc1", path).stdout == EICAR
    log = cat(rng, "a-pc1", "/var/log/clamav/clamav.log").stdout
    assert f"{path}: Eicar-Test-Signature.UNOFFICIAL FOUND" in log
    undo(rng, "eicar", params, facts)
    assert cat(rng, "a-pc1", path).returncode != 0
    assert rng.exec("a-pc1", ["test", "-d", "/var/lib/citysec-data"]).returncode != 0, "its folders go too"
    rng.drop_file("a-pc1", path, EICAR)  # the cleanup defeated: the file is back
    assert any("a-pc1" in p and path in p for p in KINDS["eicar"].verify(rng, params, facts))
    undo(rng, "eicar", params, facts)


def test_eicar_without_scan_leaves_clamav_log_alone(rng):
    params = {"host": "a-srv2", "path": "/var/tmp/x.com", "scan": False}
    log = "/var/log/clamav/clamav.log"
    before = cat(rng, "a-srv2", log).stdout
    facts = run_inject(rng, "eicar", params)
    assert facts["scan"] is None and cat(rng, "a-srv2", log).stdout == before
    assert KINDS["eicar"].apply(rng, params)["sha256"] == facts["sha256"], "apply twice is harmless"
    undo(rng, "eicar", params, facts)


def test_service_start(rng):
    params = {"host": "a-pc1", "service": "telnet"}
    assert not reachable(rng, IP["a-pc1"], 23)
    facts = run_inject(rng, "service", params)
    assert facts["was_listening"] is False
    assert reachable(rng, IP["a-pc1"], 23)
    undo(rng, "service", params, facts)
    assert not reachable(rng, IP["a-pc1"], 23)
    rng.service("a-pc1", "telnet", "start")  # defeated
    assert any("telnet" in p and "listens" in p for p in KINDS["service"].verify(rng, params, facts))
    undo(rng, "service", params, facts)


def test_service_start_of_a_web_server_the_host_does_not_describe(rng):
    params = {"host": "a-pc1", "service": "http"}
    facts = run_inject(rng, "service", params)
    assert "<h1>a-pc1</h1>" in page(rng, IP["a-pc1"])
    assert facts["created_files"], "its lighttpd configuration was written"
    undo(rng, "service", params, facts)
    assert not reachable(rng, IP["a-pc1"], 80)
    assert all(rng.exec("a-pc1", ["test", "-e", f]).returncode != 0 for f in facts["created_files"])


def test_service_stop(rng):
    params = {"host": "a-pc1", "service": "vnc", "action": "stop"}
    assert banner(rng, IP["a-pc1"], 5900).startswith(b"RFB 003.008")
    facts = run_inject(rng, "service", params)
    assert facts["was_listening"] is True and not reachable(rng, IP["a-pc1"], 5900)
    undo(rng, "service", params, facts)
    assert banner(rng, IP["a-pc1"], 5900).startswith(b"RFB 003.008")
    with pytest.raises(UsageError, match="does not run"):
        KINDS["service"].apply(rng, {"host": "a-pc1", "service": "ftp", "action": "stop"})


def test_antivirus_stopped(rng):
    params = {"host": "a-srv2", "state": "stopped"}
    assert rng.exec("a-srv2", ["pgrep", "-x", "clamd"]).returncode == 0
    facts = run_inject(rng, "antivirus", params)
    assert facts["clamd_was_running"] is True
    assert rng.exec("a-srv2", ["pgrep", "-x", "clamd"]).returncode == 1
    undo(rng, "antivirus", params, facts)
    assert rng.exec("a-srv2", ["pgrep", "-x", "clamd"]).returncode == 0
    rng.service("a-srv2", "clamd", "stop")  # defeated
    assert any("clamd is not running" in p for p in KINDS["antivirus"].verify(rng, params, facts))
    undo(rng, "antivirus", params, facts)


def db_age_h(rng, host: str) -> float:
    """The database's build time as ClamAV's own sigtool reads it from the header."""
    info = rng.exec(host, ["sigtool", "--info=/var/lib/clamav/daily.cud"], check=True).stdout
    built = next(ln.split(":", 1)[1].strip() for ln in info.splitlines() if ln.startswith("Build time"))
    epoch = float(rng.exec(host, ["date", "-d", built, "+%s"], check=True).stdout)
    return (time.time() - epoch) / 3600


def test_antivirus_stale(rng):
    params = {"host": "a-pc1", "state": "stale", "signature_age_hours": 100}
    assert db_age_h(rng, "a-pc1") < 7
    facts = run_inject(rng, "antivirus", params)
    assert 99.9 < db_age_h(rng, "a-pc1") < 100.5
    assert rng.exec("a-pc1", ["pgrep", "-x", "clamd"]).returncode == 0, "clamd kept running"
    undo(rng, "antivirus", params, facts)
    assert db_age_h(rng, "a-pc1") < 7, "back to the described age (6 h at up)"
    rng.set_antivirus("a-pc1", {"signature_age_hours": 200})  # defeated
    assert any("signature database" in p for p in KINDS["antivirus"].verify(rng, params, facts))
    undo(rng, "antivirus", params, facts)


def test_backup_aged_restic(rng):
    params = {"host": "a-srv1", "state": "aged", "hours": 10}
    assert [round(a) for a in ages_h(rng, "a-srv1")] == [3, 27]
    facts = run_inject(rng, "backup", params)
    assert len(facts["forgotten"]) == 1
    assert [round(a) for a in ages_h(rng, "a-srv1")] == [27], "the 3 h snapshot is gone"
    undo(rng, "backup", params, facts)
    ages = ages_h(rng, "a-srv1")
    assert ages[0] < 0.5 and round(ages[-1]) == 27, "a fresh snapshot now"
    last = cat(rng, "a-srv1", "/var/log/backup.log").stdout.splitlines()[-1]
    assert last.endswith("backup finished: OK")


def archives(rng, host: str) -> dict[str, int]:
    out = rng.exec(host, ["sh", "-c", f"stat -c '%n %Y' /var/backups/{host}-*.tar.gz"]).stdout
    return {ln.split()[0]: int(ln.split()[1]) for ln in out.splitlines()}


def test_backup_aged_files(rng):
    params = {"host": "a-srv2", "state": "aged", "hours": 10}
    before = archives(rng, "a-srv2")
    assert len(before) == 2
    facts = run_inject(rng, "backup", params)
    left = archives(rng, "a-srv2")
    assert len(left) == 1 and (time.time() - max(left.values())) / 3600 > 27
    undo(rng, "backup", params, facts)
    assert archives(rng, "a-srv2") == before, "the same files, same times"
    newest = f"/var/backups/{facts['moved'][0]}"
    rng.exec("a-srv2", ["mv", newest, "/var/tmp/"], check=True)  # defeated: the newest archive is gone again
    assert any("not back in place" in p for p in KINDS["backup"].verify(rng, params, facts))
    assert any("newest files backup" in p for p in KINDS["backup"].verify(rng, params, {}))
    rng.exec("a-srv2", ["mv", f"/var/tmp/{os.path.basename(newest)}", newest], check=True)
    assert KINDS["backup"].verify(rng, params, facts) == [] and archives(rng, "a-srv2") == before


def test_backup_failing(rng):
    params = {"host": "a-srv1", "state": "failing"}
    facts = run_inject(rng, "backup", params)
    tail = cat(rng, "a-srv1", "/var/log/backup.log").stdout.splitlines()[-2:]
    assert "ERROR: Fatal" in tail[0] and tail[1].endswith("backup finished: FAILED (exit 1)")
    undo(rng, "backup", params, facts)
    assert cat(rng, "a-srv1", "/var/log/backup.log").stdout.splitlines()[-1].endswith("backup finished: OK")
    rng.set_backup("a-srv1", "failing")  # defeated
    assert any("not OK" in p for p in KINDS["backup"].verify(rng, params, facts))
    undo(rng, "backup", params, facts)


def open_session(rng, attacker: str, target_ip: str) -> paramiko.Transport:
    """A logged-in SSH session from the attacker's namespace that stays open (test's own client)."""
    transport = paramiko.Transport(connect_in_netns(rng.host(attacker).netns, target_ip, 22, timeout=10))
    transport.start_client(timeout=10)
    transport.auth_publickey("citysec", paramiko.Ed25519Key.from_private_key_file(rng.operator_key))
    return transport


def test_brute_force_with_success(rng):
    params = {"attacker": "x-atk", "target": "a-pc1", "attempts": 6, "success": True}
    facts = run_inject(rng, "brute_force", params)
    log = cat(rng, "a-pc1", "/var/log/auth.log").stdout.splitlines()
    fails = [ln for ln in log if "Failed password for invalid user admin from 198.19.227.66 port" in ln]
    assert len(fails) >= 6
    assert any("Accepted publickey for citysec from 198.19.227.66 port" in ln for ln in log)
    assert "uid=" in facts["output"] and "citysec" in facts["output"]
    undo(rng, "brute_force", params, facts)  # applied() stays true: the log lines are history
    session = open_session(rng, "x-atk", IP["a-pc1"])  # the attacker is in again and stays
    try:
        deadline = time.monotonic() + 10
        while not (left := KINDS["brute_force"].verify(rng, params, facts)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any("a-pc1" in p and "198.19.227.66" in p for p in left), left
        KINDS["brute_force"].cleanup(rng, params, facts)
        assert KINDS["brute_force"].verify(rng, params, facts) == []
        out = rng.exec("a-pc1", ["ss", "-Htn", "state", "established", "dst", IP["x-atk"]]).stdout
        assert out.strip() == ""
        assert rng.exec("a-pc1", ["pgrep", "-f", "sshd_config"]).returncode == 0, "the listener lives"
        assert banner(rng, IP["a-pc1"], 22).startswith(b"SSH-2.0")
    finally:
        session.close()


def test_rogue_host(rng):
    params = {"agency": "dj-a", "ip": ROGUE_IP}
    assert not reachable(rng, ROGUE_IP, 22)
    facts = run_inject(rng, "rogue_host", params)
    assert banner(rng, ROGUE_IP, 22).startswith(b"SSH-2.0")
    assert facts["netns"] in os.listdir("/run/netns")
    assert KINDS["rogue_host"].apply(rng, params) == facts, "apply twice: the same device"
    undo(rng, "rogue_host", params, facts)
    assert not reachable(rng, ROGUE_IP, 22)
    assert facts["netns"] not in os.listdir("/run/netns")
    with open(os.path.join(rng.state_dir, "state.json")) as fh:
        assert json.load(fh).get("rogues") == []
    assert rng.is_up(), "the range is as described again"
    assert rng.configured_at(ROGUE_IP) is None


def test_deface(rng):
    params = {"host": "a-srv1"}
    path = "/var/www/html/index.html"
    rng.exec("a-srv1", ["chmod", "0640", path], check=True)
    original, mode = host_sha(rng, "a-srv1", path), rng.exec("a-srv1", ["stat", "-c", "%a", path]).stdout
    assert "<h1>a-srv1</h1>" in page(rng, IP["a-srv1"])
    facts = run_inject(rng, "deface", params)
    assert "HACKED" in page(rng, IP["a-srv1"])
    again = KINDS["deface"].apply(rng, params)
    assert again["sha256_original"] == facts["sha256_original"] == original, "apply twice keeps the original"
    undo(rng, "deface", params, facts)
    assert host_sha(rng, "a-srv1", path) == original
    assert rng.exec("a-srv1", ["stat", "-c", "%a", path]).stdout == mode
    assert "<h1>a-srv1</h1>" in page(rng, IP["a-srv1"])
    rng.drop_file("a-srv1", path, "<h1>still hacked</h1>")  # defeated
    assert any("differs from the original" in p for p in KINDS["deface"].verify(rng, params, facts))
    undo(rng, "deface", params, facts)
    assert hashlib.sha256(cat(rng, "a-srv1", path).stdout.encode()).hexdigest() == original


# ----- the scope guard, and unknown hosts at apply time
def _snapshot(rng) -> tuple:
    files = sorted((d, f, os.stat(os.path.join(d, f)).st_mtime_ns)
                   for d, _, fs in os.walk(rng.state_dir) for f in fs)
    return sorted(os.listdir("/run/netns")), files


@pytest.mark.parametrize("kind,params,word", [
    ("eicar", {"host": "nosuch"}, "not a host of range dj"),
    ("brute_force", {"attacker": "x-atk", "target": "nosuch"}, "not a host of range dj"),
    ("rogue_host", {"agency": "dj-a", "ip": "10.0.0.5"}, "outside"),
    ("rogue_host", {"agency": "dj-a", "ip": "198.51.100.7"}, "outside"),
    ("rogue_host", {"agency": "dj-a", "ip": "198.18.5.5"}, "none of range dj's networks"),
    ("rogue_host", {"agency": "dj-a", "ip": "198.19.227.70"}, "none of agency dj-a's networks"),
    ("rogue_host", {"agency": "nosuch", "ip": "198.19.225.60"}, "not an agency"),
    ("teleport", {"host": "a-pc1"}, "unknown inject type"),
])
def test_scope_check_refuses_and_nothing_acts(rng, kind, params, word):
    before = _snapshot(rng)
    problems = scope_check(rng, kind, params)
    assert any(word in p for p in problems), problems
    assert _snapshot(rng) == before


def test_scope_check_approved_never_leaves_the_range_block(rng):
    assert scope_check(rng, "rogue_host", {"agency": "dj-a", "ip": "198.18.5.5"}, {"198.18.5.0/24"}) == []
    assert any("outside" in p for p in scope_check(rng, "rogue_host", {"agency": "dj-a", "ip": "10.0.0.5"},
                                                    {"10.0.0.0/8"}))
    assert scope_check(rng, "deface", {"host": "a-srv1"}) == []


def test_apply_refuses_an_unknown_host(rng):
    before = _snapshot(rng)
    for kind, params in (("eicar", {"host": "nosuch"}), ("deface", {"host": "nosuch"}),
                         ("brute_force", {"attacker": "nosuch", "target": "a-pc1"}),
                         ("service", {"host": "nosuch", "service": "ftp"})):
        with pytest.raises(UsageError, match="no host 'nosuch'"):
            KINDS[kind].apply(rng, params)
    with pytest.raises(UsageError):
        KINDS["antivirus"].apply(rng, {"host": "x-atk", "state": "stopped"})  # has no antivirus
    with pytest.raises(UsageError, match="not a rogue"):
        rng.remove_rogue("a-pc1")  # a described host is never unplugged
    assert _snapshot(rng) == before


# ----- after a crash: the runner lost the facts; applied/cleanup/verify work from the range alone
@pytest.mark.parametrize("kind,params", [
    ("deface", {"host": "a-srv1", "content": "<h1>owned</h1>\n"}),
    ("rogue_host", {"agency": "dj-a", "ip": "198.19.225.51"}),
    ("backup", {"host": "a-srv2", "state": "aged", "hours": 10}),
    ("service", {"host": "a-pc1", "service": "http-admin"}),
    ("eicar", {"host": "a-pc1", "path": "/var/tmp/invoice.pdf.exe", "scan": False}),
])
def test_lost_facts(rng, kind, params):
    k = KINDS[kind]
    k.apply(rng, params)  # the facts never reached the runner's store
    assert k.applied(rng, params, {})
    k.cleanup(rng, params, {})
    assert k.verify(rng, params, {}) == []
    assert not k.applied(rng, params, {})
    assert rng.is_up(), "the range equals its description again"


def test_files_are_written_only_inside_the_hosts_own_var(rng):
    """A symbolic link inside a host resolves in the machine's file system: refused, nothing written."""
    rng.exec("a-pc1", ["ln", "-s", "/etc", "/var/tmp/etc-link"], check=True)
    try:
        for kind in ("eicar", "deface"):
            with pytest.raises(UsageError, match="symbolic link"):
                KINDS[kind].apply(rng, {"host": "a-pc1", "path": "/var/tmp/etc-link/citysec-dj-drill.exe"})
        assert not os.path.exists("/etc/citysec-dj-drill.exe")
        with pytest.raises(UsageError, match="folder"):
            KINDS["deface"].apply(rng, {"host": "a-pc1", "path": "/var/tmp"})
    finally:
        rng.exec("a-pc1", ["rm", "/var/tmp/etc-link"], check=True)
