"""citysec findings false-positive | accept | unaccept | triage-log, notify run | list, and the
triage part of `status` (docs/triage.md)."""

from __future__ import annotations

from typing import Any

import click

from citysec.cli import status_parts
from citysec.cli.context import App, acting_user, by_option, emit, json_option, pass_app
from citysec.cli.output import line_text, print_rows
from findings.errors import RuntimeFailure

TRIAGE_CHOICES = ("accepted", "false-positive", "none")


def _decision_out(entry: dict[str, Any]) -> None:
    d = entry["data"]
    click.echo(line_text(f"{entry['fingerprint'][:12]}  {entry['action']}  by {entry['actor']}  at {entry['ts']}"
                         + (f"  until {d['until']}" if d.get("until") else "")
                         + (f"  approved by {d['approved_by']}" if d.get("approved_by") else "")))
    if d.get("reason"):
        click.echo(f"  reason: {line_text(d['reason'])}")
    click.echo(f"  log entry {entry['seq']}  {entry['hash'][:16]}")


def register(cli: click.Group) -> None:
    findings_group = cli.commands["findings"]

    @findings_group.command("false-positive")
    @click.argument("finding_id")
    @click.option("--reason", required=True, help="Why it is not a real problem.")
    @by_option("Who decides")
    @click.option("--until", default=None, help="Optional end: a date (through that day) or ISO date-time.")
    @click.option("--replace", is_flag=True, help="Replace the decision in force (refused without it).")
    @json_option
    @pass_app
    def false_positive(app: App, finding_id: str, reason: str, by: str | None, until: str | None, replace: bool,
                       as_json: bool) -> None:
        """Mark a finding a false positive; it stays in the store and keeps being checked."""
        from findings import triage
        entry = triage.decide(app.store, finding_id, "false_positive", reason=reason, by=acting_user(by),
                              until=triage.parse_until(until), replace=replace)
        emit(entry, as_json, _decision_out)

    @findings_group.command("accept")
    @click.argument("finding_id")
    @click.option("--reason", required=True, help="Why the agency accepts the risk.")
    @by_option("Who accepts it")
    @click.option("--until", required=True, help="When the acceptance ends: a date (through that day) or ISO date-time.")
    @click.option("--approved-by", default=None, help="Who approved it (e.g. the agency's head).")
    @click.option("--replace", is_flag=True, help="Replace the decision in force (refused without it).")
    @json_option
    @pass_app
    def accept(app: App, finding_id: str, reason: str, by: str | None, until: str, approved_by: str | None,
               replace: bool, as_json: bool) -> None:
        """Accept a finding's risk until a date; it ends earlier if the service or severity changes."""
        from findings import triage
        entry = triage.decide(app.store, finding_id, "accepted", reason=reason, by=acting_user(by),
                              until=triage.parse_until(until), approved_by=approved_by, replace=replace)
        emit(entry, as_json, _decision_out)

    @findings_group.command("unaccept")
    @click.argument("finding_id")
    @by_option("Who withdraws it")
    @click.option("--reason", default=None, help="Why.")
    @json_option
    @pass_app
    def unaccept(app: App, finding_id: str, by: str | None, reason: str | None, as_json: bool) -> None:
        """Withdraw a finding's acceptance or false positive: it counts as open again."""
        from findings import triage
        entry = triage.withdraw(app.store, finding_id, by=acting_user(by), reason=reason)
        emit(entry, as_json, _decision_out)

    @findings_group.command("triage-log")
    @click.option("--verify", is_flag=True, help="Check the chain; exit 3 naming each changed entry.")
    @json_option
    @pass_app
    def triage_log(app: App, verify: bool, as_json: bool) -> None:
        """The append-only, hash-chained log of triage decisions."""
        from findings import triage
        if verify:
            problems = triage.verify(app.store)
            if problems:
                raise RuntimeFailure("the triage log was modified:\n  " + "\n  ".join(problems))
            n = len(triage.log(app.store))
            emit({"entries": n, "intact": True}, as_json, lambda d: click.echo(f"triage log intact: {n} entries"))
            return
        emit(triage.log(app.store), as_json,
             lambda rows: [_decision_out(r) for r in rows] or click.echo("the triage log is empty"))

    @cli.group("notify")
    def notify_group() -> None:
        """Notification digests of new, reopened, risen, overdue and expired findings."""

    @notify_group.command("run")
    @json_option
    @pass_app
    def notify_run(app: App, as_json: bool) -> None:
        """Run the triage job now: expiries, overdue findings, this cycle's digests, delivery."""
        from citysec.jobs import run_job
        run_id, counts = run_job(app, "triage")
        emit({"run": run_id, **counts}, as_json,
             lambda c: click.echo(", ".join(f"{k} {v}" for k, v in c.items() if k not in ("errors", "kept_why"))
                                  + "".join(f"\n  not delivered: {e}" for e in c["errors"])
                                  + (f"\n  kept: {c['kept_why']}" if c.get("kept_why") else "")))

    @notify_group.command("list")
    @json_option
    @pass_app
    def notify_list(app: App, as_json: bool) -> None:
        """The latest digests: channel, target, delivered or not (and why not)."""
        from findings import notify
        rows = notify.digests(app.store)

        def render(items: list[dict]) -> None:
            print_rows(["created", "agency", "to", "state"],
                       [[r["created"], r["agency"], f"{r['channel']}:{r['target']}",
                         f"delivered {r['delivered']}" if r["delivered"] else f"waiting ({r['last_error'] or 'not tried'})"]
                        for r in items], "no digests yet")
        emit(rows, as_json, render)


@status_parts.part
def _triage(app: App) -> tuple[str, Any]:
    from citysec.jobs.triage import deadlines_of
    from findings import notify, triage
    from findings.deadlines import overdue_counts
    per: dict[str, dict[str, int]] = {}
    for t in triage.active(app.store).values():
        key = "accepted" if t["kind"] == "accepted" else "false_positives"
        per.setdefault(t["agency"], {}).setdefault(key, 0)
        per[t["agency"]][key] += 1
    for agency, n in overdue_counts(app.store, deadlines_of(app)).items():
        per.setdefault(agency, {})["overdue"] = n
    return "triage", {"by_agency": dict(sorted(per.items())), **notify.pending(app.store)}
