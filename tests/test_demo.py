"""The README's main job: `citysec demo` on the embedded defaults finds what the example range holds.

It builds the Hải Phòng range (namespaces `cs-hp-*`, 198.18.0.0/16), runs one full cycle in a
temporary working folder (its own store, known_hosts and reports) and takes the range down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def citysec(*args: str, cwd) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "citysec")
    env = {k: v for k, v in os.environ.items() if k != "CITYSEC_CONFIG"}
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=1200,
                          check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("demo")
    out = citysec("demo", "--down", cwd=cwd)
    yield cwd, out
    citysec("range", "down", cwd=cwd)


def test_demo_runs_a_full_cycle_and_writes_the_report(demo):
    _, out = demo
    assert out.returncode == 0, out.stderr[-3000:]
    for job in ("discovery", "services", "portsweep", "antivirus", "backup", "logs", "cases", "reports"):
        assert f"\n{job} " in "\n" + out.stderr, (job, out.stderr[-2000:])
    report = [line.split(": ", 1)[1] for line in out.stdout.splitlines() if line.startswith("report: ")]
    assert report and os.path.getsize(report[0]) > 10_000
    with open(report[0], encoding="utf-8") as fh:
        assert "Báo cáo" in fh.read()


def test_demo_finds_what_the_range_holds(demo):
    cwd, _ = demo
    rows = json.loads(citysec("findings", "list", "--json", cwd=cwd).stdout)
    found = {(r["check_id"], r["host"]) for r in rows}
    expected = {
        ("exposure.telnet", "198.18.10.12"),      # vp-pc02: telnet in a LAN
        ("exposure.redis", "198.18.40.12"),       # syt-pc02: redis in a LAN
        ("exposure.snmp-public", "198.18.70.20"), # ch-srv: SNMP community public
        ("av.missing", "198.18.30.11"),           # stc-pc01: no antivirus
        ("av.outdated", "198.18.70.20"),          # ch-srv: signatures 400 h old
        ("backup.stale", "198.18.21.10"),         # tttt-backup: restic 80 h old
        ("backup.failed", "198.18.31.10"),        # stc-ketoan: failing job
        ("discovery.rogue", "198.18.60.66"),      # nq-rogue: not in the register
        ("exposure.vnc", "198.18.60.66"),         # nq-rogue: vnc moved to 45900, found by the full sweep
    }
    assert expected <= found, expected - found
    moved = [r for r in rows if (r["check_id"], r["host"], r["port"]) == ("exposure.vnc", "198.18.60.66", 45900)]
    assert moved and moved[0]["verdict"] == "fail" and "not on its usual port" in moved[0]["message"]
    assert ("av.missing", "198.18.10.11") not in found   # vp-pc01 is healthy
    # the range was taken down: no namespace of it is left
    left = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    assert not [n for n in left if n.startswith("cs-hp-")]
