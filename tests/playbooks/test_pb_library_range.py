"""Every built-in playbook on the range `pl` (198.19.192.0/20), with the real jobs and the real SSH
transport: each incident's condition is made real on a range host, the city's own jobs record
what they see (ClamAV + the logs job, the antivirus and backup collectors, nmap and discovery from
the sensor), the triggers open the cases by themselves (ransomware and website defacement are
opened by hand, as the agency would call them in), and every case walks its phases to `closed`
with what a responder checks after each step.

How each condition is produced (all real, nothing recorded by hand):
- malware-detected: EICAR dropped in a-pc01's data folder, scanned by its running clamd
  (CONTSCAN on clamd's socket, as a scheduled scan does) → clamav.log → logs job → alert.
- antivirus-missing: a-pc02's signatures are 100 h old, a-pc05 has no ClamAV → antivirus job.
- forbidden-service: telnet (inetutils-inetd) listens on a-pc03 → nmap from the sensor.
- ssh-brute-force: real failed SSH logins from b-atk on a-pc04 → logs job.
- rogue-device: a-rogue is on pl-a's LAN but not in its register → discovery job.
- backup-failed: a-srv01's newest restic snapshot is 80 h old → backup job.
- ransomware: a-srv02's data encrypted and a dropper left (EICAR); opened by hand.
- website-defacement: a-web's page replaced; opened by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field, replace

import pytest
from pb_helpers import SmtpSink, serve_smtp

from citysec.app import App
from citysec.jobs import run_job
from citysec.jobs.cases import context_of, wiring, zone_of
from exercises.range.state import EICAR
from findings.support.netns import connect_in_netns
from playbooks import CaseEngine, load_library
from playbooks import operations as op
from playbooks.triggers import evaluate
from tests.range_support import build_range

pytestmark = pytest.mark.range
HERE = os.path.dirname(__file__)
FIX = os.path.join(HERE, "..", "fixtures", "playbooks")
SENSOR = "198.19.192.10"
IP = {"a-pc01": "198.19.193.11", "a-pc02": "198.19.193.12", "a-pc03": "198.19.193.13", "a-pc04": "198.19.193.14",
      "a-pc05": "198.19.193.15", "a-rogue": "198.19.193.50", "a-srv01": "198.19.194.10",
      "a-srv02": "198.19.194.11", "a-web": "198.19.195.10", "b-pc01": "198.19.196.11", "b-atk": "198.19.196.66"}
SUDOERS = "/etc/sudoers.d/citysec-pl-test"
# what the responders' account may run as root on an agency host (a real agency grants it by sudoers)
SUDO_RULE = ("citysec ALL=(root) NOPASSWD: /usr/sbin/nft, /usr/sbin/usermod, /usr/bin/restic, /usr/bin/ss,"
             " /usr/bin/kill, /usr/bin/sha256sum\n")
DATA = "/var/lib/citysec-data"
REPO = ["restic", "--no-cache", "-q", "-r", "/var/backups/restic", "--password-file", "/var/backups/restic.pass"]
MALWARE = f"{DATA}/documents/hoa-don-thang-11.exe"
DOCS = {f"{DATA}/documents/cong-van-123.txt": "Công văn số 123/UBND về an toàn thông tin\n",
        f"{DATA}/documents/bao-cao-quy-4.csv": "đơn vị,điểm\nsở A,87\n",
        f"{DATA}/ho-so/2026/ho-so-0001.txt": "Hồ sơ một cửa 0001\n" * 50}


@dataclass
class Lab:
    rng: object
    app: App
    engine: CaseEngine
    var: str
    opened: dict = field(default_factory=dict)     # (playbook, host ip) → case id
    counts: dict = field(default_factory=dict)


def _sha(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()


def _config(state, var) -> str:
    with open(os.path.join(FIX, "library-city.yaml.tmpl"), encoding="utf-8") as fh:
        text = fh.read().replace("{STATE}", str(state)).replace("{VAR}", str(var))
    path = os.path.join(var, "city.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def _make_conditions(rng) -> None:
    for host in ("a-pc01", "a-srv01", "a-srv02"):
        for path, text in DOCS.items():
            rng.drop_file(host, path, text)
    # a-pc01: malware arrives in the data folder; the host's clamd finds it on its scheduled scan
    rng.drop_file("a-pc01", MALWARE, EICAR)
    scan = rng.exec("a-pc01", ["socat", "-", "UNIX-CONNECT:/run/clamav/clamd.ctl"], input=f"CONTSCAN {DATA}\n")
    assert "Eicar-Test-Signature.UNOFFICIAL FOUND" in scan.stdout, scan
    # a-srv02: last night's backup of the data, then the ransomware encrypts it and leaves a note
    rng.exec("a-srv02", [*REPO, "backup", "--tag", "nightly", DATA], timeout=120, check=True)
    for path in DOCS:
        rng.drop_file("a-srv02", path + ".locked", os.urandom(256))
        rng.exec("a-srv02", ["rm", "-f", path], check=True)
    rng.drop_file("a-srv02", f"{DATA}/README-KHOI-PHUC.txt", "Your files are encrypted. Pay 1 BTC.\n")
    rng.drop_file("a-srv02", f"{DATA}/.cache/svchost.exe", EICAR)
    # a-pc04: a real brute force from b-atk
    assert rng.brute_force("b-atk", IP["a-pc04"], "admin", 8) >= 8


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    state, var = tmp_path_factory.mktemp("pl-range"), str(tmp_path_factory.mktemp("pl-var"))
    with open(SUDOERS, "w") as fh:
        fh.write(SUDO_RULE)
    os.chmod(SUDOERS, 0o440)
    smtp = serve_smtp()
    try:
        with build_range(os.path.join(FIX, "library-range.yaml"), "pl", state) as rng:
            with open(os.path.join(var, "known_hosts"), "w") as fh:
                fh.write("".join(f"{ip} {key}\n" for ip, key in rng.host_keys().items()))
            app = App(config_path=_config(state, var))
            _make_conditions(rng)
            # what the scheduler runs; discovery and services of pl-a only (b-atk in pl-b is no rogue)
            counts = {job: run_job(app, job, **kw)[1] for job, kw in (
                ("antivirus", {}), ("backup", {}), ("logs", {}), ("discovery", {"agency": "pl-a"}),
                ("services", {"agency": "pl-a"}))}
            # the command's wiring (citysec/jobs/cases.py: each host's restic repository comes from its
            # system's backup policy), plus a local SMTP relay, which the city config does not name
            w = replace(wiring(app), smtp={"host": "127.0.0.1", "port": smtp.server_address[1],
                                           "sender": "soc@pl.example", "recipients": ["ir-team@pl.example"],
                                           "security": "plain"})
            engine = CaseEngine(app.store, load_library(), w)
            counts["cases"] = evaluate(engine, zone_of=lambda a, h: zone_of(app, a, h),
                                       context_of=lambda a, h: context_of(app, a, h))
            opened = {(r["playbook"], r["host"]): r["id"] for r in app.store.query("SELECT * FROM cases")}
            yield Lab(rng, app, engine, var, opened, counts)
    finally:
        smtp.shutdown()
        os.remove(SUDOERS)


def steps(view) -> dict:
    return {s["id"]: s for s in view["steps"]}


def reachable(rng, from_host: str | None, ip: str, port: int = 22) -> bool:
    netns = rng.sensor_netns if from_host is None else rng.host(from_host).netns
    try:
        connect_in_netns(netns, ip, port, 2).close()
        return True
    except OSError:
        return False


def host_sha(rng, host: str, path: str) -> str:
    return rng.exec(host, ["sha256sum", path], check=True).stdout.split()[0]


def close_and_check(lab: Lab, cid: str, view: dict) -> None:
    """What every closed case must show: closed, its audit chain intact, every action step done
    (or skipped by its condition), and the final report written in both languages."""
    assert view["status"] == "closed", [(s["id"], s["state"]) for s in view["steps"]]
    assert op.verify(lab.engine, cid) == []
    pb = lab.engine.playbook(view["playbook"]).playbook
    kinds = {s.id: s.kind for _, s in pb.steps()}
    assert all(s["state"] in ("done", "skipped") for s in view["steps"] if kinds[s["id"]] == "action"), view["steps"]
    if "final-report" not in kinds:                          # `citysec case report ID --kind final`
        op.generate_report(lab.engine, cid, "final", "lead-1")
    for lang in ("vi", "en"):
        path = os.path.join(lab.engine.w.reports_dir, "cases", cid, f"incident_final.{lang}.html")
        with open(path, encoding="utf-8") as fh:
            assert cid in fh.read()


def check_custody(lab: Lab, host: str, result: dict) -> None:
    """The copy's SHA-256 equals the host's; the copy is what the log held when it was frozen."""
    item = result["custody"][0]
    with open(item["stored_as"], "rb") as fh:
        data = fh.read()
    assert _sha(data) == item["sha256"] == item["sha256_on_host"]
    now = lab.rng.exec(host, ["cat", item["path"]], check=True).stdout.encode()
    assert data and now.startswith(data)


def test_the_jobs_open_exactly_the_expected_cases_by_themselves(lab):
    assert set(lab.opened) == {
        ("malware-detected", IP["a-pc01"]), ("antivirus-missing", IP["a-pc02"]),
        ("antivirus-missing", IP["a-pc05"]), ("forbidden-service", IP["a-pc03"]),
        ("ssh-brute-force", IP["a-pc04"]), ("rogue-device", IP["a-rogue"]), ("backup-failed", IP["a-srv01"])}, \
        (lab.opened, lab.counts)
    assert evaluate(lab.engine)["opened"] == 0
    view = lab.engine.show(lab.opened[("ssh-brute-force", IP["a-pc04"])])
    assert view["agency"] == "pl-a"


def test_malware_detected(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-pc01"]
    cid = lab.opened[("malware-detected", ip)]
    assert steps(eng.show(cid))["triage"]["state"] == "waiting"
    st = steps(op.complete_step(eng, cid, "triage", "soc-an"))
    assert st["notice"]["state"] == "done" and st["approve-isolate"]["state"] == "waiting"
    st = steps(op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-1", "approve"))
    assert st["isolate"]["state"] == "pending" and reachable(rng, "b-pc01", ip), "isolated on one approval"
    with pytest.raises(Exception, match="second person"):
        op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-1", "approve")
    st = steps(op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-2", "approve"))
    assert st["isolate"]["state"] == "done", st["isolate"]
    assert not reachable(rng, "b-pc01", ip) and reachable(rng, None, ip)
    check_custody(lab, "a-pc01", st["collect"]["result"])
    scan = st["full-scan"]["result"]
    assert scan["clean"] is False and scan["scanned"] == ["/home", DATA] and scan["absent"] == []
    assert scan["infected"] == [f"{MALWARE}: Eicar-Test-Signature.UNOFFICIAL FOUND"]
    assert st["clean"]["state"] == "waiting"
    rng.exec("a-pc01", ["rm", "-f", MALWARE], check=True)                  # the agency's IT removes it
    st = steps(op.complete_step(eng, cid, "clean", "agency-it"))
    assert st["rescan"]["result"]["clean"] is True and st["rescan"]["result"]["infected"] == []
    assert st["release"]["state"] == "done" and reachable(rng, "b-pc01", ip)
    op.complete_step(eng, cid, "system-test", "agency-it")
    view = op.complete_step(eng, cid, "lessons", "lead-1")
    close_and_check(lab, cid, view)


def test_antivirus_missing_and_outdated(lab):
    rng, eng = lab.rng, lab.engine
    stale, none = lab.opened[("antivirus-missing", IP["a-pc02"])], lab.opened[("antivirus-missing", IP["a-pc05"])]
    st = steps(op.complete_step(eng, stale, "confirm", "agency-it"))
    scan = st["scan"]["result"]
    assert st["scan"]["state"] == "done" and scan["clean"] is True and scan["infected"] == []
    assert DATA in scan["absent"]
    st = steps(op.complete_step(eng, none, "confirm", "agency-it"))
    assert st["scan"]["state"] == "skipped", "a host without ClamAV cannot scan"
    # the agency updates the signatures; the next antivirus collection shows it fixed
    rng.set_antivirus("a-pc02", {"signature_age_hours": 1})
    op.complete_step(eng, stale, "install-update", "agency-it")
    run_job(lab.app, "antivirus", agency="pl-a")
    (row,) = [r for r in lab.app.store.current(check="av.outdated") if r["host"] == IP["a-pc02"]]
    assert row["status"] == "closed"
    for cid in (stale, none):
        if cid == none:
            op.complete_step(eng, cid, "install-update", "agency-it")
        op.complete_step(eng, cid, "verify", "soc-an")
        close_and_check(lab, cid, op.complete_step(eng, cid, "close-note", "agency-it"))


def test_forbidden_service(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-pc03"]
    cid = lab.opened[("forbidden-service", ip)]
    assert reachable(rng, None, ip, 23)
    st = steps(op.complete_step(eng, cid, "confirm", "soc-an"))
    assert ":23 " in st["listening"]["result"]["output"]
    op.decide(eng, cid, "approve-stop", "incident_lead", "lead-1", "approve")
    st = steps(op.decide(eng, cid, "approve-stop", "incident_lead", "lead-2", "approve"))
    out = st["stop-service"]["result"]
    assert st["stop-service"]["state"] == "done" and out["port"] == 23 and out["stopped_pids"]
    assert not reachable(rng, None, ip, 23) and reachable(rng, None, ip, 22)
    op.complete_step(eng, cid, "disable", "agency-it")
    # the SOC scans again: the telnet finding closes
    run_job(lab.app, "services", agency="pl-a", targets=(ip,))
    (row,) = [r for r in lab.app.store.current(check="exposure.telnet") if r["host"] == ip]
    assert row["status"] == "closed"
    op.complete_step(eng, cid, "rescan", "soc-an")
    close_and_check(lab, cid, op.complete_step(eng, cid, "lessons", "agency-it"))


def test_ssh_brute_force(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-pc04"]
    cid = lab.opened[("ssh-brute-force", ip)]
    st = steps(op.complete_step(eng, cid, "triage", "soc-an"))
    check_custody(lab, "a-pc04", st["collect-auth-log"]["result"])
    assert st["recent-logins"]["state"] == "done" and st["notice"]["state"] == "done"
    assert reachable(rng, "b-atk", ip)
    st = steps(op.decide(eng, cid, "approve-block", "incident_lead", "lead-1", "approve"))
    assert st["block-source"]["result"]["blocked"] == IP["b-atk"]
    assert not reachable(rng, "b-atk", ip) and reachable(rng, "b-pc01", ip)
    assert {st[s]["state"] for s in ("approve-contain", "lock-account", "isolate")} == {"skipped"}
    op.complete_step(eng, cid, "scope", "soc-an")
    op.complete_step(eng, cid, "system-test", "agency-it")
    close_and_check(lab, cid, op.complete_step(eng, cid, "lessons", "lead-1"))
    rng.exec("a-pc04", ["nft", "delete", "table", "inet", "citysec_block"], check=True)


def test_rogue_device(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-rogue"]
    cid = lab.opened[("rogue-device", ip)]
    view = eng.show(cid)
    assert view["phase"] == "detection_analysis"
    op.complete_step(eng, cid, "identify", "agency-it")
    # the agency unplugs it; the next discovery no longer sees it and the finding closes
    rng.exec("a-rogue", ["ip", "link", "set", "eth0", "down"], check=True)
    assert not reachable(rng, None, ip)
    run_job(lab.app, "discovery", agency="pl-a", targets=(ip,))
    (row,) = [r for r in lab.app.store.current(check="discovery.rogue") if r["host"] == ip]
    assert row["status"] == "closed"
    op.complete_step(eng, cid, "disconnect-or-register", "agency-it")
    close_and_check(lab, cid, op.complete_step(eng, cid, "record", "agency-it"))


def test_backup_failed(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-srv01"]
    cid = lab.opened[("backup-failed", ip)]
    st = steps(op.complete_step(eng, cid, "read-log", "agency-it"))
    snap = st["snapshot"]["result"]
    tags = {t for s in json.loads(rng.exec("a-srv01", [*REPO, "snapshots", "--json"], check=True).stdout)
            for t in s.get("tags") or []}
    assert f"citysec-case-{cid}-catch-up" in tags and snap["tag"] == f"citysec-case-{cid}-catch-up"
    check = st["restore-check"]["result"]
    assert st["restore-check"]["state"] == "done" and check["differs"] == []
    assert {f["path"]: f["sha256"] for f in check["files"]} == {p: _sha(t) for p, t in DOCS.items()}
    for f in check["files"]:                          # the restored copies really are on the host
        assert host_sha(rng, "a-srv01", f["restored_as"]) == _sha(DOCS[f["path"]])
    # the catch-up snapshot (written as root) is read by the next backup collection: no longer stale
    run_job(lab.app, "backup", agency="pl-a")
    (row,) = [r for r in lab.app.store.current(check="backup.stale") if r["host"] == ip]
    assert row["status"] == "closed"
    op.complete_step(eng, cid, "fix-schedule", "agency-it")
    close_and_check(lab, cid, op.complete_step(eng, cid, "record", "agency-it"))


def test_ransomware(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-srv02"]
    assert ("ransomware", ip) not in lab.opened        # nothing detected it: the agency calls it in
    cid = eng.open_case("ransomware", agency="pl-a", host=ip, actor="soc-an",
                        context=context_of(lab.app, "pl-a", ip))
    before_mail = len(SmtpSink.got)
    st = steps(eng.advance(cid))
    assert st["triage"]["state"] == "waiting"
    st = steps(op.complete_step(eng, cid, "triage", "soc-an"))
    assert st["notify-soc"]["result"]["sent_to"] == ["ir-team@pl.example"]
    assert len(SmtpSink.got) == before_mail + 1 and cid in SmtpSink.got[-1]
    assert st["initial-report"]["state"] == "done" and st["approve-isolate"]["state"] == "waiting"
    op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-1", "approve")
    st = steps(op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-2", "approve"))
    assert st["isolate"]["state"] == "done" and not reachable(rng, "b-pc01", ip) and reachable(rng, None, ip)
    check_custody(lab, "a-srv02", st["collect"]["result"])
    snaps = {t: s for s in json.loads(rng.exec("a-srv02", [*REPO, "snapshots", "--json"], check=True).stdout)
             for t in s.get("tags") or []}
    before = snaps[f"citysec-case-{cid}-before"]
    listed = rng.exec("a-srv02", [*REPO, "ls", before["short_id"]], check=True).stdout
    assert f"{DATA}/README-KHOI-PHUC.txt" in listed and f"{DATA}/.cache/svchost.exe" in listed, "evidence kept"
    # eradicate: the agency removes the malware and restores the data from last night's clean backup
    rng.exec("a-srv02", ["sh", "-c", f"rm -rf {DATA} && " + " ".join(REPO) + " restore latest --tag nightly"
                                       " --target /"], check=True, timeout=120)
    assert all(host_sha(rng, "a-srv02", p) == _sha(t) for p, t in DOCS.items())
    st = steps(op.complete_step(eng, cid, "eradicate", "agency-it"))
    assert st["scan-after"]["result"]["clean"] is True and st["scan-after"]["result"]["infected"] == []
    assert st["backup-after"]["result"]["tag"] == f"citysec-case-{cid}-after"
    tags = {t for s in json.loads(rng.exec("a-srv02", [*REPO, "snapshots", "--json"], check=True).stdout)
            for t in s.get("tags") or []}
    assert {f"citysec-case-{cid}-before", f"citysec-case-{cid}-after"} <= tags
    check = st["restore-check"]["result"]
    assert check["differs"] == [] and check["files_restored"] == len(DOCS)
    assert {f["path"]: f["sha256"] for f in check["files"]} == {p: _sha(t) for p, t in DOCS.items()}
    assert st["release"]["state"] == "done" and reachable(rng, "b-pc01", ip)
    op.complete_step(eng, cid, "system-test", "agency-it")
    close_and_check(lab, cid, op.complete_step(eng, cid, "lessons", "lead-1"))


def test_website_defacement(lab):
    rng, eng, ip = lab.rng, lab.engine, IP["a-web"]
    page = "/var/www/html/index.html"
    original = rng.exec("a-web", ["cat", page], check=True).stdout
    rng.drop_file("a-web", page, "<html><body><h1>HACKED BY pl-test</h1></body></html>\n")
    cid = eng.open_case("website-defacement", agency="pl-a", host=ip, actor="soc-an",
                        context=context_of(lab.app, "pl-a", ip))
    st = steps(eng.advance(cid))
    assert st["verify"]["state"] == "waiting"
    st = steps(op.complete_step(eng, cid, "verify", "soc-an"))
    assert st["notice"]["state"] == "done"
    check_custody(lab, "a-web", st["collect"]["result"])
    assert reachable(rng, "b-pc01", ip, 80)
    op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-1", "approve")
    st = steps(op.decide(eng, cid, "approve-isolate", "incident_lead", "lead-2", "approve"))
    assert st["isolate"]["state"] == "done"
    assert not reachable(rng, "b-pc01", ip, 80) and reachable(rng, None, ip, 80)
    op.complete_step(eng, cid, "maintenance-page", "agency-it")
    rng.drop_file("a-web", page, original)
    st = steps(op.complete_step(eng, cid, "restore-site", "agency-it"))
    assert st["release"]["state"] == "done" and reachable(rng, "b-pc01", ip, 80)
    got = rng.exec("b-pc01", ["curl", "-s", f"http://{ip}/"]).stdout
    assert got == original
    close_and_check(lab, cid, op.complete_step(eng, cid, "system-test", "agency-it"))
