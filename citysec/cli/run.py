"""citysec run [--once] [--only JOB]: the scheduler as a service; and the schedule in `citysec status`."""

from __future__ import annotations

import logging
import os
import signal
import threading
from typing import TYPE_CHECKING, Any

import click

from findings.errors import RuntimeFailure, UsageError

from citysec.logging_setup import LEVELS, setup_logging
from citysec.cli.context import App, emit, json_option, pass_app
from citysec.cli.status_parts import part

if TYPE_CHECKING:  # the scheduler's modules are imported when `run` or `status` needs them
    from citysec.scheduler.exec import ChildSpec
    from citysec.scheduler.plan import PlannedJob
    from citysec.scheduler.loop import Launch, Scheduler

log = logging.getLogger("citysec.scheduler")
BAD_OUTCOMES = ("failed", "timeout", "interrupted")


def make_scheduler(app: App, plan: list[PlannedJob], sensor: str | None, launch: Launch) -> Scheduler:
    from citysec.scheduler.calendar import load_calendar
    from citysec.scheduler.loop import Scheduler
    return Scheduler(store=app.store, city=app.city, plan=plan, sensor=sensor, launch=launch,
                     workers=app.city.schedules.workers,
                     calendar=load_calendar(app.city.profile))


def child_launcher(app: App, spec: ChildSpec) -> Launch:
    from citysec.scheduler.exec import run_child
    return lambda job, stop: run_child(app.store, job.name, spec, job.timeout, stop)


def install_signals(sched: Scheduler, grace: float) -> None:
    """SIGTERM/SIGINT: stop taking jobs, give running ones ``grace`` s; a second signal: stop now."""
    count = [0]

    def stop(signum: int, n: int) -> None:
        log.warning("%s received: %s", signal.Signals(signum).name,
                    f"stopping after the running jobs (grace {grace:g} s)" if n == 1 else "stopping now")
        sched.request_stop(grace if n == 1 else 0.0)

    def handler(signum: int, _frame: Any) -> None:
        # A handler runs in the main thread between two bytecodes, possibly while that thread holds
        # the lock of an Event or of a log handler: taking those locks here could deadlock. Do the
        # work in a thread of its own.
        count[0] += 1
        threading.Thread(target=stop, args=(signum, count[0]), name="citysec-signal", daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def register(cli: click.Group) -> None:
    @cli.command("run")
    @click.option("--once", is_flag=True, help="Run each due job once, wait for them, exit (for cron, the demo).")
    @click.option("--only", "only", multiple=True, metavar="JOB",
                  help="Only this job (repeatable). With --once: run it now, due or not.")
    @click.option("--grace", type=click.FloatRange(0), default=30.0, show_default=True,
                  help="Seconds running jobs get to finish after SIGTERM/SIGINT.")
    @click.option("--log-file", default=None, help="Write the JSON log here instead of stderr.")
    @click.option("--log-level", type=click.Choice(LEVELS), default="info", show_default=True,
                  help="The least severe log records written.")
    @click.option("--jobs-module", "jobs_modules", multiple=True, metavar="MODULE",
                  help="Also load the jobs of this Python module (JOBS and SCHEDULES mappings); "
                       "for tests and a site's own jobs. Never replaces a built-in job.")
    @json_option
    @pass_app
    def run_cmd(app: App, once: bool, only: tuple[str, ...], grace: float, log_file: str | None,
                log_level: str, jobs_modules: tuple[str, ...], as_json: bool) -> None:
        """Run the jobs of the config on their schedules (a service: see docs/operations.md).

        Each job runs in its own process with its timeout (schedules.timeout_seconds), at most
        once at a time per sensor; after downtime a late job runs once. Exit 3 with --once when a
        job failed, timed out or was interrupted."""
        from citysec.scheduler.exec import ChildSpec
        from citysec.scheduler.plan import build_plan, load_job_modules
        from citysec.share import resolve_sensor
        load_job_modules(jobs_modules)
        sensor = resolve_sensor(app.city, app.sensor)
        setup_logging(level=log_level, log_file=log_file, sensor=sensor)
        plan = build_plan(app.config, only)
        spec = ChildSpec(config_path=os.path.abspath(app.config.path), sensor=sensor,
                         job_modules=jobs_modules, log_file=log_file, log_level=log_level)
        sched = make_scheduler(app, plan, sensor, child_launcher(app, spec))
        install_signals(sched, grace)
        log.info("citysec run started", extra={"citysec": {"jobs": [j.name for j in plan], "once": once,
                                                             "pid": os.getpid()}})
        if not once:
            sched.run_forever(grace)
            log.info("citysec run stopped")
            return
        outcomes = sched.run_once(list(only) or None)
        emit(outcomes, as_json, lambda d: [click.echo(f"{k}: {v}") for k, v in d.items()] or
             click.echo("no job is due"))
        bad = {k: v for k, v in outcomes.items() if v in BAD_OUTCOMES}
        if bad:
            raise RuntimeFailure("jobs did not succeed: " + ", ".join(f"{k} ({v})" for k, v in bad.items()))


@part
def _schedule(app: App) -> tuple[str, Any]:
    """Last and next run of each scheduled job, and report reminders (drafts before due dates)."""
    from citysec.scheduler.plan import build_plan
    from citysec.share import resolve_sensor
    try:
        sensor = resolve_sensor(app.city, app.sensor)
    except UsageError as exc:
        return "schedule", {"error": str(exc)}
    sched = make_scheduler(app, build_plan(app.config), sensor, launch=_no_launch)
    out: dict[str, Any] = {"sensor": sensor, **sched.status()}
    reminders = sched.reminders()
    if reminders:
        out["report_reminders"] = reminders
    return "schedule", out


def _no_launch(job: PlannedJob, _stop: Any) -> str:
    raise AssertionError(f"status does not run jobs ({job.name})")
