"""Two sensors, one city, one Elasticsearch (range ms, 198.18.96.0/20).

Each sensor is its own instance (its own folder with the city's one configuration, its own store
and known_hosts, its own network namespace) and runs the collectors for its share only. The hosts'
own sshd logs say who connected; noida-db (on loopback) is the Elasticsearch both sensors ship to.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter

import pytest
from elasticsearch import Elasticsearch

from findings import Store
from tests.collectors.conftest import CITYSEC, FIX, REPO, fingerprint
from tests.es_server import es_server  # noqa: F401  (a pytest fixture)
from tests.range_support import build_range

pytestmark = [pytest.mark.range, pytest.mark.es]

SENSORS = {"city-soc": "198.18.96.10", "hb-sensor": "198.18.97.10"}
OWNER = {"so-pc1": "city-soc", "hb-srv1": "city-soc", "hb-pc1": "hb-sensor", "ward-pc1": "hb-sensor"}
IPS = {"so-pc1": "198.18.100.11", "hb-srv1": "198.18.98.10", "hb-pc1": "198.18.97.11", "ward-pc1": "198.18.99.11"}
ATTACKER = "198.18.96.66"
# user names an attacker on the SOC's segment tries on hb-pc1 (sensor hb's host), six times each:
# markup with '/', a space, and a name that spells out another source address
NAMES = ("<script>alert(1)</script>", "ad min", "x from 198.18.99.11 port 1")
JOBS = ("antivirus", "backup", "logs")
PERIOD = "2026-H2"
GUESS = """
import base64, sys
import paramiko
host, key, names = sys.argv[1], sys.argv[2], sys.argv[3:]
for name in names:
    for i in range(6):
        c = paramiko.SSHClient()
        c.set_missing_host_key_policy(paramiko.RejectPolicy())
        c.get_host_keys().add(host, "ssh-ed25519", paramiko.Ed25519Key(data=base64.b64decode(key)))
        try:
            c.connect(host, username=name, password=f"guess{i}", look_for_keys=False, allow_agent=False, timeout=10)
        except paramiko.AuthenticationException:
            pass
        finally:
            c.close()
