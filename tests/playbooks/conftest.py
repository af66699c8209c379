"""Fixtures of tests/playbooks: defined in pb_helpers.py (a unique module name, importable by the tests)."""

from pb_helpers import *  # noqa: F401,F403
