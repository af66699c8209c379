"""A sensor's share (citysec.share): which agencies, networks and hosts each sensor owns."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from citysec.app import App
from citysec.share import resolve_sensor, share_of
from config.loader import load_config
from findings.errors import UsageError

CITY = """\
name: "Two-sensor city"
sensors:
  - {id: city-soc, name: "SOC", agency: soc}
  - {id: hb-sensor, name: "Hồng Bàng", agency: hb}
agencies:
  - id: soc
    name: "SOC"
    kind: department
    networks: [{cidr: 198.18.96.0/24, zone: management, sensor: city-soc}]
    hosts: [{name: soc-1, ip: 198.18.96.20}]
  - id: hb
    name: "Quận Hồng Bàng"
    kind: district
    networks:
      - {cidr: 198.18.97.0/24, zone: lan, sensor: hb-sensor}
      - {cidr: 198.18.98.0/24, zone: server, sensor: city-soc}
    hosts:
      - {name: hb-pc, ip: 198.18.97.11}
      - {name: hb-srv, ip: 198.18.98.10}
  - id: ward
    name: "Phường"
    kind: ward
    networks: [{cidr: 198.18.99.0/24, zone: lan, sensor: hb-sensor}]
    hosts: [{name: ward-pc, ip: 198.18.99.11}]
store: {path: "{VAR}/citysec.db"}
"""


@pytest.fixture
def city_file(tmp_path):
    path = tmp_path / "city.yaml"
    path.write_text(CITY.replace("{VAR}", str(tmp_path)), encoding="utf-8")
    return path


@pytest.fixture
def city(city_file):
    return load_config(str(city_file)).city


def test_each_sensor_owns_its_networks_their_hosts_and_their_agencies(city):
    soc, hb = share_of(city, "city-soc"), share_of(city, "hb-sensor")
    assert [(n.agency.id, n.network.cidr) for n in soc.networks] == [("soc", "198.18.96.0/24"),
                                                                     ("hb", "198.18.98.0/24")]
    assert soc.agencies == ("soc", "hb") and hb.agencies == ("hb", "ward")
    assert [h.name for _a, h in soc.hosts] == ["soc-1", "hb-srv"]
    assert [h.name for _a, h in hb.hosts] == ["hb-pc", "ward-pc"]
    assert [h.name for h in hb.hosts_of("hb")] == ["hb-pc"]
    assert soc.owns("198.18.98.77") and not soc.owns("198.18.97.11") and hb.owns("198.18.97.11")


def test_the_shares_cover_every_host_exactly_once(city):
    shares = [share_of(city, s.id) for s in city.sensors]
    owned = [h.ip for sh in shares for _a, h in sh.hosts]
    assert sorted(owned) == sorted(h.ip for a in city.agencies for h in a.hosts)
    assert len(owned) == len(set(owned))


def test_an_agency_split_between_sensors_is_whole_to_neither(city):
    soc, hb = share_of(city, "city-soc"), share_of(city, "hb-sensor")
    assert not soc.whole("hb") and not hb.whole("hb")
    assert soc.whole("soc") and hb.whole("ward") and not soc.whole("ward")


def test_an_agency_of_another_sensor_is_refused_by_name(city):
    assert share_of(city, "hb-sensor").agency_ids(None) == ["hb", "ward"]
    with pytest.raises(UsageError, match="agency 'soc' has no network on sensor 'hb-sensor'"):
        share_of(city, "hb-sensor").agency_ids("soc")


def test_several_sensors_need_an_id_and_an_unknown_one_gets_a_near_miss(city):
    with pytest.raises(UsageError, match="2 sensors"):
        share_of(city, None)
    with pytest.raises(UsageError, match=r"unknown sensor 'hb-sensr' \(did you mean 'hb-sensor'\?\); "
                                         r"known: city-soc, hb-sensor"):
        resolve_sensor(city, "hb-sensr")
    with pytest.raises(UsageError) as exc:
        resolve_sensor(city, "zzz")
    assert "did you mean" not in str(exc.value)


def test_app_share_follows_the_sensor_chosen(city_file, monkeypatch):
    monkeypatch.delenv("CITYSEC_SENSOR", raising=False)
    assert App(config_path=str(city_file), sensor_override="hb-sensor").share.agencies == ("hb", "ward")
    monkeypatch.setenv("CITYSEC_SENSOR", "city-soc")
    assert App(config_path=str(city_file)).share.sensor_id == "city-soc"
    monkeypatch.setenv("CITYSEC_SENSOR", "city-sco")
    with pytest.raises(UsageError, match="did you mean 'city-soc'"):
        App(config_path=str(city_file)).sensor


def test_an_unknown_sensor_option_exits_2_naming_the_known_ones(city_file, tmp_path):
    exe = os.path.join(os.path.dirname(sys.executable), "citysec")
    env = {k: v for k, v in os.environ.items() if k != "CITYSEC_SENSOR"}
    r = subprocess.run([exe, "--config", str(city_file), "--sensor", "hb-sensr", "findings", "list"],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "unknown sensor 'hb-sensr' (did you mean 'hb-sensor'?)" in r.stderr
    assert "city-soc, hb-sensor" in r.stderr and "Traceback" not in r.stderr


def test_a_complete_run_in_a_split_agency_closes_only_the_hosts_of_its_sensor(city_file, monkeypatch):
    """A store that holds both sensors' findings of agency hb: sensor hb's run, which saw nothing
    wrong, closes hb-pc1's finding (its host) and leaves hb-srv1's (the SOC's host) open."""
    from citysec.jobs.collect import _scope
    from findings import Finding
    monkeypatch.delenv("CITYSEC_SENSOR", raising=False)
    app = App(config_path=str(city_file), sensor_override="hb-sensor")
    app.store.record([Finding(check="av.outdated", agency="hb", verdict="fail", severity="high", host_ip=ip,
                              host_name=name) for ip, name in (("198.18.97.11", "hb-pc1"), ("198.18.98.10", "hb-srv1"))],
                     run_id="r1")
    app.store.record([], run_id="r2", scope=_scope(app, {"av."}, ["hb", "ward"]))
    assert {r["host"]: r["status"] for r in app.store.current(agency="hb")} == {
        "198.18.97.11": "closed", "198.18.98.10": "open"}
    app.store.close()
