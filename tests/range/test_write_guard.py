"""The one guard for files the range writes inside a host (issue #19): only inside the host's own
/var, /run and /dev, never through a symbolic link; refused with a clear error (exit 2 through the
command) and nothing written. On the session range `rt`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from findings.errors import UsageError
from tests.range.conftest import SPEC

pytestmark = pytest.mark.range
HOST = "a1-pc01"
OUTSIDE = "/etc/citysec-rt-guard-probe"   # on the machine: must never appear
CITYSEC = os.path.join(os.path.dirname(sys.executable), "citysec")


@pytest.fixture
def link_out(rng):
    """/var/tmp/out inside the host: a link to the machine's /etc (and a link as the last part)."""
    rng.exec(HOST, ["ln", "-s", "/etc", "/var/tmp/out"], check=True)
    rng.exec(HOST, ["ln", "-s", OUTSIDE, "/var/tmp/probe-link"], check=True)
    assert not os.path.exists(OUTSIDE)
    yield
    rng.exec(HOST, ["rm", "-f", "/var/tmp/out", "/var/tmp/probe-link"], check=True)
    assert not os.path.exists(OUTSIDE)


@pytest.mark.parametrize("path", ["/var/tmp/out/citysec-rt-guard-probe", "/var/tmp/probe-link"])
def test_a_symbolic_link_out_of_the_host_is_refused(rng, link_out, path):
    for write in (lambda: rng.drop_file(HOST, path, "drill\n"), lambda: rng.append_log(HOST, path, ["drill"]),
                  lambda: rng.read_file(HOST, path), lambda: rng.host_path(HOST, path)):
        with pytest.raises(UsageError, match=f"{HOST}: {path}: .* is a symbolic link"):
            write()
    assert not os.path.exists(OUTSIDE)


@pytest.mark.parametrize("path,word", [
    (OUTSIDE, "only files inside a host's own /var, /run, /dev"),
    ("/tmp/citysec-rt-guard-probe", "only files inside"),
    ("/var", "only files inside"),
    ("/var/../etc/citysec-rt-guard-probe", "without '..'"),
    ("var/tmp/x", "absolute"),
])
def test_a_path_outside_var_run_dev_is_refused(rng, path, word):
    with pytest.raises(UsageError, match=word):
        rng.drop_file(HOST, path, "drill\n")
    with pytest.raises(UsageError, match=word):
        rng.append_log(HOST, path, ["drill"])
    assert not os.path.exists(OUTSIDE) and not os.path.exists("/tmp/citysec-rt-guard-probe")


def test_var_run_and_dev_of_the_host_are_written(rng):
    for path in ("/var/tmp/guard/new/ok.txt", "/run/citysec-guard-ok", "/dev/shm/citysec-guard-ok"):
        rng.drop_file(HOST, path, "inside\n", mode=0o600)
        rng.append_log(HOST, path, ["more"])
        got = rng.exec(HOST, ["stat", "-c", "%a", path], check=True).stdout.strip()
        assert rng.exec(HOST, ["cat", path], check=True).stdout == "inside\nmore\n" and got == "600"
        assert rng.remove_file(HOST, path) and rng.read_file(HOST, path) is None
    assert rng.remove_dir(HOST, "/var/tmp/guard/new") and rng.remove_dir(HOST, "/var/tmp/guard")
    assert not os.path.exists("/run/citysec-guard-ok"), "the host's /run, not the machine's"


def test_the_command_exits_2_and_writes_nothing(rng, link_out, tmp_path):
    with open(os.path.join(rng.state_dir, "spec.yaml"), "w") as fh:   # what `range up` keeps there
        yaml.safe_dump({**SPEC, "name": "rt"}, fh)
    src = tmp_path / "page.html"
    src.write_text("<h1>drill</h1>\n")
    for args in (["drop-file", HOST, "/var/tmp/out/citysec-rt-guard-probe", str(src)],
                 ["drop-file", HOST, OUTSIDE, str(src)],
                 ["log", HOST, "/var/tmp/probe-link", "a line"],
                 ["log", HOST, "/etc/citysec-rt-guard-probe", "a line"]):
        proc = subprocess.run([CITYSEC, "range", *args, "--state-dir", rng.state_dir],
                              capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert HOST in proc.stderr and args[2] in proc.stderr and "Traceback" not in proc.stderr
        assert not os.path.exists(OUTSIDE)
    ok = subprocess.run([CITYSEC, "range", "drop-file", HOST, "/var/tmp/page.html", str(src), "--state-dir",
                         rng.state_dir], capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert rng.read_file(HOST, "/var/tmp/page.html") == b"<h1>drill</h1>\n"
