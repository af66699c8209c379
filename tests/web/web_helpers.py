"""The console's test city: two agencies (so-tc, so-tttt) with findings, cases and a drill run, the
accounts of every role, and the console served by uvicorn on loopback for the whole module.

No range: the console reads the store; cases run their automated steps against hosts that are not
registered, so an action fails at once ("not a registered host") and nothing leaves the machine.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

sys.path.insert(0, str(Path(__file__).parent))

from findings import Finding

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery staple"
HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">[red]x[/red]\x1b[2J"
ACCOUNTS = {  # name → (role, agencies)
    "soc1": ("soc", []), "soc2": ("soc", []), "lead": ("viewer", []), "ctl": ("controller", []),
    "eva": ("evaluator", []), "off-tc": ("officer", ["so-tc"]), "off-tttt": ("officer", ["so-tttt"]),
}

CITY = """
name: "Thành phố Thử nghiệm"
profile: nd85
sensor: s1
sensors:
  - {id: s1, name: "Cảm biến", agency: so-tc, address: 198.18.92.10}
agencies:
  - id: so-tc
    name: "Sở Tài chính"
    name_en: "Department of Finance"
    kind: department
    networks: [{cidr: 198.18.92.0/24, zone: lan, sensor: s1}]
    hosts:
      - {name: tc-pc1, ip: 198.18.92.11, role: workstation, os: windows}
  - id: so-tttt
    name: "Sở Thông tin và Truyền thông"
    name_en: "Department of Information and Communications"
    kind: department
    networks: [{cidr: 198.18.93.0/24, zone: lan, sensor: s1}]
    hosts:
      - {name: tt-web, ip: 198.18.93.10, role: server, os: windows}
store: {path: citysec.db}
reports: {out_dir: reports-out, lang: vi}
"""


def _finding(check, agency, host, severity, message, **kw) -> Finding:
    return Finding(check=check, agency=agency, host_ip=host, verdict="fail", severity=severity, message=message,
                   run_id="seed", **kw)


def seed(app) -> dict:
    """Findings of both agencies (one with hostile text), two cases, one drill run."""
    from citysec.jobs.cases import engine
    store = app.store
    found = [
        _finding("exposure.telnet", "so-tc", "198.18.92.11", "high", "Telnet mở trên máy trạm", port=23,
                 transport="tcp", service_name="telnet", host_name="tc-pc1",
                 remediation={"vi": "Tắt dịch vụ Telnet; dùng SSH.", "en": "Disable Telnet; use SSH."}),
        _finding("av.missing", "so-tc", "198.18.92.12", "medium", HOSTILE, host_name=HOSTILE),
        _finding("exposure.rdp", "so-tttt", "198.18.93.10", "critical", "RDP mở ra mạng", port=3389,
                 transport="tcp", service_name="ms-wbt-server", host_name="tt-web"),
        _finding("backup.stale", "so-tttt", "198.18.93.10", "medium", "Bản sao lưu quá cũ", host_name="tt-web"),
    ]
    store.record(found, run_id="seed")
    rows = {r["check_id"] + "/" + r["agency"]: r for r in store.current()}
    eng = engine(app)
    telnet = json.loads(rows["exposure.telnet/so-tc"]["doc"])
    rdp = json.loads(rows["exposure.rdp/so-tttt"]["doc"])
    # hosts that are not registered: the cases' automated steps fail without any connection
    case_tc = eng.open_case("forbidden-service", agency="so-tc", findings=[telnet], host="198.18.92.99")
    eng.advance(case_tc)
    case_tttt = eng.open_case("forbidden-service", agency="so-tttt", findings=[rdp], host="198.18.93.99")
    eng.advance(case_tttt)
    from tests.exercises.test_evaluation import make_run
    make_run(store, "drill-1")
    return {"fp": {k: r["fingerprint"] for k, r in rows.items()}, "cases": {"so-tc": case_tc, "so-tttt": case_tttt},
            "run": "drill-1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """uvicorn in a thread on 127.0.0.1, stopped at the end of the module."""

    def __init__(self, app):
        from citysec.web.app import create_app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=self.port,
                                                   log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """(App, seeded ids) of a fresh city in its own folder."""
    from citysec.app import App
    from citysec.web.accounts import Accounts
    d = tmp_path_factory.mktemp("web-city")
    (d / "city.yaml").write_text(CITY, encoding="utf-8")
    app = App(config_path=str(d / "city.yaml"))
    ids = seed(app)
    accounts = Accounts(app.store, [a.id for a in app.city.agencies])
    for name, (role, agencies) in ACCOUNTS.items():
        accounts.add(name, role, PASSWORD, agencies=agencies, by="test")
    return app, ids


@pytest.fixture(scope="module")
def console(city):
    served = Served(city[0])
    yield served
    served.stop()


def login(base: str, name: str, password: str = PASSWORD) -> httpx.Client:
    """An HTTP client logged in as ``name`` (its cookies are the session)."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/login")
    pre = client.cookies.get("citysec_pre")
    r = client.post("/login", data={"name": name, "password": password, "csrf": pre, "next": "/"})
    assert r.status_code == 303, (name, r.status_code, r.text[:300])
    assert page.status_code == 200
    return client


def csrf_of(client: httpx.Client, path: str = "/") -> str:
    import re
    html = client.get(path).text
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)
