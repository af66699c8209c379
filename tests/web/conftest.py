"""Fixtures of tests/web: defined in web_helpers.py (a unique module name, importable by the tests)."""

from web_helpers import *
