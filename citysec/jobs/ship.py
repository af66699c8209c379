"""The ``ship`` job: the outbox to Elasticsearch. Also builds the client from the configuration.

Secrets come from the ``credentials:`` section by id (an environment variable or a file), never
from the YAML itself, and never appear in messages.
"""

from __future__ import annotations

import os
from typing import Any

from elasticsearch import Elasticsearch

from findings import elastic
from findings.elastic.ship import Shipper
from findings.errors import ConfigError, RuntimeFailure


def secret(app, cred_id: str | None, field: str) -> str | None:
    """The value of credential ``cred_id`` (env var or file), or None when not configured."""
    if not cred_id:
        return None
    cred = app.city.credentials.get(cred_id)
    if cred is None:
        raise ConfigError(f"{app.config.where('elasticsearch', field)}: unknown credential {cred_id!r}")
    if cred.env:
        value = os.environ.get(cred.env)
        if not value:
            raise RuntimeFailure(f"credential {cred_id!r} for elasticsearch.{field}: the environment "
                                 f"variable {cred.env} is not set")
        return value.strip()
    path = app.config.resolve(cred.key_file)
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except OSError as exc:
        raise RuntimeFailure(f"credential {cred_id!r} for elasticsearch.{field}: cannot read "
                             f"{path}: {exc.strerror}") from exc


def configured(app) -> bool:
    return bool(app.city.elasticsearch.hosts)


def where(app) -> str:
    return ", ".join(elastic.redact(h) for h in app.city.elasticsearch.hosts)


def client_from_config(app, *, timeout: float | None = None) -> Elasticsearch:
    es = app.city.elasticsearch
    if not es.hosts:
        raise RuntimeFailure("no Elasticsearch configured: set elasticsearch.hosts in "
                             f"{app.config.path}")
    return elastic.make_client(
        list(es.hosts), ca_file=app.config.resolve(es.ca_file) if es.ca_file else None,
        api_key=secret(app, es.api_key, "api_key"), username=es.username,
        password=secret(app, es.password, "password"), timeout=timeout or es.timeout_seconds)


def ship(app, run_id: str, *, agency: str | None = None, retry_for: float = 60.0,
         settle_seconds: float = 5.0) -> dict[str, Any]:
    """Deliver the whole outbox (``agency`` is accepted for the job interface: the outbox is
    shipped whole). Raises ElasticUnreachable (exit 3) with the outbox intact."""
    if not configured(app):
        return {"skipped": 1, "remaining": app.store.outbox_depth()}
    es = app.city.elasticsearch
    shipper = Shipper(client_from_config(app), app.store, namespace=es.namespace, where=where(app),
                      batch_size=es.batch_size, retry_for=retry_for, settle_seconds=settle_seconds,
                      retention_days=es.retention_days)
    try:
        return shipper.run().as_dict()
    except elastic.ElasticUnreachable as exc:
        depth = app.store.outbox_depth()
        raise elastic.ElasticUnreachable(f"{exc}; {depth} documents stay in the outbox, "
                                         "nothing is lost: run `citysec ship` when it is back") from exc
