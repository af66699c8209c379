"""Planning: scan windows and blackouts, port sets, NSE scripts by category."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from findings.errors import ConfigError
from scanners.nmaprun import NmapPlan
from scanners.plan import blocked, parse_ports, port_ranges, port_sets, scripts_for, top_ports, window_left
from scanners.targets import Blackout, ScanPolicy, Window

MON_10 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)   # a Monday


def test_windows_and_blackouts():
    office = Window(frozenset({"sat", "sun"}), time(22, 0), time(5, 0), frozenset({"ward"}))
    p = ScanPolicy(windows=(office,))
    assert blocked(p, "ward", MON_10) == "outside every scan window"
    assert blocked(p, "dept", MON_10) is None                                  # no window names dept
    assert blocked(p, "ward", datetime(2026, 12, 5, 23, 30, tzinfo=UTC)) is None  # Saturday night
    bo = Blackout(datetime(2026, 11, 30, 8, tzinfo=UTC), datetime(2026, 11, 30, 18, tzinfo=UTC),
                  frozenset(), "tax deadline")
    assert "tax deadline" in blocked(ScanPolicy(blackouts=(bo,)), "dept", MON_10)


def test_ports_are_top_n_plus_every_named_port(cat, policy):
    tcp, udp = port_sets(replace(policy, top_ports=10), cat)
    assert set(top_ports(10)) <= set(tcp)
    assert {23, 21, 2375, 6379, 9200, 5432, 8080} <= set(tcp)
    assert udp == [53, 69, 123, 161, 500, 1900, 5353, 11211]


def test_ports_ever_seen_open_are_scanned_daily(cat, policy):
    tcp, udp = port_sets(policy, cat, seen=({2323, 6380}, {4500}))
    assert {2323, 6380} <= set(tcp) and 4500 in udp


def test_any_port_list_is_passed_as_ranges():
    tcp, udp = parse_ports("1-65535")
    assert len(tcp) == 65535 and port_ranges(tcp) == "1-65535"
    tcp, udp = parse_ports("1-100,8000-9000,161/udp, 22/tcp")
    assert port_ranges(tcp) == "1-100,8000-9000" and udp == [161]
    argv = NmapPlan(targets=("198.19.17.11",), tcp=tuple(range(1, 65536)), udp=(161,)).argv()
    assert argv[argv.index("-p") + 1] == "T:1-65535,U:161" and sum(map(len, argv)) < 1000


@pytest.mark.parametrize("bad", ["80-70", "0", "65536", "22/sctp", "http", "1-", "22,,80", ""])
def test_a_malformed_port_list_names_the_bad_item(bad):
    item = [x.strip() for x in bad.split(",")]
    with pytest.raises(ConfigError, match="--ports: ") as exc:
        parse_ports(bad)
    assert any(repr(x) in str(exc.value) for x in item)


def test_the_window_left_for_a_sweep():
    office = Window(frozenset({"mon"}), time(8), time(17))
    assert window_left(ScanPolicy(windows=(office,)), "dept", MON_10) == 7 * 3600
    night = Window(frozenset({"mon"}), time(22), time(6))
    assert window_left(ScanPolicy(windows=(night,)), "dept", MON_10.replace(hour=23)) == 7 * 3600
    assert window_left(ScanPolicy(), "dept", MON_10) is None


def test_ports_override():
    assert parse_ports("22,80-82,161/udp") == ([22, 80, 81, 82], [161])
    with pytest.raises(ConfigError, match="--ports"):
        parse_ports("80-70")


def test_intrusive_scripts_only_when_allowed():
    assert "http-enum" not in scripts_for(False)
    assert "http-enum" in scripts_for(True)
    assert set(scripts_for(False)) == {"http-title", "snmp-sysdescr"}
