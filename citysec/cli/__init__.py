"""The `citysec` command: a thin layer that wires the packages and maps errors to exit codes.

Exit codes: 0 done; 1 done, with findings at or above --fail-on; 2 bad usage or invalid
configuration; 3 runtime failure.
"""

from __future__ import annotations

import sys

import click

from findings.errors import CitysecError, ConfigError

from citysec.cli import collect, core, demo, es, exercise, playbook, range_cmd, report, run, scan, triage, web
from citysec.cli.context import App


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", envvar="CITYSEC_CONFIG", default=None,
              help="The city's configuration (default: config/examples/haiphong.yaml).")
@click.option("--sensor", default=None, help="This instance's sensor id (default: the config's `sensor`).")
@click.version_option(package_name="citysec")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, sensor: str | None) -> None:
    """citysec — security operations for the city's state agencies."""
    ctx.obj = App(config_path=config_path, sensor_override=sensor)


for _module in (core, es, range_cmd, scan, collect, run, playbook, exercise, report, demo, triage, web):
    _module.register(cli)


def main(argv: list[str] | None = None) -> None:
    try:
        rv = cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(3)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except ConfigError as exc:
        click.echo("invalid configuration:", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(exc.exit_code)
    except CitysecError as exc:
        click.echo(f"citysec: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception:  # a bug, not a finding: never exit 1 (that means "findings at --fail-on")
        import traceback
        traceback.print_exc()
        click.echo("citysec: internal error (the traceback above); please report it", err=True)
        sys.exit(3)
    sys.exit(rv if isinstance(rv, int) else 0)
