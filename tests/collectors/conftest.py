"""The collectors' range (name co, 198.19.32.0/20) and a city config that points at it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess

import pytest

from tests.range_support import build_range

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "collectors")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CITYSEC = os.path.join(REPO, ".venv", "bin", "citysec")


def fingerprint(public: str) -> str:
    blob = base64.b64decode(public.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class Env:
    def __init__(self, rng, config: str, var: str):
        self.rng, self.config, self.var = rng, config, var

    def citysec(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([CITYSEC, "--config", self.config, *args], capture_output=True, text=True,
                              timeout=300, cwd=REPO, input=input, env={**os.environ, "CI": "1"})
        if check and proc.returncode != 0:
            raise AssertionError(f"citysec {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> object:
        return json.loads(self.citysec(*args, "--json").stdout)

    def store(self):
        from findings import Store
        return Store(os.path.join(self.var, "citysec.db"))


@pytest.fixture(scope="session")
def co(tmp_path_factory):
    state = tmp_path_factory.mktemp("co-range")
    var = tmp_path_factory.mktemp("co-var")
    with build_range(os.path.join(FIX, "range-co.yaml"), "co", state) as rng:
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(state / "wrong_key")], check=True)
        with open(os.path.join(FIX, "city-co.yaml.tmpl")) as fh:
            text = fh.read().replace("{STATE}", str(state)).replace("{VAR}", str(var))
        config = var / "city.yaml"
        config.write_text(text)
        env = Env(rng, str(config), str(var))
        accept = var / "fingerprints.txt"
        accept.write_text("".join(f"{ip} {fingerprint(k)}\n" for ip, k in rng.host_keys().items()))
        rows = env.json("hosts", "enroll", "--accept-from", str(accept))
        assert {r["status"] for r in rows if r["name"] != "a2-gone"} == {"recorded"}, rows
        yield env
