"""Incident response: YAML playbooks, the case engine, actions, audit chain and incident reports."""

from .engine import CaseEngine, Wiring
from .loader import LoadedPlaybook, load_library, load_playbook
from .metrics import case_metrics

__all__ = ["CaseEngine", "LoadedPlaybook", "Wiring", "case_metrics", "load_library", "load_playbook"]
