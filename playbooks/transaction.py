"""One write on one case: every state change and its audit entry go into one SQLite transaction,
and the entries go out as events (``citysec.case``) once it has committed.

``CaseEngine.transaction(case)`` yields a :class:`CaseTx`; the engine, the operations people do
(``operations``) and the action runner (``runner``) change cases only through it, so no state
change is ever written without its audit entry, nor an entry without its change.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import Any

from findings.errors import UsageError
from findings.model import iso

from . import audit

ENDED = ("done", "skipped", "declined", "failed")     # a step in one of these states has ended
# a step's state → the case's status while the step is in it (a closed case keeps "closed")
STATUS_OF = {"waiting": "waiting", "failed": "blocked"}


class CaseTx:
    """The write transaction on one case (its row as ``case``: id, agency, host, severity, playbook)."""

    def __init__(self, conn: sqlite3.Connection, case: dict[str, Any], clock: Callable[[], datetime]):
        self.case = case
        self.entries: list[dict[str, Any]] = []    # audit entries written, for the events after commit
        self._c, self._clock = conn, clock

    def now(self) -> str:
        return iso(self._clock())

    def execute(self, sql: str, params: tuple = ()) -> sqlite3.Cursor:
        """SQL on the case tables inside this transaction (the engine's own rows)."""
        return self._c.execute(sql, params)

    def audit(self, actor: str, what: str, **data: Any) -> dict[str, Any]:
        """Append an entry to the case's hash-chained audit log."""
        e = audit.append(self._c, self.case["id"], self.now(), actor, what, data)
        self.entries.append(e | {"agency": self.case["agency"], "host": self.case.get("host"),
                                 "severity": self.case["severity"], "playbook": self.case["playbook"]})
        return e

    def acknowledge(self) -> None:
        """A person acted on the case: the first such time is its acknowledgement."""
        self._c.execute("UPDATE cases SET acknowledged_at=COALESCE(acknowledged_at, ?) WHERE id=?",
                        (self.now(), self.case["id"]))

    # -- the record (NIST / Decision 05 fields, comments, custody) ---------------------------------
    def record(self) -> dict[str, Any]:
        return json.loads(self._c.execute("SELECT record FROM cases WHERE id=?", (self.case["id"],)).fetchone()[0])

    def save_record(self, rec: dict[str, Any]) -> None:
        self._c.execute("UPDATE cases SET record=? WHERE id=?", (json.dumps(rec, ensure_ascii=False), self.case["id"]))

    # -- steps, approvals, deadlines, case times ---------------------------------------------------
    def set_step(self, step_id: str, state: str, actor: str, what: str, result: dict | None = None,
                 **data: Any) -> None:
        """A step's new state (and result), the case's status that follows from it, the entry."""
        self._c.execute(
            "UPDATE case_steps SET state=?, ended_at=COALESCE(?, ended_at), result=COALESCE(?, result)"
            " WHERE case_id=? AND step_id=?",
            (state, self.now() if state in ENDED else None,
             json.dumps(result, default=str) if result is not None else None, self.case["id"], step_id))
        self._c.execute("UPDATE cases SET status=? WHERE id=? AND status!='closed'",
                        (STATUS_OF.get(state, "open"), self.case["id"]))
        self.audit(actor, what, step=step_id, state=state, **data)

    def start_step(self, step_id: str, attempt: int) -> None:
        """An action step is running (attempt n); its start time is its first attempt's."""
        self._c.execute("UPDATE case_steps SET state='running', attempts=?, started_at=COALESCE(started_at, ?)"
                        " WHERE case_id=? AND step_id=?", (attempt, self.now(), self.case["id"], step_id))

    def decide(self, step_id: str, actor: str, role: str, decision: str) -> None:
        """One person's decision on an approval step (each person decides once)."""
        if self._c.execute("SELECT 1 FROM case_approvals WHERE case_id=? AND step_id=? AND actor=?",
                           (self.case["id"], step_id, actor)).fetchone():
            raise UsageError(f"{actor} has already decided step {step_id}; a second person must")
        self._c.execute("INSERT INTO case_approvals VALUES (?,?,?,?,?,?)",
                        (self.case["id"], step_id, actor, role, decision, self.now()))

    def deadline_met(self, name: str) -> None:
        self._c.execute("INSERT INTO case_deadlines (case_id, name, met_at) VALUES (?,?,?) ON CONFLICT"
                        " (case_id, name) DO UPDATE SET met_at=COALESCE(met_at, excluded.met_at)",
                        (self.case["id"], name, self.now()))

    def deadline_raised(self, name: str) -> None:
        self._c.execute("INSERT INTO case_deadlines (case_id, name, missed_raised_at) VALUES (?,?,?) ON CONFLICT"
                        " (case_id, name) DO UPDATE SET missed_raised_at=excluded.missed_raised_at",
                        (self.case["id"], name, self.now()))

    def mark_time(self, column: str) -> None:
        """contained_at, response_ended_at or closed_at: now."""
        if column not in ("contained_at", "response_ended_at", "closed_at"):
            raise ValueError(column)
        self._c.execute(f"UPDATE cases SET {column}=? WHERE id=?", (self.now(), self.case["id"]))

    def set_phase(self, phase: str) -> None:
        self._c.execute("UPDATE cases SET phase=? WHERE id=?", (phase, self.case["id"]))

    def close(self) -> None:
        self.mark_time("closed_at")
        self._c.execute("UPDATE cases SET status='closed' WHERE id=?", (self.case["id"],))
