"""The syslog receiver and the SSH transport's bad-input handling, on the co range."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from collectors.engine import run_cycle
from collectors.hostkeys import KnownHosts
from collectors.ssh import CollectError, Session, Target, Timeouts

CITYSEC = os.path.join(os.path.dirname(__file__), "..", "..", ".venv", "bin", "citysec")

pytestmark = pytest.mark.range
SENSOR_IP = "198.19.32.10"


def test_syslog_over_udp_and_tcp_lands_as_events(co):
    port = "5514"
    proc = subprocess.Popen([CITYSEC, "--config", co.config, "syslog", "serve", "--bind", f"{SENSOR_IP}:{port}",
                             "--max-messages", "3", "--duration", "60"],
                            stderr=subprocess.PIPE, text=True)
    try:
        assert "listening" in proc.stderr.readline()
        send = ["logger", "-n", SENSOR_IP, "-P", port]
        co.rng.exec("a1-pc1", send + ["-d", "--rfc3164", "-t", "fw01", "udp 3164 hello"], check=True)
        co.rng.exec("a1-pc1", send + ["-T", "--rfc5424", "-t", "fw01", "--msgid", "ID7", "tcp 5424 hello"],
                    check=True)
        co.rng.exec("a2-pc1", send + ["-T", "--rfc3164", "-t", "sshd",
                                       "Failed password for root from 198.19.32.66 port 4242 ssh2"], check=True)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    rows = co.store().query("SELECT agency, host, doc FROM events WHERE check_id='log.event' AND doc LIKE '%syslog%'")
    got = {json.loads(r["doc"])["message"]: (r["agency"], r["host"], json.loads(r["doc"])) for r in rows}
    assert got["udp 3164 hello"][:2] == ("a1", "198.19.33.11")
    assert got["tcp 5424 hello"][:2] == ("a1", "198.19.33.11")
    ssh = got["Failed password for root from 198.19.32.66 port 4242 ssh2"]
    assert ssh[0] == "a2" and ssh[2]["source"]["ip"] == "198.19.32.66"
    assert ssh[2]["citysec"]["logs"]["action"] == "ssh-login" and ssh[2]["citysec"]["logs"]["origin"] == "syslog"


def _target(co, name, **kw):
    h = co.rng.host(name)
    return Target(agency=h.agency, name=name, ip=h.ip, key_file=co.rng.operator_key, netns=co.rng.sensor_netns, **kw)


@pytest.fixture(scope="module")
def known(co):
    return KnownHosts(os.path.join(co.var, "known_hosts"))


def test_huge_output_is_capped_and_hanging_command_times_out(co, known):
    with Session(_target(co, "a1-pc1"), known, Timeouts(command=3), max_output=1 << 20) as s:
        big = s.run("yes garbage | head -c 50000000")
        assert big.truncated and len(big.stdout) <= 1 << 20
        t0 = time.monotonic()
        with pytest.raises(CollectError) as exc:
            s.run("sleep 30")
        assert exc.value.kind == "timeout" and time.monotonic() - t0 < 10
    with Session(_target(co, "a1-pc1"), known, Timeouts(command=20), max_output=8 << 20) as s:
        both = s.run("head -c 3000000 /dev/zero >&2; echo done")     # stderr past the window: no deadlock
        assert both.rc == 0 and both.stdout == b"done\n" and len(both.stderr) == 3000000


def test_a_session_survives_many_capped_commands(co, known):
    # Closing a channel while the server still sends used to race paramiko's transport thread
    # (the select() pipe behind chan.fileno(): EBADF/EPIPE killed the connection about 1 run in 20).
    with Session(_target(co, "a1-pc2"), known, Timeouts(command=10), max_output=64 << 10) as s:
        for i in range(30):
            big = s.run("yes garbage | head -c 5000000")
            assert big.truncated, i
            assert s.run(f"echo {i}").stdout == f"{i}\n".encode(), i


def test_jump_host_reaches_a_host_through_a_bastion(co, known):
    bastion = _target(co, "a2-pc1")
    t = _target(co, "a1-pc1", jump=bastion, legacy_algorithms=True)
    with Session(t, known) as s:
        assert s.run("hostname").stdout.strip() == b"a1-pc1"
    deadline = time.monotonic() + 15          # sshd -> syslogd -> file is asynchronous: poll
    while "Accepted publickey for citysec from 198.19.36.11" not in (
            log := co.rng.exec("a1-pc1", ["cat", "/var/log/auth.log"]).stdout) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Accepted publickey for citysec from 198.19.36.11" in log      # came from the bastion


class Garbage:
    name = "garbage"

    def __init__(self, snippet):
        self.snippet = snippet

    def sections(self, target):
        return [("g", self.snippet)]

    def parse(self, target, sections):
        from collectors.antivirus import parse_linux
        return parse_linux({"av.which": sections["g"], "av.db": sections["g"]})


def test_bad_output_gives_error_results_and_other_hosts_are_still_collected(co, known):
    good, huge = _target(co, "a1-pc1", collect=("garbage",)), _target(co, "a1-pc3", collect=("garbage",))
    gone = Target(agency="a2", name="gone", ip="198.19.36.99", key_file=co.rng.operator_key,
                  netns=co.rng.sensor_netns, collect=("garbage",))
    nokey = Target(agency="a2", name="nokey", ip="198.19.36.11", key_file="/nonexistent/key", collect=("garbage",),
                   netns=co.rng.sensor_netns)
    snippet = "printf 'missing clamscan\\n\\033[31m\\001\\377 junk\\n'; nosuchcommand-citysec"
    results = run_cycle([good, gone, nokey], [Garbage(snippet)], known, timeouts=Timeouts(connect=2))
    results += run_cycle([huge], [Garbage("yes | head -c 20000000")], known, max_output=1 << 20)
    by = {r.target.name: r for r in results}
    assert by["a1-pc1"].error is None and by["a1-pc1"].values["garbage"].installed is not None
    assert by["gone"].error.kind == "unreachable"
    assert by["nokey"].error.kind == "auth" and "/nonexistent/key" in by["nokey"].error.reason
    assert by["a1-pc3"].error.kind == "output" and "passed" in by["a1-pc3"].error.reason


def test_enrolment_fetches_a_key_through_the_jump_host(co, known):
    from collectors.hostkeys import fetch_host_key
    from citysec.cli.collect_hosts import _fetch
    t = _target(co, "a1-pc2", jump=_target(co, "a2-pc1"))
    via_jump = _fetch(t, known)
    direct = fetch_host_key(t.ip, netns=co.rng.sensor_netns)
    assert via_jump.fingerprint == direct.fingerprint and via_jump.hid == "198.19.33.12"


def test_a_log_backlog_larger_than_the_output_cap_is_read_over_several_cycles(co, known):
    from collectors.tasks import LogsTask
    host, log = "a2-pc1", "/var/log/syslog"
    lines = [f"Nov 30 11:{i // 60 % 60:02d}:{i % 60:02d} a2-pc1 daemon.info backlog[1]: line {i:06d} " + "x" * 60
             for i in range(40000)]                                     # ~3.6 MB
    co.rng.append_log(host, log, lines)
    cursors, seen = {}, []
    task = LogsTask(lambda t: [log], lambda ip, path: cursors.get((ip, path)))
    for _ in range(10):
        res = run_cycle([_target(co, host, collect=("logs",))], [task], known, max_output=1 << 20)[0]
        assert res.error is None, res.error
        got = res.values["logs"][log]
        cursors[(res.target.ip, log)] = got["cursor"]
        seen += [raw.decode() for _, _, raw in got["lines"]]
        if len(seen) >= len(lines):
            break
    assert seen == lines
