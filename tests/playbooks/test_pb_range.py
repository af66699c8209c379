"""Playbooks on the range `pb` with the collectors' real SSH transport: a brute force opens the
brute-force case by itself and the case walks its phases; isolation cuts the host off from the
other agency but not from the sensor, and undo restores it; evidence carries SHA-256 custody."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime

import pytest

from collectors.catalogue import catalogue
from collectors.detections import brute_force
from collectors.hostkeys import KnownHosts
from collectors.logevents import alert_finding
from collectors.logparse import TimeParser, parse_lines
from collectors.ssh import Target
from findings import Store
from findings.support.netns import connect_in_netns
from playbooks import CaseEngine, Wiring, load_library
from playbooks import operations as op
from playbooks.actions import ACTIONS, ActionContext, ActionError
from playbooks.transport import SshTransport
from playbooks.triggers import evaluate

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, ".."))
from range_support import build_range

pytestmark = pytest.mark.range
SPEC = os.path.join(HERE, "..", "fixtures", "playbooks", "range.yaml")
TARGET, OTHER, SENSOR = "198.19.49.11", "198.19.50.11", "198.19.48.10"
SUDOERS = "/etc/sudoers.d/citysec-pb-test"


@pytest.fixture(scope="module")
def rng(tmp_path_factory):
    state = tmp_path_factory.mktemp("range-pb")
    # the responders' account may run nft, usermod, ss and kill as root (a real agency grants this by sudoers)
    with open(SUDOERS, "w") as fh:
        fh.write("citysec ALL=(root) NOPASSWD: /usr/sbin/nft, /usr/sbin/usermod, /usr/bin/ss, /usr/bin/kill\n")
    os.chmod(SUDOERS, 0o440)
    try:
        with build_range(SPEC, "pb", state) as r:
            yield r
    finally:
        os.remove(SUDOERS)


@pytest.fixture(scope="module")
def transport(rng, tmp_path_factory):
    kh = tmp_path_factory.mktemp("kh") / "known_hosts"
    kh.write_text("".join(f"{ip} {key}\n" for ip, key in rng.host_keys().items()))
    targets = {h.ip: Target(agency=h.agency, name=h.name, ip=h.ip, key_file=rng.operator_key,
                            netns=rng.sensor_netns) for h in rng.hosts}
    return SshTransport(targets, KnownHosts(str(kh)))


def reachable(rng, from_host: str, ip: str) -> bool:
    try:
        connect_in_netns(rng.host(from_host).netns, ip, 22, 2).close()
        return True
    except OSError:
        return False


def test_isolation_cuts_other_agencies_but_not_the_sensor_and_undo_restores(rng, transport, tmp_path):
    ctx = ActionContext(case={"id": "IR-test"}, transport=transport, sensor_ips=(SENSOR,),
                        privileged=("sudo", "-n"))
    assert reachable(rng, "b-pc01", TARGET)
    assert ACTIONS["isolate_host"].probe(ctx, {"host": TARGET}) is None
    out = ACTIONS["isolate_host"].run(ctx, {"host": TARGET}, False)
    assert out["isolated"]
    assert not reachable(rng, "b-pc01", TARGET), "another agency's host still reaches the isolated host"
    rc, who, _ = transport.exec(TARGET, ["hostname"])      # the sensor keeps its SSH access
    assert rc == 0 and who.strip()
    assert ACTIONS["isolate_host"].probe(ctx, {"host": TARGET})["isolated"]
    ACTIONS["isolate_host"].run(ctx, {"host": TARGET}, False)   # idempotent: a second run is a clean replace
    assert rng.exec("a-pc01", ["nft", "list", "tables"]).stdout.count("citysec_isolate") == 1
    ACTIONS["release_host"].run(ctx, {"host": TARGET}, False)
    assert reachable(rng, "b-pc01", TARGET)
    assert ACTIONS["release_host"].probe(ctx, {"host": TARGET})["isolated"] is False


def test_dry_run_changes_nothing(rng, transport):
    ctx = ActionContext(case={"id": "IR-dry"}, transport=transport, sensor_ips=(SENSOR,), privileged=("sudo", "-n"))
    out = ACTIONS["isolate_host"].run(ctx, {"host": TARGET}, True)
    assert out["would_run"][:3] == ["sudo", "-n", "nft"]
    assert "citysec_isolate" not in rng.exec("a-pc01", ["nft", "list", "tables"]).stdout
    assert reachable(rng, "b-pc01", TARGET)


def _record_brute_force_alerts(rng, transport, store) -> int:
    """What the collectors' logs job does for this host: read auth.log over SSH, detect, record."""
    rc, text, _ = transport.exec(TARGET, ["cat", "/var/log/auth.log"])
    assert rc == 0
    now = datetime.now(UTC)
    events = parse_lines(text.splitlines(), TimeParser(now), default_host="a-pc01", file="/var/log/auth.log")
    dets = brute_force(events, failures=5, window=300)
    cat = catalogue()
    store.record([alert_finding(d, cat, agency="pb-a", host_ip=TARGET, host_name="a-pc01", now=now)
                  for d in dets])
    return len(dets)


