"""Helpers of the Elasticsearch tests: a city config pointing at a server, the command, findings.

A uniquely named module (several test folders have a conftest.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from findings import Finding

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "examples" / "haiphong.yaml"
CITYSEC = str(Path(sys.executable).parent / "citysec")
AGENCIES = ("vp-ubnd", "so-tttt", "q-hong-bang", "q-ngo-quyen")


def write_config(folder: Path, url: str, credentials: dict | None = None, **es: object) -> Path:
    """The example city with its store in ``folder`` and Elasticsearch at ``url``."""
    city = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    city["store"] = {"path": str(folder / "citysec.db")}
    city["elasticsearch"] = {"hosts": [url], "namespace": "test", "batch_size": 500, **es}
    city.setdefault("credentials", {}).update(credentials or {})
    path = folder / "city.yaml"
    path.write_text(yaml.safe_dump(city, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def citysec(config: Path, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([CITYSEC, "--config", str(config), *args], capture_output=True, text=True, check=False,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=str(config.parent))


def as_json(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def findings(n: int, run: str, *, verdict: str = "fail", area: str = "exposure") -> list[Finding]:
    """``n`` state findings of distinct hosts, with scanned text in their details."""
    out = []
    for i in range(n):
        ag = AGENCIES[i % len(AGENCIES)]
        out.append(Finding(check=f"{area}.telnet", agency=ag, verdict=verdict, severity="high",
                           message=f"telnet open on 198.18.{i // 250}.{i % 250 + 1}", host_ip=f"198.18.{i // 250}.{i % 250 + 1}",
                           port=23, transport="tcp", service_name="telnet", run_id=run,
                           details={"banner": f"BusyBox v1.{i} login:", "raw": {f"k{i % 7}": i}}))
    return out


def alerts(n: int, run: str) -> list[Finding]:
    return [Finding(check="logs.ssh_bruteforce", agency=AGENCIES[i % 4], kind="alert", severity="medium",
                    message=f"{10 + i} failed logins", source_ip=f"198.18.200.{i % 250 + 1}", run_id=run,
                    host_ip="198.18.1.20", details={"attempts": 10 + i}) for i in range(n)]
