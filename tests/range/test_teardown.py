"""down leaves nothing: no namespace, link, process or mount; also after a crashed run."""

from __future__ import annotations

import os
import subprocess

import pytest

from exercises.range import Range, load_spec
from findings.errors import UsageError

pytestmark = pytest.mark.range

SPEC = {"name": "rt", "sensors": [{"name": "soc", "ip": "198.19.8.10"}],
        "agencies": [{"id": "z", "networks": ["198.19.8.0/24"],
                      "hosts": [{"name": "z1", "ip": "198.19.8.11", "services": ["redis"]},
                                {"name": "z2", "ip": "198.19.8.12"}]}]}


def leftovers(state_dir: str) -> dict:
    nss = [n for n in os.listdir("/run/netns") if n.startswith("cs-rtd-")] if os.path.isdir("/run/netns") else []
    procs, mounts = [], []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if state_dir.encode() in fh.read():
                    procs.append(pid)
            with open(f"/proc/{pid}/mountinfo") as fh:
                if state_dir in fh.read():
                    mounts.append(pid)
        except OSError:  # a process that ended meanwhile, or a kernel thread
            continue
    return {"namespaces": nss, "processes": procs, "mounts": mounts}


def test_down_removes_everything_also_after_a_crash(tmp_path):
    state_dir = str(tmp_path / "rtd")
    rng = Range(load_spec({**SPEC, "name": "rtd"}), state_dir=state_dir)
    rng.up()
    assert leftovers(state_dir)["namespaces"] and leftovers(state_dir)["processes"]
    assert rng.up() == {"reused": True}
    os.remove(os.path.join(state_dir, "state.json"))  # a crashed run: the state file is gone
    fresh = Range(load_spec({**SPEC, "name": "rtd"}), state_dir=state_dir)
    assert fresh.down()["removed_namespaces"] == 4
    assert leftovers(state_dir) == {"namespaces": [], "processes": [], "mounts": []}
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "198.19.8" not in subprocess.run(["ip", "-o", "-4", "addr"], capture_output=True, text=True).stdout
    assert "v0@" not in links


def test_refuses_an_address_already_used_on_the_machine(tmp_path):
    blocker = "cs-rtb-block"
    subprocess.run(["ip", "netns", "add", blocker], check=True)
    try:
        subprocess.run(["ip", "-n", blocker, "link", "add", "d0", "type", "veth", "peer", "name", "d1"], check=True)
        subprocess.run(["ip", "-n", blocker, "addr", "add", "198.19.8.11/32", "dev", "d0"], check=True)
        rng = Range(load_spec({**SPEC, "name": "rte"}), state_dir=str(tmp_path / "rte"))
        with pytest.raises(UsageError, match="198.19.8.11 .used by namespace cs-rtb-block"):
            rng.up()
        assert not [n for n in os.listdir("/run/netns") if n.startswith("cs-rte-")]
    finally:
        subprocess.run(["ip", "netns", "del", blocker], check=True)
