"""Benchmark: a range of 20 agencies x 10 hosts (200 hosts, range `rb`, 198.19.128.0/19).

Targets (issue 3): up <= 60 s, down <= 30 s, memory <= 2 GiB on the 2-core machine.
Every host runs sshd and syslogd; one host in four runs the real clamd, one in five a service.
Run: .venv/bin/python bench/range_scale.py   (as root)
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from exercises.range import Range, load_spec  # noqa: E402

SERVICES = [["http"], ["telnet"], ["redis"], ["vnc"], ["ftp"]]


def spec(agencies: int = 20, per: int = 10) -> dict:
    out = []
    for a in range(agencies):
        net = f"198.19.{128 + a}"
        hosts = []
        for i in range(per):
            n = a * per + i
            hosts.append({"name": f"b{a:02d}-h{i:02d}", "ip": f"{net}.{11 + i}",
                          "services": SERVICES[n % 5] if n % 5 == 0 else [],
                          "antivirus": {"signature_age_hours": 6 + n % 100, "daemon": n % 4 == 0},
                          "backup": {"method": "files", "files": [{"hours_ago": 5 + n % 48, "size": 4096}]}})
        out.append({"id": f"ag{a:02d}", "networks": [f"{net}.0/24"], "hosts": hosts})
    out[0]["networks"].append("198.19.159.0/24")
    return {"name": "rb", "sensors": [{"name": "soc", "ip": "198.19.159.10"}], "agencies": out}


def mem_available() -> int:
    with open("/proc/meminfo") as fh:
        return next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="range-rb-") as tmp:
        rng = Range(load_spec(spec()), state_dir=tmp)
        rng.down()
        before = mem_available()
        t0 = time.monotonic()
        detail = rng.up()
        up_s = time.monotonic() - t0
        time.sleep(2)
        used = before - mem_available()
        probe = rng.sensor_exec(["ncat", "-z", "-w", "2", rng.hosts[-1].ip, "22"])
        t1 = time.monotonic()
        rng.down()
        down_s = time.monotonic() - t1
    res = {"hosts": len(rng.hosts), "up_s": round(up_s, 1), "down_s": round(down_s, 1),
           "memory_mib": round(used / 2**20), "last_host_ssh_reachable": probe.returncode == 0,
           "up_detail": detail, "targets": {"up_s": 60, "down_s": 30, "memory_mib": 2048}}
    print(f"{'hosts':<10}{'up s':>8}{'down s':>8}{'MiB':>8}  reachable")
    print(f"{res['hosts']:<10}{res['up_s']:>8}{res['down_s']:>8}{res['memory_mib']:>8}  {res['last_host_ssh_reachable']}")
    os.makedirs(os.path.join(os.path.dirname(__file__), "results"), exist_ok=True)
    with open(os.path.join(os.path.dirname(__file__), "results", "range_scale.json"), "w") as fh:
        json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