"""


class Sensor:
    """One sensor machine: a folder with the city's configuration, its store and its known_hosts."""

    def __init__(self, sid: str, folder, text: str):
        self.id, self.folder = sid, folder
        folder.mkdir()
        self.config = folder / "city.yaml"
        self.config.write_text(text, encoding="utf-8")

    def citysec(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([CITYSEC, "--config", str(self.config), "--sensor", self.id, *args], capture_output=True,
                              text=True, timeout=300, cwd=REPO, env={**os.environ, "CI": "1"})
        if check and proc.returncode != 0:
            raise AssertionError(f"{self.id}: citysec {' '.join(args)}: exit {proc.returncode}\n{proc.stdout}\n"
                                 f"{proc.stderr}")
        return proc

    def json(self, *args: str):
        return json.loads(self.citysec(*args, "--json").stdout)

    def state_rows(self) -> list[dict]:
        store = Store(str(self.folder / "citysec.db"))
        try:
            return store.current()
        finally:
            store.close()

    def docs(self, sql: str) -> list[dict]:
        store = Store(str(self.folder / "citysec.db"))
        try:
            return [json.loads(r["doc"]) for r in store.query(sql)]
        finally:
            store.close()


@pytest.fixture(scope="module")
def ms(tmp_path_factory, es_server):  # noqa: F811
    state = tmp_path_factory.mktemp("ms-range")
    base = tmp_path_factory.mktemp("ms-sensors")
    with build_range(os.path.join(FIX, "range-ms.yaml"), "ms", state) as rng:
        with open(os.path.join(FIX, "city-ms.yaml.tmpl"), encoding="utf-8") as fh:
            text = fh.read().replace("{STATE}", str(state)).replace("{ES}", es_server.url)
        sensors = {sid: Sensor(sid, base / sid, text) for sid in SENSORS}
        accept = base / "fingerprints.txt"
        accept.write_text("".join(f"{ip} {fingerprint(k)}\n" for ip, k in rng.host_keys().items()))
        enrolled = {sid: {r["name"] for r in s.json("hosts", "enroll", "--accept-from", str(accept))}
                    for sid, s in sensors.items()}
        key = rng.host_keys()[IPS["hb-pc1"]].split()[1]
        guess = rng.exec("atk", [sys.executable, "-c", GUESS, IPS["hb-pc1"], key, *NAMES], timeout=300)
        assert guess.returncode == 0, guess.stderr
        sensors["city-soc"].citysec("es", "setup", "--json")
        cycles = []
        for _ in range(2):
            cycles.append({(sid, job): s.json("collect", job)["counts"] for sid, s in sensors.items() for job in JOBS})
        shipped = {sid: s.json("ship") for sid, s in sensors.items()}
        # make what was shipped searchable now (a test's reads come sooner than the refresh interval)
        Elasticsearch(es_server.url).indices.refresh(index="logs-citysec.*-ms,citysec-state")
        yield rng, state, sensors, enrolled, cycles, shipped


def auth_log(state, host: str) -> str:
    with open(os.path.join(state, "hosts", host, "var", "log", "auth.log"), encoding="utf-8", errors="replace") as fh:
        return fh.read()


def test_each_sensor_enrols_only_the_hosts_of_its_networks(ms):
    _rng, _state, _sensors, enrolled, _cycles, _shipped = ms
    assert enrolled == {"city-soc": {"so-pc1", "hb-srv1"}, "hb-sensor": {"hb-pc1", "ward-pc1"}}


def test_each_host_is_collected_by_exactly_one_sensor(ms):
    """What each host's own sshd logged: every login of the collection account came from the one
    sensor whose network the host is in, once per job and cycle (backup: only hb-srv1 has a plan)."""
    _rng, state, _sensors, _enrolled, cycles, _shipped = ms
    for host, owner in OWNER.items():
        logins = Counter(re.findall(r"Accepted publickey for citysec from (\S+) port", auth_log(state, host)))
        jobs = 3 if host == "hb-srv1" else 2
        assert logins == {SENSORS[owner]: jobs * len(cycles)}, (host, logins)
    for (sid, job), counts in cycles[0].items():
        assert counts["errors"] == 0, (sid, job, counts)
        assert counts["hosts"] == {"antivirus": 2, "logs": 2, "backup": int(sid == "city-soc")}[job], (sid, job)


def test_each_store_holds_only_its_share_and_the_stores_do_not_overlap(ms):
    _rng, _state, sensors, _enrolled, _cycles, _shipped = ms
    hosts = {sid: {r["host"] for r in s.state_rows() if r["host"]} for sid, s in sensors.items()}
    assert hosts == {"city-soc": {IPS["so-pc1"], IPS["hb-srv1"]}, "hb-sensor": {IPS["hb-pc1"], IPS["ward-pc1"]}}
    soc, hb = ({r["fingerprint"] for r in s.state_rows()} for s in sensors.values())
    assert soc and hb and not soc & hb
    # antivirus coverage of the split agency hb: each sensor counts only its own part of it
    for sid, s in sensors.items():
        metric = s.docs("SELECT doc FROM events WHERE kind='metric' AND check_id='av.coverage' AND agency='hb'"
                        " ORDER BY ts DESC LIMIT 1")[0]
        assert (metric["observer"]["name"], metric["citysec"]["antivirus"]["discovered"]) == (sid, 1)


def test_a_second_cycle_changes_no_finding(ms):
    """No finding flaps: no cycle of either sensor closes or reopens a finding, and the second
    opens none (what it sees is what the first saw)."""
    _rng, _state, _sensors, _enrolled, cycles, _shipped = ms
    for cycle in cycles:
        for key, counts in cycle.items():
            assert (counts["reopened"], counts["closed"]) == (0, 0), (key, counts)
    for key, counts in cycles[1].items():
        assert counts["opened"] == 0, (key, counts)


def test_elasticsearch_holds_each_finding_once_from_the_sensor_of_its_host(ms, es_server):  # noqa: F811
    """The city-wide state has one document per finding, written by the sensor that owns the host
    (two sensors collecting one host would write the same finding in turn: it would flap)."""
    _rng, _state, sensors, _enrolled, _cycles, _shipped = ms
    hits = Elasticsearch(es_server.url).search(index="citysec-state", size=1000, query={"match_all": {}})
    docs = [h["_source"] for h in hits["hits"]["hits"]]
    owner = {IPS[name]: sid for name, sid in OWNER.items()}
    assert docs and all(owner[d["host"]["ip"][0]] == d["observer"]["name"] for d in docs if "host" in d)
    assert len(docs) == sum(len(s.state_rows()) for s in sensors.values())


def test_the_attackers_user_names_are_kept_as_sshd_logged_them(ms):
    _rng, state, sensors, _enrolled, _cycles, _shipped = ms
    logged = Counter(re.findall(rf"Invalid user (.*) from {re.escape(ATTACKER)} port \d+\n", auth_log(state, "hb-pc1")))
    # sshd itself cuts a name at '/' before it logs it; spaces and a spelt-out address it keeps
    assert logged == {"<script>alert(1)<": 6, "ad min": 6, "x from 198.18.99.11 port 1": 6}
    docs = sensors["hb-sensor"].docs("SELECT doc FROM events WHERE check_id='log.event'")
    stored = Counter(d["user"]["name"] for d in docs
                     if d.get("citysec", {}).get("logs", {}).get("action") == "ssh-invalid-user")
    assert stored == logged
    attempts = [d for d in docs if d.get("user", {}).get("name") in logged]
    assert {d["source"]["ip"] for d in attempts} == {ATTACKER}           # never the address in a name
    alerts = sensors["hb-sensor"].docs("SELECT doc FROM events WHERE kind='alert' AND check_id='log.ssh_bruteforce'")
    assert {a["source"]["ip"] for a in alerts} == {ATTACKER}
    assert alerts and all(a["host"]["ip"] == [IPS["hb-pc1"]] for a in alerts)


def report(sensor: Sensor, source: str) -> dict:
    out = sensor.citysec("report", "periodic", "--period", PERIOD, "--format", "json", "--lang", "en",
                         "--source", source).stdout
    return json.loads(out)["figures"]


def test_the_city_report_from_elasticsearch_is_the_union_of_both_stores(ms):
    _rng, _state, sensors, _enrolled, _cycles, shipped = ms
    assert all(c["dead_letters"] == 0 and c["remaining"] == 0 and c["sent"] > 0 for c in shipped.values()), shipped
    es = report(sensors["city-soc"], "es")
    local = {sid: report(s, "sqlite") for sid, s in sensors.items()}
    # a sensor's local report lists its own agencies; Elasticsearch has them all
    assert set(local["city-soc"]["agencies"]) == {"soc", "so", "hb"}
    assert set(local["hb-sensor"]["agencies"]) == {"hb", "ward"}
    assert set(es["agencies"]) == {"soc", "so", "hb", "ward"}
    parts = ("antivirus", "backups", "detections", "open_by_age", "exposure")
    for aid, sid in (("so", "city-soc"), ("ward", "hb-sensor"), ("soc", "city-soc")):
        assert {k: es["agencies"][aid][k] for k in parts} == {k: local[sid]["agencies"][aid][k] for k in parts}, aid
    # the split agency and the city: the sum of the two stores
    for es_fig, mine in ((es["agencies"]["hb"], [local[s]["agencies"]["hb"] for s in SENSORS]),
                         (es["city"], [local[s]["city"] for s in SENSORS])):
        av = es_fig["antivirus"]
        assert av["hosts"] == sum(m["antivirus"]["hosts"] for m in mine) > 0
        assert av["covered"] == sum(m["antivirus"]["covered"] for m in mine)
        assert sorted(u["host"] for u in av["uncovered"]) == sorted(u["host"] for m in mine
                                                                     for u in m["antivirus"]["uncovered"])
        assert es_fig["detections"]["total"] == sum(m["detections"]["total"] for m in mine)
        assert es_fig["backups"]["checked"] == sum(m["backups"]["checked"] for m in mine)
        assert sum(es_fig["open_by_age"].values()) == sum(sum(m["open_by_age"].values()) for m in mine)
    assert es["city"]["antivirus"]["hosts"] == 4 and es["city"]["detections"]["total"] > 0


def test_an_agency_of_another_sensor_is_refused(ms):
    _rng, _state, sensors, _enrolled, _cycles, _shipped = ms
    r = sensors["hb-sensor"].citysec("collect", "antivirus", "--agency", "so", check=False)
    assert r.returncode == 2, r.stderr
    assert "agency 'so' has no network on sensor 'hb-sensor'; its agencies: hb, ward" in r.stderr
