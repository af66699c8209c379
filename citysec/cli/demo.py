"""citysec demo: the main job on the embedded defaults — the example range and the SQLite store.

Brings up the range that matches config/examples/haiphong.yaml, enrols the range hosts' SSH
keys (read from the range's own files, never fetched over the network), runs one full cycle
(discovery, service scan, full port sweep, antivirus, backup, logs, cases, shipping when Elasticsearch is
configured, the reports), prints a short summary and where the report is.
"""

from __future__ import annotations

import os
from importlib import resources

import click

from findings.errors import UsageError

from citysec.jobs import run_job
from citysec.cli.context import App, pass_app

CYCLE = ("discovery", "services", "portsweep", "antivirus", "backup", "logs", "cases", "ship", "reports")


def default_range_file() -> str:
    local = "exercises/range/examples/haiphong.yaml"
    if os.path.exists(local):
        return local
    return str(resources.files("exercises").joinpath("range/examples/haiphong.yaml"))


def register(cli: click.Group) -> None:
    @cli.command("demo")
    @click.option("--range", "range_file", default=None, help="The range to build (default: the Hải Phòng example).")
    @click.option("--no-range", is_flag=True, help="Use a range that is already up.")
    @click.option("--down", "down_after", is_flag=True, help="Take the range down at the end.")
    @pass_app
    def demo(app: App, range_file: str | None, no_range: bool, down_after: bool) -> None:
        """The main job: range up, one full cycle, report, summary."""
        if os.geteuid() != 0:
            raise UsageError("the demo builds network namespaces: run it as root")
        _ = app.config  # validate the configuration before building anything
        from exercises.range import Range, load_spec

        from citysec.cli.range_cmd import bring_up
        if no_range:
            rng = Range(load_spec(range_file or default_range_file()), state_dir="var/range")
        else:
            click.echo("range: bringing up the simulated city network …", err=True)
            rng, _ = bring_up(range_file or default_range_file(), "var/range")
        from citysec.cli.demo_support import enrol_range_hosts, summary, write_period_report
        enrol_range_hosts(app, rng)
        results = {}
        for job in CYCLE:
            if job == "ship" and not app.city.elasticsearch.hosts:
                click.echo(f"{job:<10} no Elasticsearch configured — findings stay in the store", err=True)
                continue
            _, counts = run_job(app, job)
            results[job] = counts
            click.echo(f"{job:<10} {', '.join(f'{k} {v}' for k, v in counts.items() if not isinstance(v, (list, dict)))}",
                       err=True)
        results["report_path"] = write_period_report(app)
        click.echo(summary(app, results))
        click.echo("console: .venv/bin/citysec serve --first-account admin   (then open http://127.0.0.1:8443/)",
                   err=True)
        if down_after:
            rng.down()
