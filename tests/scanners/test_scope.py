"""The scope guard refuses before any packet: outside networks, exclusions, other sensors, the sensor itself."""

from __future__ import annotations

import pytest

from findings.errors import ScopeError
from scanners.scope import ScopeGuard


@pytest.fixture()
def guard(agencies):
    return ScopeGuard(agencies.values(), "sc-soc", ["198.19.16.10"])


@pytest.mark.parametrize("target, why", [
    ("198.51.100.7", "outside every configured agency network"),
    ("198.19.32.0/24", "outside every configured agency network"),
    ("198.19.16.0/23", "outside every configured agency network"),      # spans two agencies' networks
    ("198.19.17.1", "excluded"),
    ("198.19.17.202", "excluded"),
    ("198.19.18.10", "belongs to agency 'dept'"),
    ("not-an-address", "not an address"),
])
def test_outside_targets_are_refused(guard, target, why):
    with pytest.raises(ScopeError, match=why):
        guard.targets(["ward"], [target])


def test_a_network_of_another_sensor_is_refused(agencies):
    guard = ScopeGuard(agencies.values(), "other-sensor", [])
    with pytest.raises(ScopeError, match="reached by sensor 'sc-soc'"):
        guard.targets(["ward"], ["198.19.17.11"])
    assert guard.targets(["ward"]) == []


def test_addresses_leave_out_exclusions_and_the_sensor(guard):
    (soc,) = guard.targets(["soc"])
    addrs = guard.addresses(soc)
    assert "198.19.16.10" not in addrs and "198.19.16.1" not in addrs and len(addrs) == 252
    (ward,) = guard.targets(["ward"])
    assert not {"198.19.17.200", "198.19.17.207", "198.19.17.1"} & set(guard.addresses(ward))
    assert guard.left_out(soc) == ["198.19.16.1/32", "198.19.16.10"]


def test_the_last_gate_checks_every_address(guard):
    guard.check(["198.19.17.11", "198.19.19.10"])
    for bad in ("198.19.16.10", "198.19.17.201", "10.0.0.1", "127.0.0.1"):
        with pytest.raises(ScopeError):
            guard.check([bad])
