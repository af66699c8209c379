"""The `reports` job: drafts of the reports that are due, per the city's regulatory profile.

A report of the profile with a calendar date (``due: ["06-20", "12-15"]``) gets its draft when
today is within ``draft_days_before`` of that date: the network-member report (Form 05) for the
half year (June) or the year (December), the level-compliance report for the compliance year.
Besides, the periodic report of the last half year that ended is drafted once, for the city and
each agency. Drafts are HTML in ``<reports.out_dir>/drafts/``; an existing draft is kept.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from findings.model import utcnow
from reports import compliance, member, periodic, render
from reports.gather import gather
from reports.period import LOCAL, Period, compliance_year, parse_period
from reports.summary import period_figures

from config.profiles import load_profile
from citysec.report_inputs import (add_triage, criteria_of, decorate, false_positives, labels_of, meta, official_of,
                                   open_query, orgs_of, paper_of, systems_of)


def due_soon(dues: list[str], draft_days: int, today: date) -> list[date]:
    """The due dates (this year and next) whose drafting window contains today."""
    out = []
    for md in dues:
        month, day = (int(x) for x in md.split("-"))
        for year in (today.year, today.year + 1):
            d = date(year, month, day)
            if d - timedelta(days=draft_days) <= today <= d:
                out.append(d)
    return out


def last_half(today: date) -> Period:
    return parse_period(f"{today.year - 1}-H2" if today.month <= 6 else f"{today.year}-H1")


def plan(profile, today: date) -> list[tuple[str, Period]]:
    """(kind, period) of every draft due now: pure, from the profile and the date."""
    jobs: list[tuple[str, Period]] = [("periodic", last_half(today))]
    for r in profile.reports:
        for d in due_soon(r.due, r.draft_days_before, today):
            if r.id.startswith("form05"):
                jobs.append(("member", parse_period(f"{d.year}-H1" if d.month <= 6 else str(d.year))))
            elif r.id.startswith("level-compliance"):
                jobs.append(("compliance", compliance_year(d.year)))
    return sorted(set(jobs), key=lambda j: (j[0], j[1].label))


def reports(app, run_id: str, *, agency: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    today = (now or utcnow()).astimezone(LOCAL).date()
    folder = Path(app.config.resolve(app.city.reports.out_dir)) / "drafts"
    lang, orgs = app.city.reports.lang, orgs_of(app, "sqlite")
    q = open_query(app, "sqlite")
    counts = {"due": 0, "written": 0, "kept": 0}
    for kind, period in plan(load_profile(app.city.profile), today):
        for aid in ([None] + [o.id for o in orgs] if kind == "periodic" else [None]):
            if agency and aid not in (None, agency):
                continue
            counts["due"] += 1
            out = folder / f"{kind}-{period.label}{'-' + aid if aid else ''}.{lang}.html"
            if out.exists():
                counts["kept"] += 1
                continue
            render.write(_document(app, q, kind, period, aid, lang, orgs), "html", out)
            counts["written"] += 1
    return counts


def _document(app, q, kind: str, period: Period, agency: str | None, lang: str, orgs):
    if kind == "periodic":
        figs = add_triage(app, period_figures(q, period, orgs, agency=agency, false_positives=false_positives(app)),
                          period) | labels_of(app)
        return periodic.build(figs, period, orgs, lang, agency=agency, source=q.name, generated=utcnow(),
                              paper=paper_of(app), official=official_of(app, lang))
    if kind == "member":
        figs = period_figures(q, period, orgs, compare=False)
        return decorate(app, member.build(figs, period, lang, meta(app, period, lang, q.name)), period)
    fig = compliance.figures(systems_of(app), gather(q, period).state, period, criteria_of(app)) | labels_of(app)
    return decorate(app, compliance.build(fig, lang, meta(app, period, lang, q.name)), period)
