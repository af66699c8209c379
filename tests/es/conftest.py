"""Fixtures of the Elasticsearch tests: a noida-db server (module scope) and a city pointing at it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from es_helpers import write_config

from findings import Store
from tests.es_server import es_server  # noqa: F401


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.es)


@pytest.fixture
def city(tmp_path, es_server):  # noqa: F811
    """(config path, store) of a fresh city whose Elasticsearch is the module's server."""
    config = write_config(tmp_path, es_server.url)
    store = Store(tmp_path / "citysec.db", synchronous="NORMAL")
    yield config, store
    store.close()
