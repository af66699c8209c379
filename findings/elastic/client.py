"""The Elasticsearch sink: client construction, feature detection, ``es setup`` and the retry policy.

Everything here takes plain values (hosts, a CA file path, secrets already read); the command in
``config/`` resolves them from the city's configuration. The shipper is in :mod:`elastic_ship`.

Servers differ: noida-db (the test server) has no ILM and no data-stream API, and stores the
"data streams" as plain indices of the same names. :func:`capabilities` detects both; setup warns
and falls back instead of failing.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import elastic_transport
from elasticsearch import ApiError, Elasticsearch
from elasticsearch import __versionstr__ as CLIENT_VERSION

from findings.elastic import templates as T
from findings.errors import RuntimeFailure

log = logging.getLogger("citysec.elastic")

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ElasticUnreachable(RuntimeFailure):
    """The server could not be reached (or kept answering 429/5xx) for the whole retry period."""


def redact(url: str) -> str:
    """A host URL without any user:password part, for messages and logs."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def make_client(hosts: list[str], *, ca_file: str | None = None, api_key: str | None = None,
                username: str | None = None, password: str | None = None,
                timeout: float = 30) -> Elasticsearch:
    """The official client with citysec's own retry policy (the client's retries are off)."""
    kwargs: dict[str, Any] = {"request_timeout": timeout, "max_retries": 0, "retry_on_timeout": False}
    if ca_file:
        kwargs["ca_certs"] = ca_file
    if api_key:
        kwargs["api_key"] = api_key
    elif username:
        kwargs["basic_auth"] = (username, password or "")
    return Elasticsearch(hosts, **kwargs)


def backoff(attempt: int, base: float = 0.25, cap: float = 15.0) -> float:
    """Exponential backoff with full jitter: 0.25 s, 0.5 s, 1 s ... at most ``cap``."""
    return random.uniform(0.5, 1.0) * min(cap, base * (2 ** attempt))


@dataclass
class Retrier:
    """Calls a function, retrying connection errors, 429 and 5xx with backoff for ``retry_for`` s."""

    where: str
    retry_for: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    on_trouble: Callable[[], None] | None = None   # called once per streak of failures
    retries: int = 0

    def __call__(self, fn: Callable[[], Any], what: str) -> Any:
        first: float | None = None
        attempt = 0
        while True:
            try:
                return fn()
            except ApiError as exc:
                if exc.status_code not in RETRYABLE_STATUS:
                    raise _api_failure(exc, what, self.where) from exc
                err: Exception = exc
            except elastic_transport.TransportError as exc:  # connection refused, timeout, TLS
                err = exc
            if first is None:
                first = self.clock()
                if self.on_trouble is not None:
                    self.on_trouble()
            if self.clock() - first >= self.retry_for:
                raise ElasticUnreachable(f"Elasticsearch at {self.where} unreachable during {what} "
                                         f"for {self.retry_for:g} s: {_short(err)}") from err
            self.retries += 1
            log.warning("Elasticsearch %s: %s; retrying", what, _short(err))
            self.sleep(backoff(attempt))
            attempt += 1


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}: {text[:300]}"


def _api_failure(exc: ApiError, what: str, where: str) -> RuntimeFailure:
    if exc.status_code in (401, 403):
        return RuntimeFailure(f"Elasticsearch at {where} refused {what} ({exc.status_code}): check the "
                              "api_key or username/password credential and its privileges")
    return RuntimeFailure(f"Elasticsearch at {where} rejected {what}: {exc.status_code} {exc.message}")


@dataclass
class Capabilities:
    version: str
    ilm: bool
    data_streams: bool
    warnings: list[str] = field(default_factory=list)


