"""Pieces of the demo: enrolling the range's host keys and the closing summary."""

from __future__ import annotations

import os
from collections import Counter

from citysec.cli.context import App


def enrol_range_hosts(app: App, rng) -> int:
    """Write the range hosts' public host keys to the citysec known_hosts. These keys come from
    the files the range generated on this machine, so no key is accepted from the network."""
    path = app.config.resolve(app.city.known_hosts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    existing = set()
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            existing = {line.strip() for line in fh if line.strip()}
    lines = {f"{ip} {key}" for ip, key in rng.host_keys().items()}
    new = sorted(lines - existing)
    if new:
        with open(path, "a", encoding="utf-8") as fh:
            fh.writelines(line + "\n" for line in new)
    return len(new)


def summary(app: App, results: dict) -> str:
    rows = app.store.current(status=("open", "reopened"))
    by_sev = Counter(r["severity"] for r in rows)
    by_agency = Counter(r["agency"] for r in rows)
    out = [f"citysec: {len(rows)} open findings "
           f"({', '.join(f'{s} {by_sev[s]}' for s in ('critical', 'high', 'medium', 'low', 'info') if by_sev[s])})"]
    for agency, n in by_agency.most_common():
        out.append(f"  {agency:<14} {n}")
    if results.get("report_path"):
        out.append(f"report: {results['report_path']}")
    out.append(f"store: {app.store.path}   (citysec findings list | citysec status)")
    return "\n".join(out)


def write_period_report(app: App) -> str:
    """The current half-year's periodic report for the city, in the configured language (HTML)."""
    from pathlib import Path

    from findings.model import utcnow
    from reports import render
    from reports.period import LOCAL, parse_period

    from citysec.jobs.reports import _document
    from citysec.report_inputs import open_query, orgs_of

    today = utcnow().astimezone(LOCAL).date()
    period = parse_period(f"{today.year}-H{1 if today.month <= 6 else 2}")
    lang = app.city.reports.lang
    out = Path(app.config.resolve(app.city.reports.out_dir)) / f"periodic-{period.label}.{lang}.html"
    render.write(_document(app, open_query(app, "sqlite"), "periodic", period, None, lang, orgs_of(app, "sqlite")),
                 "html", out)
    return str(out)
