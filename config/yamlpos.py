"""The city configuration's YAML loading: see findings.yamlpos (shared by every YAML citysec reads)."""

from findings.yamlpos import Positions, dotted, load_one, load_with_positions, problem, where

__all__ = ["Positions", "dotted", "load_one", "load_with_positions", "problem", "where"]
