"""citysec collect antivirus|backup|logs, syslog serve, hosts enroll|list, backup record-restore-test."""

from __future__ import annotations

import ipaddress
import sys
from datetime import UTC, datetime

import click

from citysec.cli.context import App, acting_user, agency_option, by_option, emit, json_option, pass_app, quiet
from citysec.cli.output import print_rows
from citysec.cli.status_parts import part
from findings.errors import UsageError, unknown


@part
def _collectors(app: App) -> tuple[str, dict]:
    """How many registered hosts have an enrolled key; log cursors; restore tests recorded."""
    from collectors.hostkeys import KnownHosts, host_id
    known = KnownHosts(app.config.resolve(app.city.known_hosts))
    hosts = {(h.ip, (h.ssh or a.ssh).port) for a in app.city.agencies for h in a.hosts if h.collect}
    tables = {r[0] for r in app.store.query("SELECT name FROM sqlite_master WHERE type='table'")}
    count = (lambda t: app.store.query(f"SELECT COUNT(*) FROM {t}")[0][0] if t in tables else 0)
    return "collectors", {"hosts_enrolled": sum(bool(known.keys_for(host_id(ip, port))) for ip, port in hosts),
                          "hosts_to_collect": len(hosts), "log_cursors": count("collector_cursors"),
                          "restore_tests": count("backup_restore_tests")}


def _render_counts(data: dict) -> None:
    click.echo(f"run {data['run_id']}: " + ", ".join(f"{k} {v}" for k, v in data["counts"].items()))


