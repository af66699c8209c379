"""Fixtures of the reports' tests: the known data set in a store, and its city."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import dataset
from elasticsearch import Elasticsearch

from findings.elastic.ship import Shipper
from findings.query_sqlite import SqliteQuery
from reports.summary import Org

HERE = Path(__file__).parent
ARTEFACTS = Path(__file__).resolve().parents[2] / "out" / "tests" / "reports"
ORGS = [Org("so-a", "Sở A", "Department A"), Org("so-b", "Sở B", "Department B")]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return dataset.build(tmp_path_factory.mktemp("store") / "citysec.db")


@pytest.fixture(scope="module")
def sqlite_query(store):
    return SqliteQuery(store)


@pytest.fixture(scope="session")
def artefacts() -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    return ARTEFACTS


def shipped(url: str, store, namespace: str) -> Elasticsearch:
    """A client of the server at ``url`` once the store's findings are shipped there and searchable."""
    client = Elasticsearch(url, request_timeout=60)
    result = Shipper(client, store, namespace=namespace, where="test", settle_seconds=0).run()
    assert result.dead_letters == 0 and result.remaining == 0
    client.indices.refresh(index=f"logs-citysec.*-{namespace}")
    return client
