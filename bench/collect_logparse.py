"""Benchmark: log parsing — lines per second over a generated 1,000,000-line auth log
(sshd failures and successes, sudo, useradd, noise), parsed to events (the issue's target:
≥ 150,000 lines/s), then run through the detections; the whole path from lines to events and
alerts is reported beside it (no target of its own).

Run: .venv/bin/python bench/collect_logparse.py [--lines N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from collectors import detections, logparse

BLOCK = 8 * 1024 * 1024     # the collector's read cap per file and cycle
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def generate(path: str, n: int) -> None:
    rnd = random.Random(7)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    templates = [
        (40, "sshd[{pid}]: Failed password for {inv}{user} from 198.19.{a}.{b} port {port} ssh2"),
        (10, "sshd[{pid}]: Invalid user {user} from 198.19.{a}.{b} port {port}"),
        (15, "sshd[{pid}]: Accepted publickey for citysec from 198.19.32.10 port {port} ssh2: ED25519 SHA256:abc"),
        (10, "sshd[{pid}]: Connection closed by authenticating user {user} 198.19.{a}.{b} port {port} [preauth]"),
        (5, "sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
        (1, "useradd[{pid}]: new user: name={user}, UID=1001, GID=1001, home=/home/{user}, shell=/bin/bash"),
        (19, "CRON[{pid}]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)"),
    ]
    weights = [w for w, _ in templates]
    users = ["admin", "root", "oracle", "test", "ubuntu", "citysec", "guest"]
    with open(path, "w") as fh:
        buf = []
        for i in range(n):
            ts = start + timedelta(seconds=i * 2)
            tpl = rnd.choices(templates, weights)[0][1]
            user = rnd.choice(users)
            buf.append(f"{ts:%b %e %H:%M:%S} srv{i % 7} auth.info " + tpl.format(
                pid=rnd.randrange(100, 99999), user=user, inv="invalid user " if user not in ("root", "citysec") else "",
                a=rnd.randrange(32, 48), b=rnd.randrange(1, 255), port=rnd.randrange(1024, 65535)) + "\n")
            if len(buf) >= 10000:
                fh.writelines(buf)
                buf.clear()
        fh.writelines(buf)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "auth.log")
        generate(path, args.lines)
        size = os.path.getsize(path)
        clock = logparse.TimeParser(datetime(2026, 12, 31, tzinfo=UTC))
        t0, c0 = time.perf_counter(), time.process_time()
        n = classified = 0
        parse_s = 0.0
        found: list = []
        detector = detections.SshDetector(failures=5, window=300)
        with open(path, "rb") as fh:       # blocks of whole lines, as the log collector reads them
            offset, rest = 0, b""
            while True:
                data = fh.read(BLOCK)
                if not data:
                    break
                data = rest + data
                end = data.rfind(b"\n") + 1
                p0 = time.perf_counter()
                events = logparse.parse_chunk(data[:end], offset, clock, file=path)
                parse_s += time.perf_counter() - p0
                ssh, other = detections.split(events)
                found += detector.feed(ssh)
                found += detections.single_line(other)
                n += len(events)
                classified += len(ssh) + len(other)
                offset, rest = offset + end, data[end:]
        t2, c2 = time.perf_counter(), time.process_time()
        t1 = t0 + parse_s
    rows = {"lines": n, "bytes": size, "parse_s": round(t1 - t0, 2), "detect_s": round(t2 - t1, 2),
            "parse_lines_per_s": round(n / (t1 - t0)), "total_lines_per_s": round(n / (t2 - t0)),
            "cpu_s": round(c2 - c0, 2), "total_lines_per_cpu_s": round(n / (c2 - c0)),
            "classified": classified, "alerts": len(found), "load_average": round(os.getloadavg()[0], 2)}
    print(f"{'lines':>10} {'parse s':>8} {'detect s':>9} {'parse l/s':>10} {'total l/s':>10} {'alerts':>7}")
    print(f"{n:>10} {rows['parse_s']:>8.2f} {rows['detect_s']:>9.2f} {rows['parse_lines_per_s']:>10} "
          f"{rows['total_lines_per_s']:>10} {len(found):>7}")
    print(f"CPU time {rows['cpu_s']} s: {rows['total_lines_per_cpu_s']} lines per CPU second "
          f"(wall and CPU differ when the machine is shared)")
    print(f"target: log parsing >= 150000 lines/s: {'met' if rows['parse_lines_per_s'] >= 150000 else 'NOT met'} "
          f"({rows['parse_lines_per_s']} lines/s); with detections {rows['total_lines_per_s']} lines/s; "
          f"load average {os.getloadavg()[0]:.2f}")
    os.makedirs(os.path.join(REPO, "bench", "results"), exist_ok=True)
    with open(os.path.join(REPO, "bench", "results", "collect_logparse.json"), "w") as fh:
        json.dump({**rows, "at": datetime.now(UTC).isoformat()}, fh, indent=1)


if __name__ == "__main__":
    main()
