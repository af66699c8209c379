"""Incident response: YAML playbooks, the case engine, actions, audit chain and incident reports.

The names below load on first use, so that a process that only needs the case tables' schema
(``playbooks.casedb.SCHEMA``, which the composition root opens the store with) does not import
the engine and its libraries."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import CaseEngine, Wiring
    from .loader import LoadedPlaybook, load_library, load_playbook
    from .metrics import case_metrics

_WHERE = {"CaseEngine": ".engine", "Wiring": ".engine", "LoadedPlaybook": ".loader", "load_library": ".loader",
          "load_playbook": ".loader", "case_metrics": ".metrics"}
__all__ = ["CaseEngine", "LoadedPlaybook", "Wiring", "case_metrics", "load_library", "load_playbook"]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