def _supported(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ApiError as exc:
        if exc.status_code in (400, 404, 405, 501):  # "no handler found for uri": not implemented
            return False
        raise
    return True


def capabilities(client: Elasticsearch) -> Capabilities:
    version = client.info()["version"]["number"]
    caps = Capabilities(version=version, ilm=_supported(lambda: client.ilm.get_status()),
                        data_streams=_supported(lambda: client.indices.get_data_stream(name="*")))
    server_major, client_major = version.split(".")[0], CLIENT_VERSION.split(".")[0]
    if server_major != client_major:
        caps.warnings.append(f"client {CLIENT_VERSION} and server {version} differ in major version: "
                             f"install elasticsearch>={server_major},<{int(server_major) + 1}")
    if not caps.ilm:
        caps.warnings.append("the server has no ILM: retention is set as data stream lifecycle "
                             "where supported, otherwise not enforced by the server")
    if not caps.data_streams:
        caps.warnings.append("the server has no data-stream API: logs-citysec.* are plain indices of "
                             "the same names (no rollover); ids and create semantics are unchanged")
    return caps


def known_areas(client: Elasticsearch) -> set[str] | None:
    """Areas mapped in the installed component template, or None if setup never ran."""
    try:
        body = client.cluster.get_component_template(name=T.COMPONENT)
    except ApiError as exc:
        if exc.status_code == 404:
            return None
        raise
    props = body["component_templates"][0]["component_template"]["template"]["mappings"]["properties"]
    return {k for k, v in props["citysec"]["properties"].items() if v.get("type") == "flattened"}


def setup(client: Elasticsearch, *, retention_days: int, areas: Iterable[str] = ()) -> dict[str, Any]:
    """Create or update the policy, templates and state index (idempotent)."""
    caps = capabilities(client)
    all_areas = sorted(set(T.AREAS) | set(areas) | (known_areas(client) or set()))
    if caps.ilm:
        client.ilm.put_lifecycle(name=T.ILM_POLICY, policy=T.ilm_policy(retention_days))
    client.cluster.put_component_template(name=T.COMPONENT, template={"mappings": T.mappings(all_areas)},
                                          meta={"managed_by": "citysec"})
    client.cluster.put_component_template(name=T.SETTINGS_COMPONENT,
                                          template=T.settings_component(caps.ilm))
    client.indices.put_index_template(name=T.LOGS_TEMPLATE, **T.logs_template(retention_days, caps.ilm))
    client.indices.put_index_template(name=T.STATE_TEMPLATE, **T.state_template())
    created = not client.indices.exists(index=T.STATE_INDEX)
    if created:
        client.indices.create(index=T.STATE_INDEX)
    _put_area_mappings(client, all_areas)
    return {"server_version": caps.version, "client_version": CLIENT_VERSION, "ilm": caps.ilm,
            "data_streams": caps.data_streams, "warnings": caps.warnings, "areas": all_areas,
            "templates": [T.COMPONENT, T.SETTINGS_COMPONENT, T.LOGS_TEMPLATE, T.STATE_TEMPLATE],
            "ilm_policy": T.ILM_POLICY if caps.ilm else None, "retention_days": retention_days,
            "state_index": "created" if created else "exists"}


def _put_area_mappings(client: Elasticsearch, areas: Iterable[str]) -> None:
    """Add area detail sets to the indices that exist already (new ones get them from the template)."""
    body = {"citysec": {"properties": {a: {"type": "flattened", "ignore_above": 4096} for a in areas}}}
    client.indices.put_mapping(index=f"{T.STATE_INDEX},{T.LOGS_PATTERN}", properties=body,
                               allow_no_indices=True, ignore_unavailable=True, expand_wildcards="all")


def ensure_areas(client: Elasticsearch, areas: set[str], known: set[str]) -> set[str]:
    """Map areas not seen before (a new check family) before their documents arrive."""
    new = areas - known
    if not new:
        return known
    everything = known | new
    client.cluster.put_component_template(name=T.COMPONENT, template={"mappings": T.mappings(sorted(everything))},
                                          meta={"managed_by": "citysec"})
    _put_area_mappings(client, sorted(new))
    log.info("mapped new areas %s", ", ".join(sorted(new)))
    return everything
