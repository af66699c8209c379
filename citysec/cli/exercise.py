"""citysec exercise list|validate|plan|run|runs|status|pause|resume|abort (and, from
exercise_eval, rate|survey|aar|actions|close|reopen). Thin: exercises/ does the work; this
module wires the configuration, the range, the channels and the city's jobs into it."""

from __future__ import annotations

import os
import time

import click

from findings.errors import ConfigError, UsageError

from citysec.cli.context import App, emit, json_option, pass_app
from citysec.cli.output import line_text, print_records, print_rows

range_state_option = click.option("--range-state", default="var/range", show_default=True,
                                  help="State folder of the range the drill acts on (citysec range up).")


def context(app: App, range_state: str | None):
    """What a scenario is validated against: the city's agencies, the playbooks, the range's hosts."""
    from exercises.validate import Context

    from citysec.jobs.cases import library
    hosts = None
    rng = _range(range_state, required=False)
    if rng is not None:
        hosts = frozenset(h.name for h in rng.hosts)
    else:
        from exercises.range import load_spec

        from citysec.cli.demo import default_range_file
        hosts = frozenset(h.name for h in load_spec(default_range_file()).hosts)
    from citysec.scheduler.spec import SpecError, parse_spec

    def schedule_check(text: str) -> str | None:
        try:
            parse_spec(text)
        except SpecError as exc:
            return str(exc)
        return None
    return Context(agencies=frozenset(a.id for a in app.city.agencies), schedule_check=schedule_check,
                   playbooks={pid: {s.id for _, s in lp.playbook.steps()} for pid, lp in library(app).items()},
                   hosts=hosts)


def _range(state_dir: str | None, required: bool):
    from citysec.cli.range_cmd import current
    if state_dir and os.path.exists(os.path.join(state_dir, "spec.yaml")):
        return current(state_dir)
    if required:
        raise UsageError(f"no range in {state_dir} (run `citysec range up` first, or --mode tabletop)")
    return None


def load(app: App, file: str, range_state: str | None):
    from exercises.validate import load_scenario, resolve
    return load_scenario(resolve(file), context(app, range_state))


def setup(app: App, mode: str, range_state: str | None, scenario=None):
    """The runner's wiring: range, channels, the city's jobs and their schedules, approvals."""
    from exercises.messages import Channels
    from exercises.runner import Setup

    from citysec.jobs import run_job
    from citysec.scheduler.spec import parse_spec
    city = app.city
    smtp = app.smtp()
    names = city.exercises.lapse_webhooks
    hooks = {n: u for n, u in city.notify.webhooks.items() if names is None or n in names}
    texts = city.schedules.model_dump()
    if scenario is not None:
        texts.update(scenario.schedules)
    schedules = {job: parse_spec(texts[job]).period for job in ("discovery", "services", "antivirus", "backup",
                                                                "logs", "cases") if job in texts}

    def retests(store, run_id):
        from exercises import evaluation
        return evaluation.apply_retests(store, run_id)

    return Setup(range=None if mode == "tabletop" else _range(range_state, required=True),
                 channels=Channels(smtp=smtp, webhooks=hooks, folder=app.config.resolve(city.exercises.out_dir)),
                 run_job=lambda job, agency=None: run_job(app, job, agency=agency), schedules=schedules,
                 approved=frozenset(t.address for t in city.exercises.approved_targets), on_complete=retests)


def _organiser(app: App) -> str:
    """The agency of this instance's sensor (the city SOC), else the first agency."""
    sensor = next((x for x in app.city.sensors if x.id == app.sensor), None)
    return sensor.agency if sensor else app.city.agencies[0].id


def _plan_rows(sc) -> list[dict]:
    return [{"number": i.number, "at": i.at, "method": i.method, "from": i.from_, "to": i.to,
             "synopsis": str(i.synopsis), "expected_action": str(i.expected_action), "objective": i.objective,
             "technical": i.technical.type if i.technical else None,
             "expectations": [f"{e.kind}:{e.check or e.playbook or ''}{'/' + e.step if e.step else ''}"
                              f" ≤{e.within}" for e in i.expectations]} for i in sc.msel]


