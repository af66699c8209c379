"""All 65,535 TCP ports of 52 hosts: citysec's SYN sweeper (scanners/synsweep.py) vs
`masscan -p1-65535 --rate R` vs `nmap -sS -p- --min-rate R`, same rate R, same hosts, alternated,
median of BENCH_REPS (3), at 0 % and 1 % induced loss (nftables on the range's core:
`numgen random mod 100 < 1 drop`, both directions). Each engine runs as a child process in the
sensor's namespace: wall time, CPU seconds (user + system of the child) and the open ports it
found against the range's ground truth. Then the end-to-end figure on BENCH_E2E_HOSTS hosts:
the `portsweep` job (sweep + nmap -sV on the found ports) vs `nmap -sV -p-`.
Targets: 100 % found at 0 % and 1 % loss; wall ≤ 1.1× masscan and ≤ 0.5× nmap.
Builds its own range `swb` (198.18.144.0/20) and removes it afterwards.
"""

from __future__ import annotations

import json
import os
import re
import resource
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

RATE = int(os.environ.get("BENCH_RATE", "50000"))
REPS = int(os.environ.get("BENCH_REPS", "3"))
LOSSES = [int(x) for x in os.environ.get("BENCH_LOSS", "0,1").split(",") if x.strip()]   # "": end-to-end only
E2E_HOSTS = int(os.environ.get("BENCH_E2E_HOSTS", "6"))
PORTS = int(os.environ.get("BENCH_PORTS", "65535"))   # fewer only for a quick look: the target is 65,535
NETNS, CORE, GW = "cs-swb-soc", "cs-swb-core", "198.18.144.1"
MOVED = [[{"name": "telnet", "port": 2323}], [{"name": "redis", "port": 16379}], [{"name": "vnc", "port": 45900}],
         [{"name": "mysql", "port": 33060}, {"name": "smb", "port": 4445}], [{"name": "docker-api", "port": 12375}]]


