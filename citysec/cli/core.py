"""citysec config check, findings list|show, status."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from collections import Counter
from datetime import UTC, datetime

import click

from citysec.cli.context import App, agency_option, emit, json_option, pass_app, write_output
from findings.errors import UsageError
from findings.model import SEVERITIES
from findings.support.durations import parse_duration

SEV_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def parse_since(value: str | None) -> datetime | None:
    """A duration back from now ('7d', '12h', '30m': findings.support.durations) or an ISO date/time."""
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return datetime.now(UTC) - parse_duration(value)
    try:
        ts = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since {value!r}: give 7d, 12h, 30m or an ISO date") from None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def config_summary(app: App) -> dict:
    city = app.city
    nets = [n for a in city.agencies for n in a.networks]
    return {
        "file": app.config.path, "city": city.name, "profile": city.profile,
        "agencies": len(city.agencies),
        "agencies_by_kind": dict(Counter(a.kind for a in city.agencies)),
        "networks": len(nets),
        "addresses_in_scope": sum(n.network.num_addresses for n in nets)
        - sum(ipaddress.ip_network(e).num_addresses for n in nets for e in n.exclude),
        "registered_hosts": sum(len(a.hosts) for a in city.agencies),
        "systems_by_level": dict(sorted(Counter(str(s.level) for s in city.systems).items())),
        "sensors": [s.id for s in city.sensors],
    }


def register(cli: click.Group) -> None:
    @cli.group("config")
    def config_group() -> None:
        """The city's configuration."""

    @config_group.command("check")
    @json_option
    @pass_app
    def config_check(app: App, as_json: bool) -> None:
        """Validate the configuration as every command would: each error with file, YAML path and
        line (exit 2); settings that weaken security as warnings."""
        from config.validate import warnings
        cfg = app.check_config()
        summary = config_summary(app) | {"warnings": [f"{cfg.where(*loc)}: {msg}" for loc, msg in warnings(cfg.city)]}

        def render(s: dict) -> None:
            for w in s["warnings"]:
                click.echo(f"warning: {w}", err=True)
            click.echo(f"{s['file']}: valid — {s['city']} (profile {s['profile']})")
            click.echo(f"  agencies: {s['agencies']} ({', '.join(f'{k} {v}' for k, v in s['agencies_by_kind'].items())})")
            click.echo(f"  networks: {s['networks']}, addresses in scope: {s['addresses_in_scope']}")
            click.echo(f"  registered hosts: {s['registered_hosts']}")
            click.echo("  systems by level: " + (", ".join(f"level {k}: {v}" for k, v in s["systems_by_level"].items()) or "none"))
        emit(summary, as_json, render)

    @config_group.command("schema")
    @click.option("--out", default=None, help="Write the JSON Schema to this file.")
    def config_schema(out: str | None) -> None:
        """Print the JSON Schema of the configuration (for editors)."""
        from config.schema import City
        text = json.dumps(City.model_json_schema(), ensure_ascii=False, indent=2)
        if out:
            write_output(out, text + "\n")
        else:
            click.echo(text)

    @cli.group("findings")
    def findings_group() -> None:
        """Read the findings store."""

    @findings_group.command("list")
    @agency_option
    @click.option("--status", type=click.Choice(["open", "closed", "reopened", "active", "all"]), default="active",
                  help="active = open or reopened (default).")
    @click.option("--severity", type=click.Choice(SEVERITIES), default=None, help="At least this severity.")
    @click.option("--since", default=None, help="Checked since: 7d, 12h or an ISO date.")
    @click.option("--check", default=None, help="A check id or prefix (e.g. exposure).")
    @click.option("--fail-on", type=click.Choice(SEVERITIES), default=None,
                  help="Exit 1 when a listed finding is at or above this severity.")
    @click.option("--triage", "triage_", type=click.Choice(["accepted", "false-positive", "none"]), default=None,
                  help="Only accepted risks, false positives, or findings without a decision in force.")
    @click.option("--overdue", is_flag=True, help="Only findings past their remediation deadline (profile).")
    @json_option
    @pass_app
    def findings_list(app: App, agency, status, severity, since, check, fail_on, triage_, overdue, as_json) -> int:
        """The current findings, most severe first."""
        if agency is not None:
            app.agency_ids(agency)
        from citysec.queries import findings
        out = findings(app, agencies=[agency] if agency else None, status=status, severity=severity,
                       since=parse_since(since), check=check, triage_=triage_, overdue_only=overdue)

        def render(items: list) -> None:
            from citysec.cli.output import print_records, short_id
            print_records(f"{len(items)} finding{'' if len(items) == 1 else 's'}", [
                ([short_id(r["fingerprint"], 12), r["severity"], r["agency"], r["check_id"],
                  r["triage"] or ("overdue" if r["overdue_since"] else r["status"])],
                 ((r["host"] or "") + ("" if r["port"] is None else f":{r['port']}") + "  " + r["message"]).strip())
                for r in items], "no findings" + (" match" if any((agency, severity, since, check, triage_,
                                                                   overdue)) else ""))
        emit(out, as_json, render)
        # a false positive is listed (with its decision) but never fails the run
        if fail_on and any(SEV_RANK[r["severity"]] >= SEV_RANK[fail_on] for r in out
                           if r["triage"] != "false-positive"):
            return 1
        return 0

    @findings_group.command("show")
    @click.argument("finding_id")
    @json_option
    @pass_app
    def findings_show(app: App, finding_id: str, as_json: bool) -> None:
        """One finding (its id or a unique prefix) with its history."""
        row = app.store.get(finding_id)
        if row is None:
            raise UsageError(f"no single finding with id {finding_id!r}")
        row["doc"] = json.loads(row["doc"])
        from findings.triage import active
        row["triage"] = active(app.store).get(row["fingerprint"])

        def render(r: dict) -> None:
            from citysec.cli.output import field, line_text
            d = r["doc"]
            click.echo(f"{r['fingerprint']}  {r['check_id']}  [{r['severity']}]  {r['status']}")
            click.echo(f"  {line_text(d.get('message', ''))}")
            click.echo(f"  agency {r['agency']}  host {field(r['host'])}  port {field(r['port'])}")
            click.echo(f"  first seen {r['first_seen']}  last seen {r['last_seen']}")
            rem = d.get("citysec", {}).get("remediation", {})
            for lang in ("vi", "en"):
                if rem.get(lang):
                    click.echo(f"  remediation ({lang}): {line_text(rem[lang])}")
            if d.get("citysec", {}).get("controls"):
                click.echo(f"  controls: {', '.join(d['citysec']['controls'])}")
            if t := r["triage"]:
                click.echo(f"  triage: {t['kind']} by {line_text(t['by'])} at {t['at']} until {field(t['until'])}: "
                           f"{line_text(t['reason'])}")
            for h in r["history"]:
                click.echo(f"    {h['ts']}  {h['verdict']:<10} {h['status'] or ''}  run {h['run_id'] or '-'}")
        emit(row, as_json, render)

    @cli.command("status")
    @json_option
    @pass_app
    def status(app: App, as_json: bool) -> None:
        """Outbox depth, dead letters, last (and next) run of each job, Elasticsearch reachable."""
        from citysec.cli import status_parts
        data = status_parts.collect(app)
        emit(data, as_json, status_parts.render)
