"""The Elasticsearch side of the findings: the client and index setup (:mod:`.client`), the mappings
(:mod:`.templates`), delivery of the outbox (:mod:`.ship`, :mod:`.journal`) and the query back end
(:mod:`.query`, :mod:`.query_split`). Only this sub-package imports the ``elasticsearch`` client.

The client's names are loaded on first use (``from findings import elastic; elastic.make_client``),
so importing a light sub-module (``findings.elastic.journal``) does not load the client library.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["RETRYABLE_STATUS", "Capabilities", "ElasticUnreachable", "Retrier", "backoff", "capabilities",
           "ensure_areas", "known_areas", "make_client", "redact", "setup"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("findings.elastic.client"), name)
    raise AttributeError(f"module 'findings.elastic' has no attribute {name!r}")
