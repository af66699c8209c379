"""Benchmark: the web console under 20 concurrent sessions, beside the commands that compute the same
figures, in the same run.

A city of 300 agencies, 20,000 hosts and 1,000,000 history documents (the data of
bench/report_annual.py: monthly observations of antivirus, backup, exposure and rogue-device checks
from July 2025 to December 2026, log alerts, case events), its current findings, 60 incident cases
opened by the case engine, and console accounts. The console runs as `citysec serve` (its own
process, uvicorn on loopback); locust (headless, 20 users, each logged in once) asks four pages:

| page | the command computing the same figures |
|---|---|
| city dashboard (soc) | `report periodic --format json` + `report ranking --format json` + `findings list --json` |
| agency dashboard (officer) | `report periodic --agency A --format json` + `findings list --agency A --json` |
| filtered findings page (officer: exposure, high+) | `findings list --agency A --check exposure --severity high --json` |
| case page (soc) | `case show ID --json` |

    .venv/bin/python bench/console.py [--docs 1000000] [--users 20] [--seconds 60] [--dir KEEP]

Writes bench/results/console.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import report_annual as ra  # the same synthetic city as the annual report's benchmark

from findings import Store

PASSWORD = "bench password 1234"
PERIOD = "2026-H2"


def city_yaml(n_agencies: int) -> str:
    lines = ['name: "Thành phố đo tải"', "profile: nd85", "sensor: s1", "sensors:",
             "  - {id: s1, name: s1, agency: ag-000, address: 198.19.255.10}", "agencies:"]
    for i in range(n_agencies):
        lines += [f"  - id: ag-{i:03d}", f'    name: "Cơ quan {i}"', f'    name_en: "Agency {i}"', "    kind: department",
                  f"    networks: [{{cidr: 198.19.{i // 2}.{(i % 2) * 128}/25, zone: lan, sensor: s1}}]"]
    lines += ["store: {path: citysec.db}", "reports: {out_dir: reports-out, lang: vi}"]
    return "\n".join(lines) + "\n"


def fill_current(store: Store) -> int:
    """The current table: the newest history observation of each fingerprint (what the store keeps)."""
    with store.write() as c:
        c.execute(
            "INSERT OR REPLACE INTO current (fingerprint, kind, check_id, dataset, agency, host, port, transport,"
            " verdict, severity, status, first_seen, last_seen, last_checked, opened_at, closed_at, reopen_count,"
            " last_run, doc)"
            " SELECT h.fingerprint, 'state', h.check_id, h.dataset, h.agency, h.host,"
            " json_extract(h.doc, '$.server.port'), json_extract(h.doc, '$.network.transport'), h.verdict,"
            " h.severity, h.status, json_extract(h.doc, '$.citysec.first_seen'), json_extract(h.doc, '$.citysec.last_seen'),"
            " h.ts, CASE WHEN h.status != 'closed' THEN json_extract(h.doc, '$.citysec.first_seen') END,"
            " CASE WHEN h.status = 'closed' THEN h.ts END, 0, h.run_id, h.doc"
            " FROM history h JOIN (SELECT fingerprint, max(ts) AS ts FROM history GROUP BY fingerprint) l"
            " ON l.fingerprint = h.fingerprint AND l.ts = h.ts")
    store.query("ANALYZE")
    return store.query("SELECT count(*) FROM current")[0][0]


def open_cases(app, n: int, rnd: random.Random) -> list[str]:
    from citysec.jobs.cases import engine
    eng = engine(app)
    rows = app.store.query("SELECT doc, agency FROM current WHERE check_id LIKE 'exposure.%' AND status != 'closed'"
                           " LIMIT ?", (n * 4,))
    ids = []
    for row in rnd.sample(list(rows), min(n, len(rows))):
        doc = json.loads(row["doc"])
        # an address of no registered host: the automated steps fail at once, nothing is contacted
        ids.append(eng.open_case("forbidden-service", agency=row["agency"], findings=[doc], host="198.19.254.99"))
    return ids


def cli(config: Path, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([str(ROOT / ".venv/bin/citysec"), "--config", str(config), *args], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=config.parent)
    return time.perf_counter() - t


LOCUSTFILE = '''
import os, random, re
from locust import HttpUser, between, task

PASSWORD = os.environ["BENCH_PASSWORD"]
CASES = os.environ["BENCH_CASES"].split(",")
AGENCY = os.environ["BENCH_AGENCY"]


class Session(HttpUser):
    abstract = True
    wait_time = between(0.5, 1.5)
    account = ""

    def on_start(self):
        self.client.get("/login", name="login")
        pre = self.client.cookies.get("citysec_pre")
        self.client.post("/login", data={"name": self.account, "password": PASSWORD, "csrf": pre, "next": "/"},
                         name="login", allow_redirects=False)


class Soc(Session):
    account = "bench-soc"

    @task(2)
    def city(self):
        self.client.get("/", name="city dashboard")

    @task(2)
    def case(self):
        self.client.get("/cases/" + random.choice(CASES), name="case page")


class Officer(Session):
    account = "bench-off"

    @task(2)
    def agency(self):
        self.client.get("/", name="agency dashboard")

    @task(2)
    def findings(self):
        self.client.get("/findings?agency=" + AGENCY + "&check=exposure&severity=high", name="findings page")
'''


def percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=1_000_000)
    ap.add_argument("--agencies", type=int, default=300)
    ap.add_argument("--hosts", type=int, default=20_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--dir", type=Path, help="keep the built city here and reuse it when it is there already"
                    " (built by the same arguments): for profiling and reruns")
    args = ap.parse_args()
    rnd = random.Random(7)
    tmp = args.dir or Path(tempfile.mkdtemp(prefix="bench-console-"))
    tmp.mkdir(parents=True, exist_ok=True)
    config = tmp / "city.yaml"
    built = tmp / "built.json"
    if built.exists():
        meta = json.loads(built.read_text())
        n_current, cases, agency = meta["current"], meta["cases"], meta["agency"]
    else:
        n_current, cases, agency = build(args, tmp, config, rnd)
        if args.dir:
            built.write_text(json.dumps({"current": n_current, "cases": cases, "agency": agency}))
    run(args, tmp, config, n_current, cases, agency)


def build(args, tmp: Path, config: Path, rnd: random.Random) -> tuple[int, list[str], str]:
    """The synthetic city: its store, cases and accounts."""
    config.write_text(city_yaml(args.agencies), encoding="utf-8")
    orgs, hosts = ra.city(args.agencies, args.hosts)
    fps = ra.fingerprints(hosts, rnd)
    hist = list(ra.history_docs(fps, args.docs, rnd))
    events = list(ra.event_docs(hosts, rnd))
    store = Store(tmp / "citysec.db", synchronous="OFF")
    ra.load_sqlite(store, hist, events)
    del hist, events
    n_current = fill_current(store)
    store.close()

    from citysec.app import App
    from citysec.web.accounts import Accounts
    app = App(config_path=str(config))
    cases = open_cases(app, 60, rnd)
    agency = "ag-007"
    accounts = Accounts(app.store, [f"ag-{i:03d}" for i in range(args.agencies)])
    accounts.add("bench-soc", "soc", PASSWORD, by="bench")
    accounts.add("bench-off", "officer", PASSWORD, agencies=[agency], by="bench")
    app.store.close()
    return n_current, cases, agency


def run(args, tmp: Path, config: Path, n_current: int, cases: list[str], agency: str) -> None:
    # the commands, three times each (median)
    commands = {
        "city dashboard": [("report", "periodic", "--period", PERIOD, "--format", "json"),
                           ("report", "ranking", "--period", PERIOD, "--format", "json"),
                           ("findings", "list", "--json")],
        "agency dashboard": [("report", "periodic", "--period", PERIOD, "--agency", agency, "--format", "json"),
                             ("findings", "list", "--agency", agency, "--json")],
        "findings page": [("findings", "list", "--agency", agency, "--check", "exposure", "--severity", "high",
                           "--json")],
        "case page": [("case", "show", cases[0], "--json")],
    }
    cmd_s = {page: statistics.median(sum(cli(config, *argv) for argv in argvs) for _ in range(3))
             for page, argvs in commands.items()}

    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen([str(ROOT / ".venv/bin/citysec"), "--config", str(config), "serve",
                               "--bind", f"127.0.0.1:{port}"], cwd=tmp, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        import httpx
        deadline = time.monotonic() + 600
        while True:       # up, and the dashboard figures warmed
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the console did not start: " + (server.stderr.read().decode() if server.stderr else ""))
            time.sleep(0.5)
        warm = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=900)
        warm.get("/login")
        warm.post("/login", data={"name": "bench-soc", "password": PASSWORD, "csrf": warm.cookies.get("citysec_pre")})
        t = time.perf_counter()
        warm.get("/")
        first_dashboard_s = time.perf_counter() - t
        (tmp / "locustfile.py").write_text(LOCUSTFILE)
        env = dict(os.environ, BENCH_PASSWORD=PASSWORD, BENCH_CASES=",".join(cases), BENCH_AGENCY=agency)
        load = subprocess.run([str(ROOT / ".venv/bin/locust"), "-f", str(tmp / "locustfile.py"), "--headless",
                        "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s",
                        "--host", f"http://127.0.0.1:{port}", "--csv", str(tmp / "load"), "--only-summary"],
                       check=False, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not (tmp / "load_stats.csv").exists():
            raise SystemExit("locust failed: " + load.stderr.decode()[-2000:])
    finally:
        server.terminate()
        server.wait(timeout=60)
    stats = {}
    import csv
    with open(tmp / "load_stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["Name"] in commands:
                stats[row["Name"]] = {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
                                      "p50_ms": float(row["50%"]), "p95_ms": float(row["95%"]),
                                      "rps": round(float(row["Requests/s"]), 1)}
    res = {"agencies": args.agencies, "hosts": args.hosts, "history_docs": args.docs, "current_findings": n_current,
           "cases": len(cases), "users": args.users, "seconds": args.seconds,
           "first_city_dashboard_s": round(first_dashboard_s, 2), "pages": {}}
    print(f"{args.docs:,} history documents, {n_current:,} current findings, {args.users} sessions, {args.seconds} s")
    print(f"{'page':<18} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7} {'fail':>5} {'command s':>10} {'p95/command':>12}")
    for page in commands:
        s = stats.get(page, {"requests": 0, "failures": 0, "p50_ms": float("nan"), "p95_ms": float("nan"), "rps": 0})
        ratio = s["p95_ms"] / 1000 / cmd_s[page]
        res["pages"][page] = s | {"command_s": round(cmd_s[page], 2), "p95_over_command": round(ratio, 3)}
        print(f"{page:<18} {s['p50_ms']:>8.0f} {s['p95_ms']:>8.0f} {s['rps']:>7} {s['failures']:>5} "
              f"{cmd_s[page]:>10.2f} {ratio:>12.3f}")
    print(f"first city dashboard after start (figures warmed in the background): {first_dashboard_s:.2f} s")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    if (tmp / "load_failures.csv").exists():
        failures = (tmp / "load_failures.csv").read_text()
        (out / "console-failures.csv").write_text(failures)
        if failures.count("\n") > 1:
            print("failures (bench/results/console-failures.csv):\n" + failures[:2000])
    (out / "console.json").write_text(json.dumps(res, indent=2))
    if not args.dir:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
