"""citysec exercise rate|survey|aar|actions|actions add|close|reopen|retest: the evaluation of a
drill and its improvement plan. Thin: exercises.evaluation and exercises.aar_data do the work,
reports.aar lays out the after-action report."""

from __future__ import annotations

import sys

import click

from findings.errors import UsageError

from citysec.cli.context import App, acting_user, by_option, emit, json_option, pass_app

AAR_FORMATS = ("html", "pdf", "md")


def _store(app: App):
    from exercises import db
    db.ensure_tables(app.store)
    return app.store


def _render_actions(rows: list[dict]) -> None:
    from citysec.cli.output import print_records
    print_records(None, [([a["id"], a["status"], f"due {a['due']}", a["agency"]],
                          [a["title"], f"contact {a['contact'] or '-'}; drill {a['run_id']}"
                           + (f"; retested in {a['retest_run']}" if a["retest_run"] else "")]) for a in rows],
                  "no corrective actions")


def register(group: click.Group) -> None:
    @group.command("rate")
    @click.argument("run_id")
    @click.argument("objective")
    @click.argument("rating", metavar="P|S|M|U", type=click.Choice(["P", "S", "M", "U"], case_sensitive=False))
    @click.option("--note", required=True, help="The evaluator's note (what was observed).")
    @click.option("--agency", default=None, help="The rated agency (default: every agency of the objective).")
    @click.option("--by", "--evaluator", "evaluator", default=None,
                  help="Who rates (default: $CITYSEC_USER, $SUDO_USER or the login name).")
    @click.option("--strength", "strengths", multiple=True, help="A strength observed (repeatable).")
    @click.option("--improvement", "improvements", multiple=True, help="An area for improvement (repeatable).")
    @json_option
    @pass_app
    def ex_rate(app: App, run_id, objective, rating, note, agency, evaluator, strengths, improvements,
                as_json) -> None:
        """Rate an objective P, S, M or U (HSEEP); a rating given again replaces the earlier one."""
        from exercises import evaluation as ev
        rows = ev.rate(_store(app), run_id, objective, rating, agency=agency, evaluator=acting_user(evaluator),
                       note=note, strengths=strengths, improvements=improvements)
        emit(rows, as_json, lambda rs: [click.echo(f"{r['run_id']}: {r['objective']} {r['agency']} rated {r['rating']}")
                                        for r in rs])

    @group.command("survey")
    @click.argument("run_id")
    @click.option("--participant", required=True, help="The participant's id in the scenario.")
    @click.option("--answer", "answers", multiple=True,
                  help="One answer per survey question, in order (none: asked one by one on a terminal).")
    @json_option
    @pass_app
    def ex_survey(app: App, run_id, participant, answers, as_json) -> None:
        """Record a participant's answers to the drill's survey."""
        from exercises import evaluation as ev
        store = _store(app)
        if not answers:
            if not sys.stdin.isatty():
                raise UsageError("give --answer once per survey question (or run on a terminal to be asked)")
            _, sc = ev.run_and_scenario(store, run_id)
            answers = tuple(click.prompt(str(q)) for q in sc.survey.questions)
        out = ev.survey(store, run_id, participant, list(answers))
        emit(out, as_json, lambda o: click.echo(f"{o['run']}: {len(o['answers'])} answers of {o['participant']} recorded"))

    @group.command("aar")
    @click.argument("run_id")
    @click.option("--format", "fmt_", type=click.Choice(AAR_FORMATS), default="html", show_default=True,
                  help="The report's format.")
    @click.option("--lang", type=click.Choice(["vi", "en"]), default=None, help="vi (default) or en.")
    @click.option("--out", default=None, help="Output file (default: standard output; PDF: reports.out_dir).")
    @pass_app
    def ex_aar(app: App, run_id, fmt_, lang, out) -> None:
        """The after-action report and improvement plan of a drill run (HSEEP)."""
        from exercises.aar_data import aar_data
        from findings.model import utcnow
        from reports import aar

        from citysec.cli.report import deliver
        data = aar_data(_store(app), run_id)
        names = {a.id: (a.name_en if (lang or app.city.reports.lang) == "en" and a.name_en else a.name)
                 for a in app.city.agencies}
        doc = aar.build(data, lang or app.city.reports.lang, names=names, generated=utcnow())
        deliver(doc, fmt_, out, app, f"aar-{data['overview']['run']}")

    @group.group("actions", invoke_without_command=True)
    @click.option("--open", "open_only", is_flag=True, help="Only the open ones.")
    @click.option("--agency", default=None, help="Only this responsible organisation.")
    @json_option
    @click.pass_context
    def ex_actions(ctx: click.Context, open_only, agency, as_json) -> None:
        """Corrective actions of every drill's improvement plan (by due date); `actions add` adds one."""
        if ctx.invoked_subcommand is not None:
            return
        from exercises import evaluation as ev
        app = ctx.find_object(App)
        emit(ev.list_actions(_store(app), open_only=open_only, agency=agency), as_json, _render_actions)

    @ex_actions.command("add")
    @click.argument("run_id")
    @click.option("--title", required=True, help="What is to be done.")
    @click.option("--agency", required=True, help="The responsible organisation (a participant or the organiser).")
    @click.option("--contact", required=True, help="Who answers for it (name, phone or e-mail).")
    @click.option("--due", required=True, help="Due date, YYYY-MM-DD.")
    @click.option("--start", default=None, help="Start date, YYYY-MM-DD (default: today).")
    @click.option("--objective", default=None, help="The drill objective it improves (retests judge by it).")
    @json_option
    @pass_app
    def ex_action_add(app: App, run_id, title, agency, contact, due, start, objective, as_json) -> None:
        """Add a corrective action to a drill's improvement plan."""
        from exercises import evaluation as ev
        store = _store(app)
        aid = ev.add_action(store, run_id, title=title, agency=agency, contact=contact, due=due, start=start,
                            objective=objective)
        emit(ev.action_row(store, aid), as_json, lambda a: click.echo(a["id"]))

    @group.command("close")
    @click.argument("action_id")
    @click.option("--evidence", required=True, help="What shows that it is done.")
    @by_option("Who closes it")
    @json_option
    @pass_app
    def ex_close(app: App, action_id, evidence, by, as_json) -> None:
        """Close a corrective action on evidence."""
        from exercises import evaluation as ev
        a = ev.close_action(_store(app), action_id, evidence, acting_user(by))
        emit(a, as_json, lambda x: click.echo(f"{x['id']}: closed"))

    @group.command("reopen")
    @click.argument("action_id")
    @click.option("--reason", required=True, help="Why it is not done after all.")
    @by_option("Who reopens it")
    @json_option
    @pass_app
    def ex_reopen(app: App, action_id, reason, by, as_json) -> None:
        """Open a closed corrective action again."""
        from exercises import evaluation as ev
        a = ev.reopen_action(_store(app), action_id, reason, acting_user(by))
        emit(a, as_json, lambda x: click.echo(f"{x['id']}: open"))

    @group.command("retest")
    @click.argument("run_id")
    @json_option
    @pass_app
    def ex_retest(app: App, run_id, as_json) -> None:
        """Close or reopen the corrective actions the run retests (after its ratings are in)."""
        from exercises import evaluation as ev
        out = ev.apply_retests(_store(app), run_id)

        def render(o: dict) -> None:
            for k in ("closed", "reopened", "unchanged"):
                click.echo(f"{k}: {', '.join(o[k]) or '-'}")
            for w in o["warnings"]:
                click.echo(f"warning: {w}", err=True)
        emit(out, as_json, render)
