"""Fixtures of tests/scheduler: defined in sched_helpers.py (a unique module name, importable by the tests)."""

from sched_helpers import *  # noqa: F401,F403
