"""Fixtures of tests/reports: defined in report_helpers.py (a unique module name, importable by the tests)."""

from report_helpers import *
