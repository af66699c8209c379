"""Planning: scan windows and blackouts, port sets, NSE scripts by category."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest

from findings.errors import ConfigError
from scanners.plan import blocked, parse_ports, port_sets, scripts_for, top_ports
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
    assert udp == [161]


def test_ports_override():
    assert parse_ports("22,80-82,161/udp") == ([22, 80, 81, 82], [161])
    with pytest.raises(ConfigError, match="--ports"):
        parse_ports("80-70")


def test_intrusive_scripts_only_when_allowed():
    assert "http-enum" not in scripts_for(False)
    assert "http-enum" in scripts_for(True)
    assert set(scripts_for(False)) == {"http-title", "snmp-sysdescr"}
