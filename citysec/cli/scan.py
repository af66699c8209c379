"""citysec scan discover|services|sweep|diff."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import click

from citysec.cli.context import App, agency_option, emit, json_option, pass_app, quiet
from citysec.cli.core import parse_since

target_option = click.option("--target", "targets", multiple=True,
                             help="Only this address or CIDR (repeatable); it must lie in the agency's networks.")


@contextlib.contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """A rich progress bar on a terminal; nothing under CI, in --json or when piped."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress
    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("scan", total=None)

        def update(label: str, done: int, total: int) -> None:
            bar.update(task, description=label, completed=done, total=max(total, done, 1))
        yield update


def _render_counts(title: str, data: dict) -> None:
    click.echo(title)
    for k, v in data.items():
        if isinstance(v, dict):
            click.echo(f"  {k}: " + (", ".join(f"{a} ({why})" for a, why in v.items()) or "none"))
        elif isinstance(v, list):
            click.echo(f"  {k}: " + (", ".join(map(str, v)) or "none"))
        else:
            click.echo(f"  {k}: {v}")


def register(cli: click.Group) -> None:
    from citysec.jobs import run_job

    @cli.group("scan")
    def scan_group() -> None:
        """Host discovery, service scans and their changes."""

    @scan_group.command("discover")
    @agency_option
    @target_option
    @json_option
    @pass_app
    def discover(app: App, agency, targets, as_json) -> None:
        """Find live hosts (ARP, ICMP, TCP probes); flag rogue devices and stale hosts."""
        with progress_bar(not as_json and not quiet()) as prog:
            run_id, counts = run_job(app, "discovery", agency=agency, targets=tuple(targets), progress=prog)
        emit({"run_id": run_id, **counts}, as_json, lambda d: _render_counts(f"discovery run {run_id}", d))

    @scan_group.command("services")
    @agency_option
    @target_option
    @click.option("--ports", default=None, help="Ports instead of the policy's: '22,80,8000-8100,161/udp'.")
    @json_option
    @pass_app
    def services(app: App, agency, targets, ports, as_json) -> None:
        """Scan services with nmap and judge every open port by the exposure policy."""
        with progress_bar(not as_json and not quiet()) as prog:
            run_id, counts = run_job(app, "services", agency=agency, targets=tuple(targets), ports=ports,
                                     progress=prog)
        emit({"run_id": run_id, **counts}, as_json, lambda d: _render_counts(f"services run {run_id}", d))

    @scan_group.command("sweep")
    @agency_option
    @target_option
    @click.option("--ports", default=None,
                  help="Instead of every TCP port 1-65535: '1-1024,8000-9000' (UDP items go to nmap directly).")
    @json_option
    @pass_app
    def sweep(app: App, agency, targets, ports, as_json) -> None:
        """Every TCP port of every live host (SYN sweep), then nmap -sV on the open ones, judged
        by the exposure policy (the weekly `portsweep` job)."""
        with progress_bar(not as_json and not quiet()) as prog:
            run_id, counts = run_job(app, "portsweep", agency=agency, targets=tuple(targets), ports=ports,
                                     progress=prog)
        emit({"run_id": run_id, **counts}, as_json, lambda d: _render_counts(f"portsweep run {run_id}", d))

    @scan_group.command("diff")
    @agency_option
    @click.option("--since", default=None, help="Compare with the last scan before: 7d, 12h or an ISO date.")
    @json_option
    @pass_app
    def diff(app: App, agency, since, as_json) -> None:
        """New, gone, changed and unchanged open ports between service scans."""
        from scanners.diff import diff as compute
        if agency is not None:
            app.agency_ids(agency)          # an unknown (or empty) agency: exit 2 with "did you mean"
        emit(compute(app.store, agency=agency, since=parse_since(since)), as_json, _render_diff)


def _render_diff(d: dict) -> None:
    """What changed per host: one aligned line per finding, the service (remote text) cleaned."""
    from citysec.cli.output import line_text, print_records
    click.echo(f"{len(d['hosts'])} hosts compared" + (f" with their scans before {d['since']}" if d["since"] else
                                                       " with their previous scan"))
    click.echo(", ".join(f"{k} {v}" for k, v in d["counts"].items()))
    print_records(None, [
        ([change, it["agency"], f"{it['host'] or ''}:{it['port']}/{it['transport']}", it["check"],
          it["verdict"] or "", it["status"] or ""],
         line_text(" ".join(filter(None, (it["service"], it["version"])))))
        for change in ("new", "gone", "changed", "unchanged") for it in d[change]], "no findings to compare")
