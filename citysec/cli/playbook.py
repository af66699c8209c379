"""citysec playbook list|show|validate, citysec case open|list|show|timeline|step|approve|decline|
set|report|verify|resume. Thin: the engine (playbooks/) does the work; citysec/jobs/cases wires it."""

from __future__ import annotations

import getpass
import json
import os

import click

from citysec.cli.context import App, emit, json_option, pass_app
from findings.errors import UsageError
from findings.model import clean_text

by_option = click.option("--by", "actor", default=None,
                         help="Who does it (default: $CITYSEC_USER, $SUDO_USER or the login name).")


def _actor(actor: str | None) -> str:
    return actor or os.environ.get("CITYSEC_USER") or os.environ.get("SUDO_USER") or getpass.getuser()


def _engine(app: App):
    from citysec.jobs.cases import engine
    return engine(app)


def _t(value, limit: int = 200) -> str:
    """Text that came from hosts, findings or people, fit for a terminal: no control characters."""
    return "-" if value is None or value == "" else clean_text(str(value), limit) or "-"


def _columns(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """A header and aligned columns (plain text: greppable, no markup)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for r in [headers, *rows]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


DRY = "DRY RUN — not an incident, in no report"


def _render_case(v: dict) -> None:
    click.echo(f"{v['id']}  {v['title_en']}  [{v['severity']}]  {v['status']}  phase {v['phase']}"
               + (f"  ({DRY})" if v["dry_run"] else ""))
    click.echo(f"  playbook {v['playbook']} v{v['playbook_version']}  agency {v['agency']}  host {_t(v['host'])}")
    click.echo(f"  detected {v['detected_at']}  opened {v['opened_at']}  acknowledged {v['acknowledged_at'] or '-'}"
               f"  contained {v['contained_at'] or '-'}  closed {v['closed_at'] or '-'}")
    for d in v["deadlines"]:
        flag = "MISSED" if d["missed"] else ("met " + d["met_at"] if d["met_at"] else f"left {d['left']}")
        click.echo(f"  deadline {d['name']} ({d['report']}): due {d['due'] or 'not started'} — {flag}")
    phase = None
    for s in v["steps"]:
        if s["phase"] != phase:
            phase = s["phase"]
            click.echo(f"  [{phase}]")
        who = f" ({s['role']})" if s["role"] else (f" ({s['action']})" if s["action"] else "")
        click.echo(f"    {s['state']:<8} {s['id']}{who}: {s['title']['en']}")
    if v.get("findings"):
        click.echo(f"  findings ({len(v['findings'])}):")
        for f in v["findings"]:
            click.echo(f"    {_t(f.get('@timestamp'))} {_t(f.get('citysec', {}).get('check'))}: {_t(f.get('message'))}")


def register(cli: click.Group) -> None:
    @cli.group("playbook")
    def playbook_group() -> None:
        """Incident-response playbooks."""

    @playbook_group.command("list")
    @json_option
    @pass_app
    def pb_list(app: App, as_json: bool) -> None:
        """The playbooks of the library."""
        from citysec.jobs.cases import library
        rows = [{"id": lp.playbook.id, "version": lp.playbook.version, "title": lp.playbook.title.model_dump(),
                 "incident_type": lp.playbook.incident_type, "severity": lp.playbook.severity,
                 "triggers": [c for t in lp.playbook.triggers for c in t.checks], "path": lp.path}
                for lp in library(app).values()]
        emit(rows, as_json, lambda rs: [click.echo(f"{r['id']:<22} v{r['version']}  {r['severity']:<8} "
                                                   f"{r['title']['en']}") for r in rs])

    @playbook_group.command("show")
    @click.argument("playbook_id")
    @json_option
    @pass_app
    def pb_show(app: App, playbook_id: str, as_json: bool) -> None:
        """One playbook: triggers, phases and steps."""
        from citysec.jobs.cases import library
        lib = library(app)
        if playbook_id not in lib:
            raise UsageError(f"unknown playbook {playbook_id!r}; known: {', '.join(sorted(lib))}")
        pb = lib[playbook_id].playbook

        def render(d: dict) -> None:
            click.echo(f"{d['id']} v{d['version']}: {d['title']['vi']} / {d['title']['en']}")
            for p in d["phases"]:
                click.echo(f"  [{p['id']}] {p['title']['en']}")
                for s in p["steps"]:
                    click.echo(f"    {s['kind']:<8} {s['id']}: {s['title']['en']}")
        emit(pb.model_dump(by_alias=True), as_json, render)

    @playbook_group.command("validate")
    @click.argument("path", type=click.Path(dir_okay=False))
    @json_option
    def pb_validate(path: str, as_json: bool) -> None:
        """Validate a playbook file: every error with file, line and YAML path (exit 2)."""
        from playbooks import load_playbook
        lp = load_playbook(path)
        out = {"path": path, "valid": True, "id": lp.playbook.id, "version": lp.playbook.version,
               "steps": len(lp.playbook.steps()), "sha256": lp.sha256}
        emit(out, as_json, lambda d: click.echo(f"{path}: valid — {d['id']} v{d['version']}, {d['steps']} steps"))

    @cli.group("case")
    def case_group() -> None:
        """Incident cases: runs of playbooks."""

    @case_group.command("open")
    @click.option("--playbook", "playbook_id", required=True)
    @click.option("--finding", "finding_ids", multiple=True, help="A finding (fingerprint or prefix) or event id.")
    @click.option("--agency", default=None, help="The agency (default: the finding's).")
    @click.option("--host", default=None, help="The affected host (default: the finding's).")
    @click.option("--dry-run", is_flag=True, help="Actions only say what they would do; no host is changed.")
    @by_option
    @json_option
    @pass_app
    def case_open(app: App, playbook_id, finding_ids, agency, host, dry_run, actor, as_json) -> None:
        """Open a case by hand and run it to its first step that needs a person."""
        from citysec.jobs.cases import context_of
        docs = [_finding_doc(app, f) for f in finding_ids]
        if docs:
            agency = agency or docs[0]["organization"]["id"]
            host = host or (docs[0].get("host", {}).get("ip") or [None])[0]
        if not agency:
            raise UsageError("give --agency or --finding")
        app.agency_ids(agency)
        eng = _engine(app)
        ctx = context_of(app, agency, host)
        cid = eng.open_case(playbook_id, agency=agency, findings=docs, host=host, system=ctx.get("system_id"),
                            level=ctx.get("level"), context=ctx, actor=_actor(actor), dry_run=dry_run)
        emit(eng.advance(cid, _actor(actor)), as_json, _render_case)

    @case_group.command("list")
    @click.option("--status", type=click.Choice(["active", "open", "waiting", "blocked", "closed"]), default=None)
    @click.option("--agency", default=None)
    @json_option
    @pass_app
    def case_list(app: App, status, agency, as_json) -> None:
        """Cases, newest first."""
        from playbooks.views import list_cases
        if agency is not None:
            app.agency_ids(agency)          # an unknown agency is exit 2 ("did you mean"), not "no cases"
        rows = list_cases(_engine(app), status=status, agency=agency)

        def render(rs: list[dict]) -> None:
            if not rs:
                click.echo("no cases")
                return
            _columns(("ID", "PLAYBOOK", "SEVERITY", "AGENCY", "HOST", "STATUS", "PHASE", "DETECTED", "DRY RUN"),
                     [(r["id"], r["playbook"], r["severity"], r["agency"], _t(r["host"], 64), r["status"],
                       r["phase"] or "-", r["detected_at"], "yes" if r["dry_run"] else "") for r in rs])
            dry = sum(1 for r in rs if r["dry_run"])
            if dry:
                click.echo(f"{dry} dry run(s): not incidents, in no report or figure")
        emit(rows, as_json, render)

    @case_group.command("show")
    @click.argument("case_id")
    @json_option
    @pass_app
    def case_show(app: App, case_id, as_json) -> None:
        """A case: steps, deadlines with time left, NIST record, times."""
        emit(_engine(app).show(case_id), as_json, _render_case)

    @case_group.command("timeline")
    @click.argument("case_id")
    @json_option
    @pass_app
    def case_timeline(app: App, case_id, as_json) -> None:
        """The case's audit log: who did what, when."""
        from playbooks.views import timeline
        rows = timeline(_engine(app), case_id)

        def render(rs: list[dict]) -> None:
            _columns(("#", "TIME", "BY", "WHAT", "DETAILS"),
                     [(str(r["seq"]), r["ts"], _t(r["actor"], 40), r["what"], _details(r["data"])) for r in rs])
        emit(rows, as_json, render)

    @case_group.command("step")
    @click.argument("case_id")
    @click.argument("step_id")
    @click.option("--done", is_flag=True, help="The step is done (a manual step, or a failed action done by hand).")
    @click.option("--note", default=None, help="A note on the step.")
    @click.option("--retry", is_flag=True, help="Run a failed action again.")
    @by_option
    @json_option
    @pass_app
    def case_step(app: App, case_id, step_id, done, note, retry, actor, as_json) -> None:
        """Finish, note or retry a step."""
        from playbooks import operations as op
        if sum([done, retry]) != 1 and not note:
            raise UsageError("give --done, --retry or --note")
        eng = _engine(app)
        if note and not done:
            op.note(eng, case_id, note, _actor(actor), step_id)
        view = (op.complete_step(eng, case_id, step_id, _actor(actor), note) if done else
                op.retry_step(eng, case_id, step_id, _actor(actor)) if retry else eng.show(case_id))
        emit(view, as_json, _render_case)

    for decision in ("approve", "decline"):
        _decision_command(case_group, decision)

    @case_group.command("set", context_settings={"ignore_unknown_options": True})   # VALUE may be "-5"
    @click.argument("case_id")
    @click.argument("field")
    @click.argument("value")
    @by_option
    @json_option
    @pass_app
    def case_set(app: App, case_id, field, value, actor, as_json) -> None:
        """Set a record field (summary, impact, symptoms, ...; list fields append). Checked: help is
        self, outside, foreign or national; damage_vnd a whole number of đồng, 0 or more; conditions
        one the profile's deadline rules name; text at most 4000 characters (500 per list item),
        without control characters. Anything else exits 2 naming the field."""
        from playbooks import operations as op
        stored = op.set_field(_engine(app), case_id, field, value, _actor(actor))
        emit({"case": case_id, "field": field, "value": stored}, as_json,
             lambda d: click.echo(f"{case_id}: {field} set"))

    @case_group.command("report")
    @click.argument("case_id")
    @click.option("--kind", type=click.Choice(["notice", "initial", "final"]), required=True)
    @click.option("--lang", "langs", multiple=True, type=click.Choice(["vi", "en"]), help="Default: vi and en.")
    @click.option("--dry-run", is_flag=True, help="Say which files would be written.")
    @by_option
    @json_option
    @pass_app
    def case_report(app: App, case_id, kind, langs, dry_run, actor, as_json) -> None:
        """Write the incident notice, initial report (Decision 05 art. 11.4) or final report (HTML)."""
        from playbooks import operations as op
        out = op.generate_report(_engine(app), case_id, kind, _actor(actor), list(langs) or None, dry_run)
        emit(out, as_json, lambda o: [click.echo(p) for p in o.get("files", o.get("would_write", []))])

    @case_group.command("verify")
    @click.argument("case_id")
    @json_option
    @pass_app
    def case_verify(app: App, case_id, as_json) -> None:
        """Verify the case's hash-chained audit log (exit 3 when it was tampered with)."""
        from findings.errors import RuntimeFailure
        from playbooks import operations as op
        problems = op.verify(_engine(app), case_id)
        emit({"case": case_id, "ok": not problems, "problems": problems}, as_json,
             lambda d: click.echo(f"{case_id}: audit chain intact" if d["ok"] else "\n".join(d["problems"])))
        if problems:
            raise RuntimeFailure(f"{case_id}: the audit log fails verification ({len(problems)} problems)")

    @case_group.command("resume")
    @json_option
    @pass_app
    def case_resume(app: App, as_json) -> None:
        """Resume every case a crash or restart left mid-way (the `cases` job does it too)."""
        ids = _engine(app).resume_all()
        emit({"resumed": ids}, as_json, lambda d: click.echo(f"resumed {len(d['resumed'])} cases"))


def _details(data: dict) -> str:
    """An audit entry's data as ``key=value`` pairs on one line (long values cut)."""
    parts = []
    for k, v in data.items():
        if v in (None, "", [], {}):
            continue
        text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
        parts.append(f"{k}={_t(text, 80)}")
    return " ".join(parts)[:240] or "-"


_DECISION_HELP = {
    "approve": "Approve an approval step as ROLE (the step names it). A step that needs two approvers "
               "needs two different people (--by); the covered actions run once it is granted.",
    "decline": "Decline an approval step as ROLE (the step names it): the actions it covers are skipped "
               "and the case goes on.",
}


def _decision_command(group: click.Group, decision: str) -> None:
    @group.command(decision, help=_DECISION_HELP[decision])
    @click.argument("case_id")
    @click.argument("step_id")
    @click.option("--as", "role", required=True, help="The role you decide as (the step names it).")
    @by_option
    @json_option
    @pass_app
    def cmd(app: App, case_id, step_id, role, actor, as_json) -> None:
        from playbooks import operations as op
        emit(op.decide(_engine(app), case_id, step_id, role, _actor(actor), decision), as_json, _render_case)


def _finding_doc(app: App, key: str) -> dict:
    row = app.store.get(key)
    if row is not None:
        return json.loads(row["doc"])
    rows = app.store.query("SELECT doc FROM events WHERE id LIKE ? LIMIT 2", (key + "%",))
    if len(rows) != 1:
        raise UsageError(f"no single finding or alert with id {key!r}")
    return json.loads(rows[0]["doc"])
