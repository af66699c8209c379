"""The console's tables in the findings store, declared as the ``web`` schema (findings.schema):
``citysec/web/migrations/NNNN_*.sql``. A module of its own, light, so that the command can open the
store with it without importing the console."""

from __future__ import annotations

from findings.schema import Schema, sql_migrations

SCHEMA = Schema("web", sql_migrations("citysec.web"))
