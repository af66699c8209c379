"""Service scan of the benchmark range: the `citysec` services job vs plain `nmap` with the same
argument list (captured from the job's own nmap), same run, same targets, from the sensor's
namespace. Target: citysec ≤ 1.1× nmap (its own cost around nmap ≤ 10%).
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
REPS = int(os.environ.get("BENCH_REPS", "2"))


def bench_config(tmp: str) -> str:
    with open(os.path.join(FIX, "bench_city.yaml"), encoding="utf-8") as fh:
        text = fh.read().replace("path: var/bench-scan.db", f"path: {tmp}/bench.db")
    path = os.path.join(tmp, "city.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, build_range(os.path.join(FIX, "bench_range.yaml"), "sb",
                                                           os.path.join(tmp, "range")):
        app = App(config_path=bench_config(tmp))
        ours, theirs, argv = [], [], []
        for _ in range(REPS):
            t = time.monotonic()
            _, counts = run_job(app, "services", on_start=lambda p: argv.append(list(p.args)))
            ours.append(time.monotonic() - t)
            t = time.monotonic()
            out = subprocess.run(argv[-1], check=False, capture_output=True, stdin=subprocess.DEVNULL)
            theirs.append(time.monotonic() - t)
            assert out.returncode == 0, out.stderr[-500:]
        a, b = statistics.median(ours), statistics.median(theirs)
        res = {"citysec_s": round(a, 2), "nmap_s": round(b, 2), "ratio": round(a / b, 3),
               "hosts": counts["hosts"], "open_ports": counts["open_ports"], "incomplete": len(counts["incomplete"]),
               "argv": argv[-1], "runs_citysec": [round(x, 2) for x in ours], "runs_nmap": [round(x, 2) for x in theirs]}
    print(f"{'':24}{'citysec':>10}{'nmap':>10}")
    print(f"{'median seconds':24}{res['citysec_s']:>10}{res['nmap_s']:>10}")
    print(f"hosts {res['hosts']}, open ports {res['open_ports']}, incomplete {res['incomplete']}")
    print(f"ratio citysec/nmap: {res['ratio']} (target ≤ 1.1)")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "scan_services.json"), "w") as fh:
        json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
