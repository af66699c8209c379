"""The case engine: a case is a run of a playbook. State lives in the store's SQLite file; every
step, decision, approval, action result and note is appended to the case's hash-chained audit
log and recorded as an event (``citysec.case``) so it reaches Elasticsearch. ``advance`` runs the
steps in order until one waits for a person; a case interrupted mid-action resumes there, and an
action whose effect is already in place (its probe says so) is not done again.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from findings.errors import CitysecError, UsageError, unknown
from findings.model import Finding, iso, parse_ts, utcnow
from findings.store import Store

from .actions import ActionContext
from .casedb import (
    TERMINAL,
    approvals_of,
    case_row,
    condition_holds,
    ensure_tables,
    findings_of,
    steps_of,
)
from .deadlines import Rule
from .incident_report import render
from .loader import LoadedPlaybook
from .schema import PHASE_MODELS
from .transaction import CaseTx


@dataclass
class Wiring:
    """Plain values the command passes in (the engine never reads the city config itself)."""
    transport: Any = None
    sensor_ips: tuple[str, ...] = ()
    evidence_dir: str = "var/evidence"
    reports_dir: str = "var/reports"
    smtp: dict[str, Any] = field(default_factory=dict)
    webhooks: dict[str, str] = field(default_factory=dict)
    backup: dict[str, str] = field(default_factory=dict)             # restic repository, password_file
    backups: dict[str, dict[str, str]] = field(default_factory=dict)  # the same per host (ip or name)
    deadline_rules: list[Rule] = field(default_factory=list)
    renderer: Callable[[dict, str, str], str] | None = render   # (case view, kind, lang) → HTML
    privileged: tuple[str, ...] = ("sudo", "-n")   # prefix of the commands that need root on a host


class CaseEngine:
    def __init__(self, store: Store, library: dict[str, LoadedPlaybook], wiring: Wiring | None = None, *,
                 clock: Callable[[], datetime] = utcnow):
        self.store, self.library, self.w, self.clock = store, library, wiring or Wiring(), clock
        ensure_tables(store)

    # -- writing with audit --------------------------------------------------------------------
    @contextmanager
    def transaction(self, case: dict[str, Any]) -> Iterator[CaseTx]:
        """One write on ``case``: its changes and audit entries commit together, then go out as events."""
        with self.store.write() as c:
            tx = CaseTx(c, case, self.clock)
            yield tx
        self._emit(tx.entries)

    def set_step(self, case: dict, step_id: str, state: str, actor: str, what: str, result: dict | None = None,
                 **data: Any) -> None:
        """A step's new state in a transaction of its own (see :meth:`CaseTx.set_step`)."""
        with self.transaction(case) as tx:
            tx.set_step(step_id, state, actor, what, result, **data)

    def _emit(self, entries: list[dict]) -> None:
        if entries:
            attrs = {cid: self._attrs(cid) for cid in {e["case_id"] for e in entries}}
            self.store.record([_event(e, attrs[e["case_id"]]) for e in entries])

    def _attrs(self, case_id: str) -> dict[str, Any]:
        """The case's attributes every event carries (the reports read the latest one)."""
        from .operations import case_deadlines
        case = case_row(self.store, case_id)
        rec = case["record"]
        ds = case_deadlines(self, case, self.clock())
        due = [d for d in ds if d.met_at or d.missed]
        try:
            damage = float(rec.get("damage_vnd") or 0)
        except ValueError:
            damage = 0.0
        return {"title": case["title"], "type": case["incident_type"], "help": rec.get("help") or "self",
                "damage_vnd": damage, "supporters": list(rec.get("supporters", [])), "status": case["status"],
                "phase": case["phase"], "deadline_met": (not any(d.missed for d in due)) if due else None,
                "dry_run": bool(case["dry_run"])}

    # -- opening -------------------------------------------------------------------------------
    def playbook(self, playbook_id: str) -> LoadedPlaybook:
        if playbook_id not in self.library:
            raise unknown("playbook", playbook_id, self.library)
        return self.library[playbook_id]

    def open_case(self, playbook_id: str, *, agency: str, findings: list[dict] = (), host: str | None = None,
                  system: str | None = None, level: int | None = None, detected_at: datetime | None = None,
                  context: dict | None = None, actor: str = "citysec", dry_run: bool = False,
                  trigger_key: str | None = None, by_hand: bool = True) -> str:
        lp = self.playbook(playbook_id)
        pb = lp.playbook
        if by_hand and not pb.manual_start:
            raise UsageError(f"playbook {pb.id} cannot be opened by hand (manual_start: false)")
        now = self.clock()
        detected = detected_at or min((parse_ts(f["@timestamp"]) for f in findings), default=now)
        existing = None
        case_id = f"IR-{now:%Y%m%d}-{secrets.token_hex(3)}"
        case = {"id": case_id, "agency": agency, "host": host, "severity": pb.severity, "playbook": pb.id}
        with self.transaction(case) as tx:
            if trigger_key:
                row = tx.execute("SELECT id FROM cases WHERE playbook=? AND trigger_key=? AND status!='closed'"
                                 " AND dry_run=0", (pb.id, trigger_key)).fetchone()
                if row:
                    existing = row[0]
            if not existing:
                record = {"context": context or {}, "summary": pb.title.en}
                tx.execute("INSERT INTO cases (id, playbook, playbook_version, playbook_sha256, title, incident_type,"
                           " severity, agency, host, system, level, status, phase, dry_run, trigger_key, detected_at,"
                           " opened_at, record) VALUES (?,?,?,?,?,?,?,?,?,?,?,'open',?,?,?,?,?,?)",
                           (case_id, pb.id, pb.version, lp.sha256, pb.title.vi, pb.incident_type, pb.severity,
                            agency, host, system, level, pb.phases[0].id, int(dry_run), trigger_key, iso(detected),
                            iso(now), json.dumps(record, ensure_ascii=False)))
                for f in findings:
                    tx.execute("INSERT OR IGNORE INTO case_findings VALUES (?,?,?)", (case_id, finding_ref(f),
                                                                                       json.dumps(f)))
                for _, step in pb.steps():
                    tx.execute("INSERT INTO case_steps (case_id, step_id, state) VALUES (?,?,'pending')",
                               (case_id, step.id))
                tx.audit(actor, "opened", playbook=pb.id, version=pb.version, sha256=lp.sha256,
                         detected_at=iso(detected), dry_run=dry_run, trigger=trigger_key,
                         findings=[f["event"]["id"] for f in findings], by_hand=by_hand)
        if existing:   # the incident is already open: what was found joins it
            for f in findings:
                self.attach(existing, f, actor)
            return existing
        return case_id

    def open_incident(self, playbook_id: str, trigger_key: str, legacy_key: str | None = None) -> str | None:
        """The open case (not a dry run) of this playbook and correlation key, if there is one
        (``legacy_key``: the finding's fingerprint, the key of cases opened before correlation)."""
        rows = self.store.query("SELECT id FROM cases WHERE playbook=? AND trigger_key IN (?,?) AND status!='closed'"
                                " AND dry_run=0 ORDER BY opened_at LIMIT 1",
                                (playbook_id, trigger_key, legacy_key or trigger_key))
        return rows[0]["id"] if rows else None

    def attach(self, case_id: str, doc: dict, actor: str = "citysec") -> int:
        """Attach another finding or alert to an open case (a later finding of the same incident); the
        case's audit log (its timeline) records it. A repeat of a finding the case holds changes nothing."""
        case = case_row(self.store, case_id)
        ref = finding_ref(doc)
        with self.transaction(case) as tx:
            n = tx.execute("INSERT OR IGNORE INTO case_findings VALUES (?,?,?)",
                           (case["id"], ref, json.dumps(doc))).rowcount
            if n:
                tx.audit(actor, "finding_attached", finding=doc["event"]["id"], ref=ref,
                         check=doc.get("citysec", {}).get("check"), at=doc.get("@timestamp"))
        return n

    # -- running -------------------------------------------------------------------------------
    def advance(self, case_id: str, actor: str = "citysec") -> dict:
        """Run steps in order until one waits for a person, fails, or the case closes."""
        for _ in range(1000):
            case = case_row(self.store, case_id)
            if case["status"] == "closed":
                break
            pb = self.playbook(case["playbook"]).playbook
            steps = steps_of(self.store, case["id"])
            self._phase_marks(case, pb, steps, actor)
            nxt = next(((p, s) for p, s in pb.steps() if steps[s.id]["state"] not in TERMINAL), None)
            if nxt is None:
                self._close(case, actor)
                break
            if not self._step(case, pb, nxt[0], nxt[1], steps, actor):
                break
        return self.show(case_id)

    def _step(self, case, pb, phase, step, steps, actor) -> bool:
        """Handle one step; True when the engine may go on to the next."""
        st = steps[step.id]
        if st["state"] == "failed":
            return False
        if not condition_holds(step.when, case, findings_of(self.store, case["id"])):
            self.set_step(case, step.id, "skipped", actor, "step_skipped", reason="condition not met")
            return True
        if step.kind == "manual":
            if st["state"] != "waiting":
                self.set_step(case, step.id, "waiting", actor, "step_waiting", role=step.role)
            return False
        if step.kind == "approval":
            return self._approval_state(case, step, actor)
        from .runner import run_action  # the action runner needs the engine's writing helpers
        return run_action(self, case, pb, step, st, actor)

    def _approval_state(self, case, step, actor) -> bool:
        approvals = [a for a in approvals_of(self.store, case["id"]) if a["step_id"] == step.id]
        if any(a["decision"] == "decline" for a in approvals):
            return True
        if len({a["actor"] for a in approvals if a["decision"] == "approve"}) >= step.approvers:
            self.set_step(case, step.id, "done", actor, "approval_granted",
                            approvers=[a["actor"] for a in approvals])
            return True
        if steps_of(self.store, case["id"])[step.id]["state"] != "waiting":
            self.set_step(case, step.id, "waiting", actor, "approval_waiting", role=step.role,
                            approvers_needed=step.approvers)
        return False

    def _phase_marks(self, case, pb, steps, actor) -> None:
        model = PHASE_MODELS[pb.phase_model]
        done = {p.id for p in pb.phases if all(steps[s.id]["state"] in TERMINAL for s in p.steps)}
        current = next((p.id for p in pb.phases if p.id not in done), pb.phases[-1].id)
        marks = {"contained_at": model["contained"] in done, "response_ended_at": model["response_ended"] in done}
        todo = {k for k, v in marks.items() if v and not case[k]}
        if current == case["phase"] and not todo:
            return
        with self.transaction(case) as tx:
            for col in sorted(todo):
                tx.mark_time(col)
                tx.audit(actor, col.removesuffix("_at"))
            if current != case["phase"]:
                tx.set_phase(current)
                tx.audit(actor, "phase_entered", phase=current, left=case["phase"])

    def _close(self, case, actor) -> None:
        with self.transaction(case) as tx:
            tx.close()
            tx.audit(actor, "closed")

    def resume_all(self, actor: str = "citysec") -> list[str]:
        """After a crash or restart: re-send every audit entry as an event (ids are deterministic,
        so nothing duplicates) and advance every case that is not closed."""
        ids = [r["id"] for r in self.store.query("SELECT id FROM cases WHERE status!='closed' ORDER BY opened_at")]
        for case_id in ids:
            case = case_row(self.store, case_id)
            rows = self.store.query("SELECT * FROM case_audit WHERE case_id=? ORDER BY seq", (case_id,))
            self._emit([dict(r) | {"data": json.loads(r["data"]), "agency": case["agency"], "host": case["host"],
                                   "severity": case["severity"], "playbook": case["playbook"]} for r in rows])
            try:
                self.advance(case_id, actor)
            except CitysecError:
                continue  # recorded as a failed step by the runner; other cases still resume
        return ids

    def action_context(self, case: dict, step_id: str | None, actor: str) -> ActionContext:
        view = {"id": case["id"], "playbook": case["playbook"], "title": case["title"], "agency": case["agency"],
                "host": case["host"], "severity": case["severity"], "status": case["status"],
                "detected_at": case["detected_at"], "step": step_id, "actor": actor}
        render = None
        if self.w.renderer is not None:
            from .views import case_view
            render = lambda kind, lang: self.w.renderer(case_view(self, case["id"]), kind, lang)
        return ActionContext(case=view, transport=self.w.transport, clock=self.clock,
                             sensor_ips=tuple(self.w.sensor_ips), evidence_dir=self.w.evidence_dir,
                             reports_dir=self.w.reports_dir, smtp=self.w.smtp, webhooks=self.w.webhooks,
                             render_report=render, backup=self.w.backup, backups=self.w.backups,
                             privileged=tuple(self.w.privileged))

    def show(self, case_id: str) -> dict:
        from .views import case_view
        return case_view(self, case_id)


def finding_ref(doc: dict) -> str:
    """How a case holds a finding: a check result by its fingerprint (its repeats are the same
    finding), an alert by its event id."""
    if doc["event"]["kind"] == "state" and doc.get("citysec", {}).get("fingerprint"):
        return doc["citysec"]["fingerprint"]
    return doc["event"]["id"]


def _ip_or_none(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _event(e: dict, attrs: dict) -> Finding:
    data = {k: v for k, v in e["data"].items() if k not in ("output", "custody", "payload")}
    return Finding(check=f"case.{e['what']}", agency=e["agency"], kind="event", dataset="citysec.case",
                   severity=e["severity"], message=f"{e['case_id']} #{e['seq']} {e['what']}",
                   host_ip=_ip_or_none(e.get("host")), host_name=e.get("host"), subject=e["case_id"], timestamp=parse_ts(e["ts"]),
                   type=("info",), user_name=e["actor"],
                   details={"id": e["case_id"], "playbook": e["playbook"], "seq": e["seq"], "action": e["what"],
                            "actor": e["actor"], "hash": e["hash"], "data": json.dumps(data, default=str)[:4000],
                            **attrs})
