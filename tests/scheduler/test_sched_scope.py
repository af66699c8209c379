"""Several sensors, scan windows and blackouts: pure functions of the config and a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sched_helpers import write_city

from config.loader import load_config
from citysec.scheduler.scope import scan_allowed, scan_gate
from citysec.share import resolve_sensor, share_of
from findings.errors import UsageError

HP = timezone(timedelta(hours=7))
TWO_SENSORS = {
    "    netns: cs-hp-soc          # the range's sensor namespace; unset on a real sensor\n":
        "    netns: cs-hp-soc\n  - {id: hb-sensor, name: \"Cảm biến quận Hồng Bàng\", agency: q-hong-bang}\n",
    "      - {cidr: 198.18.50.0/24, zone: lan, sensor: city-soc, exclude: [198.18.50.1]}\n"
    "      - {cidr: 198.18.51.0/24, zone: server, sensor: city-soc, exclude: [198.18.51.1]}":
        "      - {cidr: 198.18.50.0/24, zone: lan, sensor: hb-sensor, exclude: [198.18.50.1]}\n"
        "      - {cidr: 198.18.51.0/24, zone: server, sensor: hb-sensor, exclude: [198.18.51.1]}",
    "sensor: city-soc\n\nsensors:": "sensors:",
}


@pytest.fixture
def two(tmp_path):
    return load_config(str(write_city(tmp_path, replace=TWO_SENSORS))).city


def test_each_sensor_gets_only_its_networks(two):
    hb = share_of(two, "hb-sensor")
    assert [(n.agency.id, n.network.cidr) for n in hb.networks] == [("q-hong-bang", "198.18.50.0/24"),
                                                                    ("q-hong-bang", "198.18.51.0/24")]
    soc = share_of(two, "city-soc")
    assert "q-hong-bang" not in soc.agencies and len(soc.networks) == 15
    assert hb.agencies == ("q-hong-bang",)
    assert {h.name for _a, h in hb.hosts} == {h.name for h in two.agency("q-hong-bang").hosts}


def test_with_several_sensors_the_instance_must_say_which_it_is(two):
    with pytest.raises(UsageError, match="2 sensors .*--sensor"):
        resolve_sensor(two, None)
    with pytest.raises(UsageError, match="unknown sensor 'district-9'"):
        share_of(two, "district-9")


def test_a_single_sensor_city_needs_no_sensor_id(tmp_path):
    city = load_config(str(write_city(tmp_path, replace={"sensor: city-soc\n\nsensors:": "sensors:"}))).city
    assert resolve_sensor(city, None) == "city-soc"


WINDOWS = ('scan_windows:\n    - {days: [mon, tue, wed, thu, fri, sat, sun], start: "00:00", end: "23:59:59"}\n'
           "  blackouts: []")


def city_with(tmp_path, policy: str):
    return load_config(str(write_city(tmp_path, replace={WINDOWS: policy}))).city


def test_a_window_across_midnight_belongs_to_the_day_it_starts(tmp_path):
    city = city_with(tmp_path, 'scan_windows:\n    - {days: [fri], start: "22:00", end: "04:00"}')
    fri_23 = datetime(2026, 12, 4, 23, 0, tzinfo=HP)
    assert scan_allowed(city, "so-tc", fri_23, HP)[0]
    assert scan_allowed(city, "so-tc", fri_23 + timedelta(hours=4), HP)[0]          # Saturday 03:00
    assert not scan_allowed(city, "so-tc", fri_23 + timedelta(hours=6), HP)[0]      # Saturday 05:00
    assert not scan_allowed(city, "so-tc", fri_23 - timedelta(days=1), HP)[0]       # Thursday 23:00
    # windows are local time: Friday 23:00 in Hải Phòng is 16:00 UTC
    assert scan_allowed(city, "so-tc", datetime(2026, 12, 4, 16, 0, tzinfo=timezone.utc), HP)[0]


def test_blackouts_and_agency_windows(tmp_path):
    city = city_with(tmp_path, 'scan_windows:\n    - {start: "08:00", end: "17:00", agencies: [so-tc]}\n'
                               '  blackouts:\n    - {start: "2026-12-01T00:00:00", end: "2026-12-02T00:00:00",'
                               ' agencies: [so-tc], reason: "quyết toán"}')
    noon = datetime(2026, 12, 1, 12, 0, tzinfo=HP)
    ok, why = scan_allowed(city, "so-tc", noon, HP)
    assert not ok and "blackout" in why and "quyết toán" in why
    assert scan_allowed(city, "so-tc", noon + timedelta(days=1), HP) == (True, "inside a scan window")
    assert scan_allowed(city, "vp-ubnd", noon, HP) == (False, "no scan window applies to this agency")
    assert scan_gate(city, "city-soc", noon + timedelta(days=1), HP)[0]
    assert not scan_gate(city, "city-soc", noon, HP)[0]
