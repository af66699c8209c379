"""Findings: the document model, fingerprints and lifecycle, the SQLite store and outbox."""

from findings.checks import Catalogue, Check
from findings.errors import (CitysecError, ConfigError, MissingTool, RuntimeFailure, ScopeError, StoreError,
                     UsageError)
from findings.model import Finding, clean_text, fingerprint, from_document, iso, parse_ts, to_document, utcnow
from findings.store import RecordResult, Scope, Store

__all__ = ["Catalogue", "Check", "CitysecError", "ConfigError", "Finding", "MissingTool", "RecordResult",
           "RuntimeFailure", "Scope", "ScopeError", "Store", "StoreError", "UsageError", "clean_text",
           "fingerprint", "from_document", "iso", "parse_ts", "to_document", "utcnow"]
