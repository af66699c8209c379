"""The Elasticsearch side of the findings: the client and index setup (:mod:`.client`), the mappings
(:mod:`.templates`), delivery of the outbox (:mod:`.ship`, :mod:`.journal`) and the query back end
(:mod:`.query`, :mod:`.query_split`). Only this sub-package imports the ``elasticsearch`` client.
"""

from findings.elastic.client import (RETRYABLE_STATUS, Capabilities, ElasticUnreachable, Retrier, backoff,
                                     capabilities, ensure_areas, known_areas, make_client, redact, setup)

__all__ = ["RETRYABLE_STATUS", "Capabilities", "ElasticUnreachable", "Retrier", "backoff", "capabilities",
           "ensure_areas", "known_areas", "make_client", "redact", "setup"]