def _bind(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        ipaddress.ip_address(host.strip("[]"))
        p = int(port)
        if not 0 < p < 65536:
            raise ValueError
    except ValueError:
        raise UsageError(f"--bind {value!r}: give ADDRESS:PORT, e.g. 198.18.1.10:5514") from None
    return host.strip("[]"), p


def _short_keys(enrolled: str | None) -> str | None:
    """Enrolled key fingerprints as a person compares them on a terminal line (the first 12
    characters of each SHA256 digest; `hosts list --json` has them whole)."""
    if not enrolled:
        return None
    return ", ".join(k[:19] + "…" if k.startswith("SHA256:") and len(k) > 20 else k for k in enrolled.split(", "))


def register(cli: click.Group) -> None:
    @cli.group("collect")
    def collect_group() -> None:
        """Collect antivirus, backup and log state from the hosts over SSH."""

    for job in ("antivirus", "backup", "logs"):
        def make(name: str):
            @collect_group.command(name, help=f"Collect {name} from every registered host (one SSH connection per host).")
            @agency_option
            @json_option
            @pass_app
            def cmd(app: App, agency: str | None, as_json: bool) -> None:
                from citysec.jobs import run_job
                app.agency_ids(agency)
                if as_json or quiet():
                    run_id, counts = run_job(app, name, agency=agency)
                else:
                    from rich.console import Console
                    with Console(stderr=True).status(f"collecting {name} over SSH…"):
                        run_id, counts = run_job(app, name, agency=agency)
                emit({"run_id": run_id, "counts": counts}, as_json, _render_counts)
            return cmd
        make(job)

    @cli.group("syslog")
    def syslog_group() -> None:
        """The syslog receiver for firewalls and network devices."""

    @syslog_group.command("serve")
    @click.option("--bind", "bind", required=True, help="ADDRESS:PORT to listen on (UDP and TCP).")
    @click.option("--netns", default=None, help="Listen inside this network namespace (default: the sensor's).")
    @click.option("--max-messages", type=int, default=None, help="Stop after this many messages.")
    @click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
    @pass_app
    def syslog_serve(app: App, bind: str, netns: str | None, max_messages: int | None,
                     duration: float | None) -> None:
        """Receive syslog (RFC 3164 and 5424, UDP and TCP) and store each message as an event."""
        from collectors.catalogue import catalogue
        from collectors.syslog import Receiver
        host, port = _bind(bind)
        sensor = app.share.sensor
        ns = netns or app.share.netns
        nets = [(n.network, a.id) for a in app.city.agencies for n in a.networks]
        default_agency = sensor.agency if sensor else app.city.agencies[0].id
        rx = Receiver(app.store, catalogue(), nets, default_agency, sensor=app.share.sensor_id)
        rx.bind(host, port, netns=ns)
        click.echo(f"syslog: listening on {host}:{port} (udp, tcp)" + (f" in {ns}" if ns else ""), err=True)
        n = rx.serve(max_messages=max_messages, duration=duration)
        click.echo(f"syslog: {n} messages stored", err=True)

    @cli.group("hosts")
    def hosts_group() -> None:
        """SSH host keys of the registered hosts (the citysec-managed known_hosts)."""

    @hosts_group.command("enroll")
    @agency_option
    @click.option("--accept-from", "accept_from", type=click.Path(dir_okay=False), default=None,
                  help="A file of known fingerprints (SHA256:...); matching keys are recorded without asking.")
    @json_option
    @pass_app
    def hosts_enroll(app: App, agency: str | None, accept_from: str | None, as_json: bool) -> None:
        """Fetch host keys, show their fingerprints, record them on confirmation."""
        from citysec.cli.collect_hosts import enroll
        rows = enroll(app, agency, accept_from, interactive=not as_json and sys.stdin.isatty())
        emit(rows, as_json, lambda rs: print_rows(
            ["host", "address", "key", "fingerprint or reason"],
            [[r["name"], r["hid"], r["status"], r.get("fingerprint") or r.get("reason", "")] for r in rs],
            "no registered host to enrol"))

    @hosts_group.command("list")
    @agency_option
    @json_option
    @pass_app
    def hosts_list(app: App, agency: str | None, as_json: bool) -> None:
        """Registered hosts, how they are reached, and whether their key is enrolled."""
        from citysec.cli.collect_hosts import listing
        if agency is not None:
            app.agency_ids(agency)
        emit(listing(app, agency), as_json, lambda rs: print_rows(
            ["agency", "host", "ssh", "host key"],
            [[r["agency"], r["name"], f"{r['user']}@{r['ip']}:{r['port']}" + (f" via {r['jump']}" if r["jump"] else ""),
              _short_keys(r["enrolled"]) or "not enrolled"] for r in rs],
            "no registered host is collected over SSH"))

    @cli.group("backup")
    def backup_group() -> None:
        """Backup records."""

    @backup_group.command("record-restore-test")
    @click.argument("system")
    @click.option("--date", "date_", default=None, help="When the test was done (ISO date; default now).")
    @click.option("--result", type=click.Choice(["ok", "failed"]), required=True,
                  help="Whether the restored data was complete and usable.")
    @by_option("Who did it")
    @click.option("--note", default=None, help="What was restored, where, anything to remember.")
    @json_option
    @pass_app
    def record_restore_test(app: App, system: str, date_: str | None, result: str, by: str | None,
                            note: str | None, as_json: bool) -> None:
        """Record a restore test of an information system (its backup policy asks for one per period)."""
        from collectors.state import CollectorState
        ids = [s.id for s in app.city.systems]
        if system not in ids:
            raise unknown("information system", system, ids)
        now = datetime.now(UTC)
        try:
            when = datetime.fromisoformat(date_) if date_ else now
        except ValueError:
            raise UsageError(f"--date {date_!r}: give an ISO date such as 2026-11-30") from None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        if when > now:
            raise UsageError(f"--date {date_}: a restore test cannot be in the future")
        rid = CollectorState(app.store).record_restore_test(system, when, by=acting_user(by), result=result, note=note, now=now)
        emit({"id": rid, "system": system, "tested_at": when.isoformat(), "result": result}, as_json,
             lambda d: click.echo(f"restore test of {d['system']} at {d['tested_at']}: {d['result']} (#{d['id']})"))
