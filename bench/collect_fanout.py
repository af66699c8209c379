"""Benchmark: antivirus + backup collection from every host of a 200-host range (name cb,
198.19.96.0/19: 20 agencies × 10 hosts) — citysec's collectors (one SSH connection per host,
parsing, judging and recording into a store) vs `ansible all -m raw -f 50` running the same
shell script. Target: citysec ≥ 3× faster.

Run as root: .venv/bin/python bench/collect_fanout.py [--keep] [--hosts-per-agency N]
Backups are `files` (a restic snapshot listing costs the same scrypt key derivation to both
tools and would hide the transport's cost).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from collectors import outcomes, script  # noqa: E402
from collectors.catalogue import catalogue  # noqa: E402
from collectors.engine import run_cycle  # noqa: E402
from collectors.hostkeys import KnownHosts  # noqa: E402
from collectors.ssh import Target  # noqa: E402
from collectors.tasks import AntivirusTask, BackupPlan, BackupTask  # noqa: E402
from exercises.range import Range, load_spec  # noqa: E402
from findings import Store  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PLAN = BackupPlan("bench", "files-daily", "files", "/var/backups/*.tar.gz", min_size=1024, max_age_hours=30,
                  log="/var/log/backup.log")


def spec(agencies: int, per: int) -> dict:
    ags = [{"id": "soc", "networks": [{"cidr": "198.19.127.0/24", "zone": "management"}], "hosts": []}]
    for a in range(agencies):
        hosts = []
        for h in range(per):
            av = {"signature_age_hours": 5 + (h * 13) % 100, "daemon": h == 1} if h % 7 else {"installed": False}
            hosts.append({"name": f"a{a:02d}-h{h:02d}", "ip": f"198.19.{96 + a}.{11 + h}", "antivirus": av,
                          "backup": {"method": "files", "files": [{"hours_ago": 2 + h * 5, "size": 4096}]}})
        ags.append({"id": f"a{a:02d}", "networks": [{"cidr": f"198.19.{96 + a}.0/24"}], "hosts": hosts})
    return {"name": "cb", "sensors": [{"name": "soc", "ip": "198.19.127.10"}], "agencies": ags}


def run_citysec(rng: Range, known: KnownHosts, workers: int) -> dict:
    targets = [Target(agency=h.agency, name=h.name, ip=h.ip, key_file=rng.operator_key, netns=rng.sensor_netns,
                      system="bench") for h in rng.hosts]
    tmp = tempfile.mkdtemp(prefix="cb-store-")
    store = Store(os.path.join(tmp, "citysec.db"))
    t0 = time.monotonic()
    results = run_cycle(targets, [AntivirusTask(), BackupTask({"bench": PLAN})], known, workers=workers)
    now = datetime.now(timezone.utc)
    cat = catalogue()
    av, health = outcomes.antivirus_findings(results, cat, outcomes.AvPolicy(72, True, False), now)
    bk = outcomes.backup_findings(results, cat, {"bench": PLAN}, {}, now)
    store.record(av + bk, run_id="bench")
    elapsed = time.monotonic() - t0
    shutil.rmtree(tmp)
    return {"seconds": round(elapsed, 2), "hosts_ok": sum(r.error is None for r in results),
            "errors": sorted({r.error.reason for r in results if r.error})[:3],
            "healthy_av": sum(h.healthy for h in health.values()), "findings": len(av) + len(bk)}


def run_ansible(rng: Range, known_file: str, forks: int, command: str) -> dict:
    tmp = tempfile.mkdtemp(prefix="cb-ansible-")
    inv = os.path.join(tmp, "hosts.ini")
    with open(inv, "w") as fh:
        fh.write("[range]\n" + "".join(f"{h.ip}\n" for h in rng.hosts))
    with open(os.path.join(tmp, "ansible.cfg"), "w") as fh:
        fh.write("[defaults]\nhost_key_checking = True\ngathering = explicit\nretry_files_enabled = False\n"
                 f"local_tmp = {tmp}/local\n[ssh_connection]\npipelining = True\n"
                 f"ssh_args = -o UserKnownHostsFile={known_file} -o StrictHostKeyChecking=yes "
                 f"-o ControlMaster=no -o BatchMode=yes\n")
    env = {**os.environ, "ANSIBLE_CONFIG": os.path.join(tmp, "ansible.cfg"), "ANSIBLE_HOME": tmp,
           "ANSIBLE_STDOUT_CALLBACK": "minimal", "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "PATH":
           os.path.join(REPO, ".venv", "bin") + ":" + os.environ["PATH"]}
    argv = ["ip", "netns", "exec", rng.sensor_netns, os.path.join(REPO, ".venv", "bin", "ansible"), "all",
            "-i", inv, "-m", "raw", "-a", command, "-f", str(forks), "-u", "citysec",
            "--private-key", rng.operator_key]
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800, cwd=tmp)
    elapsed = time.monotonic() - t0
    ok = len(re.findall(r"^\S+ \| (?:CHANGED|SUCCESS) \| rc=0", proc.stdout, re.M))
    if ok < len(rng.hosts):
        print(proc.stdout[-1500:], proc.stderr[-1500:], file=sys.stderr)
    shutil.rmtree(tmp)
    return {"seconds": round(elapsed, 2), "hosts_ok": ok, "rc": proc.returncode}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agencies", type=int, default=20)
    ap.add_argument("--hosts-per-agency", type=int, default=10)
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--forks", type=int, default=50)
    ap.add_argument("--keep", action="store_true", help="leave the range up")
    args = ap.parse_args()
    state = os.path.join(REPO, "var", "bench-cb")
    rng = Range(load_spec(spec(args.agencies, args.hosts_per_agency)), state)
    up = rng.up()
    try:
        known_file = os.path.join(state, "known_hosts")
        with open(known_file, "w") as fh:
            fh.write("".join(f"{ip} {k}\n" for ip, k in rng.host_keys().items()))
        known = KnownHosts(known_file)
        text, _ = script.build(AntivirusTask().sections(None) + BackupTask({"bench": PLAN}).sections(
            Target(agency="x", name="x", ip="0.0.0.0", system="bench")))
        rows = {}
        rows["citysec"] = run_citysec(rng, known, args.workers)     # warm-up of the hosts' page cache too
        rows["citysec"] = run_citysec(rng, known, args.workers)
        rows["ansible"] = run_ansible(rng, known_file, args.forks, text)
        speedup = rows["ansible"]["seconds"] / rows["citysec"]["seconds"]
        n = len(rng.hosts)
        print(f"hosts: {n}  (range up: {up.get('total_s', 'reused')} s)")
        print(f"{'tool':<10} {'seconds':>8} {'hosts ok':>9} {'hosts/s':>8}")
        for name, r in rows.items():
            print(f"{name:<10} {r['seconds']:>8.2f} {r['hosts_ok']:>9} {n / r['seconds']:>8.1f}")
        print(f"speed-up: {speedup:.1f}x (target >= 3x)")
        os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
        with open(os.path.join(REPO, "bench", "results", "collect_fanout.json"), "w") as fh:
            json.dump({"hosts": n, "range_up": up, **rows, "speedup": round(speedup, 2),
                       "at": datetime.now(timezone.utc).isoformat()}, fh, indent=1)
    finally:
        if not args.keep:
            rng.down()


if __name__ == "__main__":
    main()