def _render_status(s: dict) -> None:
    import textwrap
    click.echo(f"{s['id']}  [{s['state']}{'' if s['control'] == 'run' else ', ' + s['control'] + ' asked'}]"
               f"  {s['mode']} ×{s['speed']:g}  scenario time {s['scenario_time']} of {s['length']}")
    click.echo(f"  {textwrap.shorten(line_text(s['title']), 76, placeholder=' …')}")
    e = s["expectations"]
    click.echo(f"  expectations: {e['met']} met, {e['missed']} missed, {e['pending']} pending, "
               f"{e['rated']} for the evaluators")
    for i in s["injects"]:
        head = f"  #{i['number']:<3} {i['at']:>6} {i['state'] or '-':<8} {i['method']:<9} "
        click.echo(head + textwrap.shorten(line_text(i["synopsis"]), max(80 - len(head), 20), placeholder=" …"))
        times = [f"detect {i['time_to_detect_s']:g}s" if i["time_to_detect_s"] is not None else "",
                 f"respond {i['time_to_respond_s']:g}s" if i["time_to_respond_s"] is not None else "",
                 f"cleanup {i['cleanup']}" if i["cleanup"] not in (None, "none") else ""]
        if any(times):
            click.echo("        " + ", ".join(t for t in times if t))
        for x in i["expectations"]:
            state = "for evaluators" if x["state"] == "rated" else x["state"]   # judged by a person, not yet "rated"
            click.echo(f"        {state:<14} {x['id']} ({x['kind']}, {x['severity']})"
                       + (f" after {x['after_s']:g}s" if x["after_s"] is not None else ""))
    for n in s["next"]:
        head = f"  next: #{n['number']} at {n['at']} (in {n['in_s']:g} scenario s): "
        click.echo(head + textwrap.shorten(line_text(n["synopsis"]), max(80 - len(head), 20), placeholder=" …"))
    for lp in s["lapses"]:
        click.echo(f"  LAPSE {lp['at']}: {line_text(lp['message'])}")


def register(cli: click.Group) -> None:
    @cli.group("exercise")
    def exercise_group() -> None:
        """Drills: scenarios (MSEL), runs on the range, status, evaluation, after-action reports."""

    @exercise_group.command("list")
    @json_option
    @pass_app
    def ex_list(app: App, as_json: bool) -> None:
        """The built-in scenarios and the latest runs."""
        from exercises.status import runs
        from exercises.validate import builtin, load_scenario, summary
        data = {"scenarios": [summary(load_scenario(p).scenario) | {"path": p} for p in builtin()],
                "runs": runs(app.store)}

        def render(d: dict) -> None:
            print_records("scenarios", [([s["id"], f"{s['injects']} injects ({s['technical']} technical)",
                                          f"{s['expectations']} expectations", f"{s['length_minutes']:g} min"],
                                         s["title"]) for s in d["scenarios"]], "no scenarios")
            click.echo("runs")
            print_rows(None, [[r["id"], r["state"], f"{r['mode']} ×{r['speed']:g}", r["started_at"]]
                              for r in d["runs"]], "no drill runs yet", indent="  ")
        emit(data, as_json, render)

    @exercise_group.command("validate")
    @click.argument("file")
    @range_state_option
    @json_option
    @pass_app
    def ex_validate(app: App, file: str, range_state: str, as_json: bool) -> None:
        """Check a scenario (file or built-in id): all problems with file, line and YAML path (exit 2)."""
        from exercises.validate import summary
        s = summary(load(app, file, range_state).scenario)
        emit(s, as_json, lambda d: click.echo(f"{d['id']}: valid — {d['injects']} injects, {d['expectations']}"
                                              f" expectations, {d['objectives']} objectives"))

    @exercise_group.command("plan")
    @click.argument("file")
    @range_state_option
    @json_option
    @pass_app
    def ex_plan(app: App, file: str, range_state: str, as_json: bool) -> None:
        """The MSEL as a table."""
        rows = _plan_rows(load(app, file, range_state).scenario)

        def render(rs: list) -> None:
            from citysec.cli.output import print_records
            print_records(None, [([f"#{r['number']}", r["at"], r["technical"] or r["method"],
                                   f"{r['from']} → {', '.join(r['to'])}"],
                                  [r["synopsis"], f"expected: {r['expected_action']}", f"objective: {r['objective']}",
                                   *(f"check: {e}" for e in r["expectations"])]) for r in rs], "no injects")
        emit(rows, as_json, render)

    @exercise_group.command("run")
    @click.argument("file")
    @click.option("--mode", type=click.Choice(["live", "accelerated", "tabletop"]), default="live", show_default=True,
                  help="live: real time on the range; accelerated: compressed time (--speed); "
                       "tabletop: no technical inject, messages only.")
    @click.option("--speed", type=float, default=1.0, show_default=True,
                  help="Accelerated: scenario seconds per real second (injects, windows and schedules compressed).")
    @click.option("--jobs", type=click.Choice(["scheduled", "external"]), default=None,
                  help="scheduled: this run runs the city's jobs on their schedule (compressed); external: "
                       "a `citysec run` scheduler already does (default: scheduled unless live).")
    @click.option("--run-id", default=None, help="The run's id (default: <scenario>-<time>).")
    @range_state_option
    @pass_app
    def ex_run(app: App, file: str, mode: str, speed: float, jobs: str | None, run_id: str | None,
               range_state: str) -> None:
        """Run a drill in the foreground; pause/resume/abort it from another shell."""
        from exercises.runner import Runner, record_refusal, start
        try:
            loaded = load(app, file, range_state)
        except ConfigError as exc:   # a technical inject aimed where it may not go: on the record
            refused = [p for p in exc.problems if ".technical" in p.split(": ", 3)[-2:][0]]
            if refused:
                record_refusal(app.store, file, refused, _organiser(app))
            raise
        st = setup(app, mode, range_state, loaded.scenario)
        rid = start(app.store, loaded, mode=mode, speed=speed, jobs=jobs or ("external" if mode == "live" else "scheduled"),
                    setup=st, run_id=run_id)
        click.echo(f"drill run {rid} started ({mode}, ×{speed if mode != 'live' else 1:g}); "
                   f"`citysec exercise status {rid}` shows it", err=True)
        final = Runner(app.store, rid, st).loop()
        click.echo(f"drill run {rid}: {final}", err=True)

    @exercise_group.command("runs")
    @json_option
    @pass_app
    def ex_runs(app: App, as_json: bool) -> None:
        """The latest drill runs."""
        from exercises.status import runs
        emit(runs(app.store), as_json, lambda rs: print_rows(
            ["run", "state", "mode", "started", "title"],
            [[r["id"], r["state"], f"{r['mode']} ×{r['speed']:g}", r["started_at"], r["title"]] for r in rs],
            "no drill runs yet"))

    @exercise_group.command("status")
    @click.argument("run_id")
    @click.option("--watch", is_flag=True, help="Refresh every 2 s until the run ends.")
    @json_option
    @pass_app
    def ex_status(app: App, run_id: str, watch: bool, as_json: bool) -> None:
        """Timeline, next injects, expectations met and pending, time to detect and to respond."""
        from exercises.status import status
        while True:
            s = status(app.store, run_id)
            if watch and not as_json:
                click.clear()
            emit(s, as_json, _render_status)
            if not watch or s["state"] not in ("running", "paused"):
                return
            time.sleep(2)

    for verb in ("pause", "end", "abort"):
        _control_command(exercise_group, verb)

    @exercise_group.command("resume")
    @click.argument("run_id")
    @range_state_option
    @json_option
    @pass_app
    def ex_resume(app: App, run_id: str, range_state: str, as_json: bool) -> None:
        """Resume a paused run; a run whose runner died (kill -9) is taken over and driven here."""
        from exercises import db
        from exercises.runner import Runner, control, driver
        db.ensure_tables(app.store)
        run = db.run_row(app.store, run_id)
        control(app.store, run["id"], "resume")
        if pid := driver(run):
            _control_out({"id": run["id"], "action": "resume", "driven_by": pid, "state": run["state"]},
                         as_json, f"resume asked of its runner (pid {pid})")
            return
        from exercises.validate import from_text
        st = setup(app, run["mode"], run["range_state"] or range_state, from_text(run["scenario_text"], ""))
        if not as_json:
            click.echo(f"drill run {run['id']}: its runner is gone; taking over", err=True)
        final = Runner(app.store, run["id"], st).loop()
        _control_out({"id": run["id"], "action": "resume", "driven_by": os.getpid(), "state": final}, as_json, final)

    from citysec.cli import exercise_eval
    exercise_eval.register(exercise_group)