def test_brute_force_opens_the_case_by_itself_and_it_walks_its_phases(rng, transport, tmp_path):
    store = Store(tmp_path / "citysec.db")
    engine = CaseEngine(store, load_library(), Wiring(
        transport=transport, sensor_ips=(SENSOR,), evidence_dir=str(tmp_path / "evidence"),
        reports_dir=str(tmp_path / "reports")))
    assert rng.brute_force("b-atk", TARGET, "admin", 8) >= 8
    assert _record_brute_force_alerts(rng, transport, store) >= 1
    counts = evaluate(engine, context_of=lambda a, h: {"agency_name": "Agency A", "contacts": [
        {"name": "Nguyễn Văn A", "role": "IT", "phone": "+84 1", "email": "it@a.example"}]})
    assert counts["opened"] == 1
    (case,) = store.query("SELECT id FROM cases WHERE playbook='ssh-brute-force'")
    cid = case["id"]
    assert evaluate(engine)["opened"] == 0, "the cursor: the same alert never opens a second case"
    view = engine.show(cid)
    assert view["host"] == TARGET and view["phase"] == "receive"
    assert {s["id"]: s["state"] for s in view["steps"]}["triage"] == "waiting"

    view = op.complete_step(engine, cid, "triage", "soc-an")
    st = {s["id"]: s for s in view["steps"]}
    assert st["collect-auth-log"]["state"] == "done", (st["collect-auth-log"]["state"], op_tl(engine, cid))
    custody = st["collect-auth-log"]["result"]["custody"][0]
    with open(custody["stored_as"], "rb") as fh:
        import hashlib
        assert hashlib.sha256(fh.read()).hexdigest() == custody["sha256"] == custody["sha256_on_host"]
    assert st["notice"]["state"] == "done" and st["approve-block"]["state"] == "waiting"
    assert st["block-source"]["state"] == "pending" and reachable(rng, "b-atk", TARGET)

    view = op.decide(engine, cid, "approve-block", "incident_lead", "lead-1", "approve")
    st = {s["id"]: s["state"] for s in view["steps"]}
    assert st["block-source"] == "done" and st["lock-account"] == "skipped"
    assert not reachable(rng, "b-atk", TARGET) and reachable(rng, "b-pc01", TARGET)
    assert view["phase"] == "respond"
    op.complete_step(engine, cid, "scope", "soc-an")
    view = op.complete_step(engine, cid, "system-test", "agency-it")
    assert view["response_ended_at"] and view["phase"] == "wrapup"
    view = op.complete_step(engine, cid, "lessons", "lead-1")
    assert view["status"] == "closed"
    assert op.verify(engine, cid) == []
    assert os.path.exists(tmp_path / "reports" / "cases" / cid / "incident_final.vi.html")
    rng.exec("a-pc01", ["nft", "delete", "table", "inet", "citysec_block"])


def op_tl(engine, cid):
    from playbooks.views import timeline
    return [(e["what"], e["data"].get("error")) for e in timeline(engine, cid)][-4:]


LISTEN = ("import signal, socket, sys, time\n"
          "if sys.argv[2] == 'deaf': signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
          "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
          "s.bind(('0.0.0.0', int(sys.argv[1]))); s.listen(); time.sleep(3600)\n")


def test_stop_listener_kills_what_ignores_sigterm_and_fails_when_a_supervisor_restarts_it(rng, transport):
    ctx = ActionContext(case={"id": "IR-stop"}, transport=transport, privileged=("sudo", "-n"))
    # a listener that ignores SIGTERM: SIGKILL after the grace period, and the port stays closed
    rng.spawn("a-pc01", ["setsid", "-f", "python3", "-c", LISTEN, "2323", "deaf"])
    assert rng.wait_port("a-pc01", 2323)
    out = ACTIONS["stop_listener"].run(ctx, {"host": TARGET, "port": 2323, "grace_seconds": 1,
                                             "settle_seconds": 1}, False)
    assert out["signal"] == "KILL" and len(out["stopped_pids"]) == 1
    assert not rng.listening("a-pc01", 2323)
    # a supervisor loop starts it again: the step fails and says so, naming the new process
    loop = "while :; do python3 -c \"$1\" 2324 plain; sleep 0.3; done"
    rng.spawn("a-pc01", ["setsid", "-f", "sh", "-c", loop, "citysec-restarter", LISTEN])
    try:
        assert rng.wait_port("a-pc01", 2324)
        with pytest.raises(ActionError, match=r"2324/tcp listens again 2 s after the stop \(pid \d+"):
            ACTIONS["stop_listener"].run(ctx, {"host": TARGET, "port": 2324, "settle_seconds": 2}, False)
    finally:
        rng.exec("a-pc01", ["pkill", "-f", "citysec-restarter"])
        rng.exec("a-pc01", ["pkill", "-f", "2324 plain"])
    assert rng.wait_port("a-pc01", 2324, listening=False)
