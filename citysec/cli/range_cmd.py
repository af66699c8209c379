"""citysec range up|down|status|exec and the inject primitives (the simulated city network)."""

from __future__ import annotations

import os
import shutil
import sys
from typing import TYPE_CHECKING

import click

from findings.errors import UsageError

from citysec.cli.context import emit, json_option

if TYPE_CHECKING:  # the range (paramiko, scapy, ...) is imported when a range command runs
    from exercises.range import Range

DEFAULT_SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "exercises", "range", "examples", "haiphong.yaml")
state_dir_option = click.option("--state-dir", default="var/range", show_default=True,
                                help="Folder of the range's keys, host folders and state.")


def current(state_dir: str) -> Range:
    from exercises.range import Range, load_spec
    """The range last brought up in ``state_dir`` (its spec is kept there)."""
    copy = os.path.join(state_dir, "spec.yaml")
    if not os.path.exists(copy):
        raise UsageError(f"no range in {state_dir} (run `citysec range up FILE` first)")
    return Range(load_spec(copy), state_dir=state_dir)


def render_status(st: dict) -> None:
    from citysec.cli.output import line_text, print_rows
    click.echo(line_text(f"range {st['name']}: {'up' if st['up'] else 'DOWN'}, sensor {st['sensor']['netns']} "
                         f"{st['sensor']['ip']}, {st['namespaces']} namespaces, state {st['state_dir']}"))
    print_rows(["host", "agency", "address", "role", "up", "known", "services"],
               [[h["name"], h["agency"], h["ip"], h["role"], h["running"], "yes" if h["registered"] else "ROGUE",
                 ", ".join(h["services"])] for h in st["hosts"]], "no hosts")
    if st["leftovers"]:
        click.echo(line_text(f"leftovers: {', '.join(st['leftovers'])}"))


def bring_up(file: str | None, state_dir: str = "var/range") -> tuple[Range, dict]:
    """Build (or reuse) the range of FILE in ``state_dir``; a different range kept there goes down first."""
    from exercises.range import Range, load_spec
    path = os.path.abspath(file or DEFAULT_SPEC)
    rng = Range(load_spec(path), state_dir=state_dir)
    old = os.path.join(state_dir, "spec.yaml")
    if os.path.exists(old):
        previous = Range(load_spec(old), state_dir=state_dir)
        if previous.name != rng.name:
            previous.down()
    result = rng.up()
    shutil.copyfile(path, old)
    return rng, result


def register(cli: click.Group) -> None:
    @cli.group("range")
    def range_group() -> None:
        """The range: a simulated city network of namespaces for demos, tests and drills."""

    @range_group.command("up")
    @click.argument("file", required=False, type=click.Path(dir_okay=False))
    @state_dir_option
    @json_option
    def up(file: str | None, state_dir: str, as_json: bool) -> None:
        """Build the range described in FILE (default: the Hải Phòng example); idempotent."""
        rng, result = bring_up(file, state_dir)
        emit({**result, "name": rng.name, "hosts": len(rng.hosts), "sensor_netns": rng.sensor_netns,
              "operator_key": rng.operator_key}, as_json,
             lambda d: click.echo(f"range {d['name']} up ({d['hosts']} hosts, sensor {d['sensor_netns']}, "
                                  f"{'reused' if d['reused'] else str(d['total_s']) + ' s'}); operator key {d['operator_key']}"))

    @range_group.command("down")
    @state_dir_option
    @json_option
    def down(state_dir: str, as_json: bool) -> None:
        """Remove the range: every namespace, link, process and mount it made."""
        result = current(state_dir).down()
        emit(result, as_json, lambda d: click.echo(f"range down: {d['removed_namespaces']} namespaces removed"))

    @range_group.command("status")
    @state_dir_option
    @json_option
    def status(state_dir: str, as_json: bool) -> None:
        """Hosts, addresses, services, states and leftovers."""
        emit(current(state_dir).status(), as_json, render_status)

    @range_group.command("exec", context_settings={"ignore_unknown_options": True})
    @click.argument("host")
    @click.argument("argv", nargs=-1, required=True, type=click.UNPROCESSED)
    @state_dir_option
    def exec_(host: str, argv: tuple[str, ...], state_dir: str) -> None:
        """Run a command inside HOST: citysec range exec HOST -- CMD ARGS..."""
        proc = current(state_dir).exec(host, list(argv), timeout=600)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        raise click.exceptions.Exit(proc.returncode)

    register_injects(range_group)


def register_injects(range_group: click.Group) -> None:
    """The primitives exercises use, as commands (each acts on one host of the current range)."""

    @range_group.command("drop-file")
    @click.argument("host")
    @click.argument("path")
    @click.argument("source", type=click.File("rb"))
    @state_dir_option
    def drop_file(host: str, path: str, source, state_dir: str) -> None:
        """Write SOURCE (a file, or - for stdin) at PATH inside HOST."""
        current(state_dir).drop_file(host, path, source.read())

    @range_group.command("service")
    @click.argument("host")
    @click.argument("name")
    @click.argument("action", type=click.Choice(["start", "stop"]))
    @state_dir_option
    def service(host: str, name: str, action: str, state_dir: str) -> None:
        """Start or stop a service (ssh, telnet, ..., clamd) on HOST."""
        current(state_dir).service(host, name, action)

    @range_group.command("antivirus")
    @click.argument("host")
    @click.argument("state", type=click.Choice(["running", "stopped", "absent"]))
    @click.option("--age-hours", type=float, default=None, help="Rebuild the signature database with this age.")
    @state_dir_option
    def antivirus(host: str, state: str, age_hours: float | None, state_dir: str) -> None:
        """Set HOST's antivirus: clamd running or stopped, or ClamAV absent."""
        rng = current(state_dir)
        if state == "absent":
            rng.set_antivirus(host, {"installed": False})
        elif age_hours is not None:
            rng.set_antivirus(host, {"signature_age_hours": age_hours, "daemon": state == "running"})
        else:
            rng.set_antivirus(host, state)

    @range_group.command("backup")
    @click.argument("host")
    @click.argument("state", type=click.Choice(["ok", "failing"]))
    @state_dir_option
    def backup(host: str, state: str, state_dir: str) -> None:
        """A backup run now on HOST that succeeds (new snapshot) or fails (log lines)."""
        current(state_dir).set_backup(host, state)

    @range_group.command("log")
    @click.argument("host")
    @click.argument("file")
    @click.argument("lines", nargs=-1, required=True)
    @state_dir_option
    def log(host: str, file: str, lines: tuple[str, ...], state_dir: str) -> None:
        """Append LINES to FILE inside HOST."""
        current(state_dir).append_log(host, file, list(lines))

    @range_group.command("brute-force")
    @click.argument("attacker")
    @click.argument("target_ip")
    @click.option("--user", default="admin", show_default=True, help="The user name the logins try.")
    @click.option("--attempts", default=10, show_default=True, type=click.IntRange(1, 1000),
                  help="How many failed logins.")
    @state_dir_option
    def brute_force(attacker: str, target_ip: str, user: str, attempts: int, state_dir: str) -> None:
        """Real failed SSH password logins from host ATTACKER against TARGET_IP."""
        n = current(state_dir).brute_force(attacker, target_ip, user, attempts)
        click.echo(f"{n} failed logins from {attacker} to {target_ip}")

    @range_group.command("add-rogue")
    @click.argument("agency")
    @click.argument("ip")
    @state_dir_option
    def add_rogue(agency: str, ip: str, state_dir: str) -> None:
        """Plug an unregistered device into one of AGENCY's networks at IP."""
        click.echo(current(state_dir).add_rogue(agency, ip))