CONTROL_HELP = {"pause": "Pause a run: no inject is sent and scenario time stands still until resume.",
                "end": "ENDEX: the drill is over now. Injects not sent are skipped, what the players have not"
                       " done yet is missed, every cleanup runs; the run completes and is scored as it stands.",
                "abort": "The kill switch: stop sending injects and run (and verify) every cleanup."}


def _control_out(data: dict, as_json: bool, text: str) -> None:
    """What pause, resume and abort did: JSON on stdout, or one line on stderr."""
    emit(data, as_json, lambda d: click.echo(f"drill run {d['id']}: {text}", err=True))


def _control_command(group: click.Group, verb: str) -> None:
    @group.command(verb, help=CONTROL_HELP[verb])
    @click.argument("run_id")
    @json_option
    @pass_app
    def cmd(app: App, run_id: str, as_json: bool) -> None:
        from exercises.runner import control
        r = control(app.store, run_id, verb)
        out = {"id": r["id"], "action": verb, "driven_by": r["driven_by"], "state": r["state"]}
        if r["driven_by"]:
            _control_out(out, as_json, f"{verb} asked of its runner (pid {r['driven_by']})")
        elif verb == "pause":
            _control_out(out | {"state": "paused"}, as_json,
                         "paused (no live runner; `citysec exercise resume` drives it)")
        else:   # end and the kill switch work without the runner too: finish and clean up here
            from exercises.runner import Runner
            from exercises.validate import from_text
            st = setup(app, r["mode"], r["range_state"], from_text(r["scenario_text"], ""))
            if not as_json:
                doing = "ending" if verb == "end" else "aborting"
                click.echo(f"drill run {r['id']}: no live runner; {doing} and cleaning up here", err=True)
            final = Runner(app.store, r["id"], st).loop()
            _control_out(out | {"driven_by": os.getpid(), "state": final}, as_json, final)