def spec() -> dict:
    hosts = []
    for i in range(52):
        net, last = 145 + i // 26, 11 + i % 26
        svcs = MOVED[i // 4 % len(MOVED)] if i % 4 == 0 else []
        hosts.append({"name": f"b{i:02d}", "ip": f"198.18.{net}.{last}", "services": svcs})
    return {"sensors": [{"name": "soc", "ip": "198.18.144.10"}],
            "agencies": [{"id": "soc", "networks": [{"cidr": "198.18.144.0/24", "zone": "management"}], "hosts": []},
                         {"id": "bench", "networks": [{"cidr": "198.18.145.0/24", "zone": "lan"},
                                                      {"cidr": "198.18.146.0/24", "zone": "server"}],
                          "hosts": hosts}]}


def truth(sp: dict) -> set[tuple[str, int]]:
    return {(h["ip"], p) for h in sp["agencies"][1]["hosts"]
            for p in [22] + [s["port"] for s in h["services"]] if p <= PORTS}


CITY = """name: bench
sensor: swb-soc
sensors: [{{id: swb-soc, name: bench sensor, agency: soc, address: 198.18.144.10, netns: cs-swb-soc}}]
agencies:
  - {{id: soc, name: SOC, kind: department, networks: [{{cidr: 198.18.144.0/24, zone: management, sensor: swb-soc, exclude: [198.18.144.1]}}]}}
  - id: bench
    name: Bench
    kind: department
    networks:
      - {{cidr: 198.18.145.0/24, zone: lan, sensor: swb-soc, exclude: [198.18.145.1]}}
      - {{cidr: 198.18.146.0/24, zone: server, sensor: swb-soc, exclude: [198.18.146.1]}}
policies:
  version_intensity: 2
  host_timeout_seconds: 600
  discovery_rate_pps: 5000
  sweep_rate_pps: {rate}
  services:
    - {{forbid: [telnet, vnc, docker-api, redis, smb, mysql]}}
store: {{path: {db}}}
"""

OURS = """import json, sys
from scanners import synsweep
r = synsweep.sweep(sys.argv[3:], range(1, int(sys.argv[2]) + 1), pps=int(sys.argv[1]))
print(json.dumps({"open": {h: sorted(p) for h, p in r.open.items()}, "passes": [vars(p) for p in r.passes]}))
"""


def child(argv: list[str]) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    out = subprocess.run(["ip", "netns", "exec", NETNS, *argv], capture_output=True, text=True, check=False,
                         stdin=subprocess.DEVNULL, cwd=ROOT)
    wall = time.monotonic() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{argv[0]} failed ({out.returncode}): {out.stderr[-800:]}")
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, out.stdout


def run_ours(hosts: list[str]) -> tuple[float, float, set]:
    wall, cpu, out = child([sys.executable, "-c", OURS, str(RATE), str(PORTS), *hosts])
    return wall, cpu, {(h, p) for h, ports in json.loads(out)["open"].items() for p in ports}


def run_masscan(hosts: list[str]) -> tuple[float, float, set]:
    wall, cpu, out = child(["masscan", f"-p1-{PORTS}", "--rate", str(RATE), "--interface", "eth0",
                            "--router-ip", GW, "-oL", "-", *hosts])
    return wall, cpu, {(m[1], int(m[0])) for m in re.findall(r"^open tcp (\d+) (\S+)", out, re.MULTILINE)}


def run_nmap(hosts: list[str]) -> tuple[float, float, set]:
    wall, cpu, out = child(["nmap", "-n", "-Pn", "-sS", f"-p1-{PORTS}", "--min-rate", str(RATE), "-oG", "-", *hosts])
    found = set()
    for host, ports in re.findall(r"^Host: (\S+) .*?Ports: (.*)$", out, re.MULTILINE):
        found |= {(host, int(p)) for p in re.findall(r"(\d+)/open/tcp", ports)}
    return wall, cpu, found


def loss(percent: int) -> None:
    nft = ["ip", "netns", "exec", CORE, "nft"]
    subprocess.run(nft + ["delete", "table", "inet", "bench_loss"], capture_output=True, check=False)
    if percent:
        subprocess.run(nft + ["-f", "-"], check=True, text=True, input=(
            "table inet bench_loss {\n chain lossy {\n  type filter hook forward priority 0;\n"
            f"  numgen random mod 100 < {percent} drop\n }}\n}}\n"))


def main() -> None:
    sp = spec()
    want = truth(sp)
    hosts = [h["ip"] for h in sp["agencies"][1]["hosts"]]
    engines = {"citysec": run_ours, "masscan": run_masscan, "nmap": run_nmap}
    res: dict = {"rate_pps": RATE, "hosts": len(hosts), "ports": PORTS, "open_truth": len(want), "reps": REPS}
    with tempfile.TemporaryDirectory() as tmp, build_range(sp, "swb", os.path.join(tmp, "range")):
        print(f"range swb up: {len(hosts)} hosts, {PORTS} ports each, R = {RATE} pps", flush=True)
        for pct in LOSSES:
            loss(pct)
            runs: dict = {n: [] for n in engines}
            for _ in range(REPS):
                for name, fn in engines.items():   # alternated
                    wall, cpu, found = fn(hosts)
                    runs[name].append((wall, cpu, len(found & want), len(found - want)))
                    print(f"  loss {pct}% {name}: {wall:.1f} s, cpu {cpu:.1f} s, found {len(found & want)}/{len(want)}",
                          flush=True)
            res[f"loss_{pct}"] = {n: {"wall_s": round(statistics.median(r[0] for r in v), 2),
                                      "cpu_s": round(statistics.median(r[1] for r in v), 2),
                                      "found": min(r[2] for r in v), "extra": max(r[3] for r in v),
                                      "runs": [[round(x, 2) for x in r[:2]] + list(r[2:]) for r in v]}
                                  for n, v in runs.items()}
        loss(0)
        e2e = hosts[:E2E_HOSTS]
        with open(os.path.join(tmp, "city.yaml"), "w", encoding="utf-8") as fh:
            fh.write(CITY.format(rate=RATE, db=os.path.join(tmp, "bench.db")))
        app = App(config_path=os.path.join(tmp, "city.yaml"))
        t = time.monotonic()
        _, counts = run_job(app, "portsweep", targets=tuple(e2e))
        ours = time.monotonic() - t
        wall, cpu, out = child(["nmap", "-n", "-Pn", "-sS", "-sV", "--version-intensity", "2", "-p-", "-T4",
                                "-oG", "-", *e2e])
        res["end_to_end"] = {"hosts": len(e2e), "portsweep_job_s": round(ours, 2), "nmap_sV_p_all_s": round(wall, 2),
                             "ratio": round(ours / wall, 3), "open_ports_job": counts["open_ports"],
                             "open_ports_nmap": len(re.findall(r"\d+/open/tcp", out))}
    for pct in LOSSES:
        r = res[f"loss_{pct}"]
        print(f"\n{pct} % loss, R = {RATE} pps, {len(hosts)} hosts × {PORTS} ports, truth {len(want)} open")
        print(f"{'':10}{'wall s':>9}{'cpu s':>9}{'found':>10}")
        for n in engines:
            print(f"{n:10}{r[n]['wall_s']:>9}{r[n]['cpu_s']:>9}{r[n]['found']:>6}/{len(want)}")
        r["ratio_vs_masscan"] = round(r["citysec"]["wall_s"] / r["masscan"]["wall_s"], 3)
        r["ratio_vs_nmap"] = round(r["citysec"]["wall_s"] / r["nmap"]["wall_s"], 3)
        print(f"citysec/masscan {r['ratio_vs_masscan']} (target ≤ 1.1), citysec/nmap {r['ratio_vs_nmap']} (≤ 0.5)")
    print(f"\nend to end on {E2E_HOSTS} hosts: {res['end_to_end']}")
    os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
    with open(os.path.join(ROOT, "bench", "results", "scan_fullports.json"), "w") as fh:
        json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
