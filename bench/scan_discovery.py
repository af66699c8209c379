"""Discovery of the benchmark range's 17 networks: `citysec` discovery job vs `nmap -sn`.

Same run, same targets (every network of bench_city.yaml minus its exclusions and the sensor),
both from the sensor's namespace, alternated, median of 3. Target: citysec ≤ 1.0× nmap.
Builds its own range `sb` (198.19.160.0/19) and removes it afterwards.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
os.chdir(ROOT)

from citysec.cli.context import App
from citysec.jobs import run_job
from tests.range_support import build_range

FIX = os.path.join(ROOT, "tests", "fixtures", "scanners")
REPS = 3


def bench_config(tmp: str) -> str:
    with open(os.path.join(FIX, "bench_city.yaml"), encoding="utf-8") as fh:
        text = fh.read().replace("path: var/bench-scan.db", f"path: {tmp}/bench.db")
    path = os.path.join(tmp, "city.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def nmap_sn_argv(app: App) -> list[str]:
    nets = [n for a in app.city.agencies for n in a.networks]
    excl = [e for n in nets for e in n.exclude] + ["198.19.160.10"]
    return ["ip", "netns", "exec", "cs-sb-soc", "nmap", "-n", "-sn", "-oX", "-", "--exclude", ",".join(excl),
            *[n.cidr for n in nets]]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, build_range(os.path.join(FIX, "bench_range.yaml"), "sb",
                                                           os.path.join(tmp, "range")):
        app = App(config_path=bench_config(tmp))
        ours, theirs, live_ours, live_nmap = [], [], 0, 0
        for _ in range(REPS):
            t = time.monotonic()
            _, counts = run_job(app, "discovery")
            ours.append(time.monotonic() - t)
            live_ours = counts["live"]
            t = time.monotonic()
            out = subprocess.run(nmap_sn_argv(app), check=False, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            theirs.append(time.monotonic() - t)
            live_nmap = out.stdout.count('<status state="up"')
        a, b = statistics.median(ours), statistics.median(theirs)
        res = {"addresses": counts["addresses"], "citysec_s": round(a, 2), "nmap_sn_s": round(b, 2),
               "ratio": round(a / b, 3), "live_citysec": live_ours, "live_nmap": live_nmap,
               "runs_citysec": [round(x, 2) for x in ours], "runs_nmap": [round(x, 2) for x in theirs]}
    print(f"{'':24}{'citysec':>10}{'nmap -sn':>10}")
    print(f"{'median seconds':24}{res['citysec_s']:>10}{res['nmap_sn_s']:>10}")
    print(f"{'live hosts':24}{res['live_citysec']:>10}{res['live_nmap']:>10}")
    print(f"ratio citysec/nmap: {res['ratio']} (target ≤ 1.0) over {res['addresses']} addresses")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "scan_discovery.json"), "w") as fh:
        json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
