"""Shared pieces of the scanners' tests: the catalogue, the test city as plain scanner values."""

from __future__ import annotations

import os

import pytest

from citysec.jobs.scan import agency_targets, load_exposure, scan_policy
from config.loader import load_config

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures", "scanners")
CITY = os.path.join(FIXTURES, "city.yaml")
RANGE = os.path.join(FIXTURES, "range.yaml")


@pytest.fixture(scope="session")
def cat():
    return load_exposure()


@pytest.fixture(scope="session")
def city():
    return load_config(CITY).city


@pytest.fixture(scope="session")
def agencies(city):
    return {a.id: agency_targets(a) for a in city.agencies}


@pytest.fixture(scope="session")
def policy(city):
    return scan_policy(city)
