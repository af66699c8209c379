"""citysec commands: report periodic | ranking | member | compliance.

The reports package takes plain values; this module turns the city's configuration into them
(agencies, systems with their hosts' addresses, weights, the profile's control mapping) and picks
the back end: the local store (default) or Elasticsearch (``--source es``, the city-wide view).
"""

from __future__ import annotations

from pathlib import Path

import click

from findings.errors import UsageError
from findings.model import utcnow
from findings.query import Query
from reports import compliance, member, periodic, ranking, render
from reports.gather import gather
from reports.i18n import check_lang, tr
from reports.period import Period, compliance_year, parse_period
from reports.summary import Org, period_figures

from .context import App, pass_app

EXT = {"html": "html", "pdf": "pdf", "md": "md", "csv": "csv", "json": "json"}


def orgs_of(app: App) -> list[Org]:
    return [Org(a.id, a.name, a.name_en, a.kind) for a in app.city.agencies]


def open_query(app: App, source: str) -> Query:
    if source == "sqlite":
        from findings.query_sqlite import SqliteQuery
        return SqliteQuery(app.store)
    from findings.query_elastic import ElasticQuery

    from ..jobs.ship import client_from_config, configured
    if not configured(app):
        raise UsageError("--source es: no Elasticsearch hosts in the configuration (elasticsearch.hosts)")
    return ElasticQuery(client_from_config(app), app.city.elasticsearch.namespace)


def systems_of(app: App) -> list[compliance.System]:
    """Each system with its hosts as addresses (the register maps names to addresses)."""
    out = []
    for s in app.city.systems:
        reg = {h.name: h.ip for a in app.city.agencies for h in a.hosts}
        out.append(compliance.System(s.id, s.name, s.owner, s.level, tuple(reg.get(h, h) for h in s.hosts)))
    return out


def criteria_of(app: App) -> tuple[dict, ...]:
    """The profile's TCVN 11930 mapping as criteria (the built-in mapping if there is no profile)."""
    try:
        from ..profiles import load_profile
        prof = load_profile(app.city.profile)
    except ImportError:
        return compliance.CRITERIA
    titles = {c["id"]: c["title"] for c in compliance.CRITERIA}
    crit: dict[str, list[str]] = {}
    for check, controls in prof.controls.checks.items():
        for ctl in controls:
            if ctl.startswith("TCVN11930:"):
                crit.setdefault(ctl.split(":", 1)[1], []).append(check)
    return tuple({"id": cid, "title": titles.get(cid, {"vi": cid, "en": cid}), "checks": checks}
                 for cid, checks in sorted(crit.items()))


def meta(app: App, period: Period, lang: str, source: str) -> list[tuple[str, str]]:
    from reports import fmt
    return [(tr("period", lang), f"{period.label}: " + tr("from_to", lang, a=fmt.date(period.start, lang),
                                                          b=fmt.date(period.last_day, lang))),
            (tr("scope", lang), app.city.name), (tr("source", lang), source),
            (tr("generated", lang), fmt.date(utcnow(), lang))]


def deliver(doc, fmt_: str, out: str | None, app: App, name: str) -> None:
    path = Path(out) if out else None
    if path is None and fmt_ == "pdf":
        path = Path(app.config.resolve(app.city.reports.out_dir)) / f"{name}.pdf"
    text = render.write(doc, fmt_, path)
    if text is not None:
        click.echo(text, nl=False)
    else:
        click.echo(f"wrote {path}", err=True)


def common(fn):
    for opt in (
        click.option("--format", "fmt_", type=click.Choice(render.FORMATS), default="html", show_default=True),
        click.option("--lang", default=None, help="vi (default) or en."),
        click.option("--out", default=None, help="Output file (default: standard output; PDF: reports.out_dir)."),
        click.option("--source", type=click.Choice(["sqlite", "es"]), default="sqlite", show_default=True,
                     help="The local store or the Elasticsearch cluster (city-wide view)."),
    ):
        fn = opt(fn)
    return fn


def register(cli: click.Group) -> None:
    @cli.group("report")
    def report_group() -> None:
        """Periodic reports, the readiness ranking, the network-member and compliance reports."""

    @report_group.command("periodic")
    @click.option("--period", required=True, help="2026-H1, 2026-H2 or 2026.")
    @click.option("--agency", default=None, help="Only this agency (its id).")
    @common
    @pass_app
    def periodic_cmd(app: App, period: str, agency: str | None, fmt_: str, lang: str | None, out: str | None,
                     source: str) -> None:
        """The 6-monthly or annual report, for the city or one agency."""
        lang, p = check_lang(lang or app.city.reports.lang), parse_period(period)
        app.agency_ids(agency)
        q = open_query(app, source)
        figs = period_figures(q, p, orgs_of(app), agency=agency)
        doc = periodic.build(figs, p, orgs_of(app), lang, agency=agency, source=q.name, generated=utcnow())
        deliver(doc, fmt_, out, app, f"periodic-{p.label}" + (f"-{agency}" if agency else ""))

    @report_group.command("ranking")
    @click.option("--period", required=True, help="2026-H1, 2026-H2 or 2026.")
    @click.option("--trend", default=3, show_default=True, type=click.IntRange(1, 10), help="Periods shown.")
    @common
    @pass_app
    def ranking_cmd(app: App, period: str, trend: int, fmt_: str, lang: str | None, out: str | None,
                    source: str) -> None:
        """The readiness ranking of agencies, each score with its parts and its trend."""
        lang, p = check_lang(lang or app.city.reports.lang), parse_period(period)
        q, orgs = open_query(app, source), orgs_of(app)
        per = [(pp.label, period_figures(q, pp, orgs, compare=False)["agencies"]) for pp in p.history(trend)]
        result = ranking.rank(per, app.city.reports.weights)
        doc = ranking.build(result, {o.id: o.label(lang) for o in orgs}, lang, meta(app, p, lang, q.name))
        deliver(doc, fmt_, out, app, f"ranking-{p.label}")

    @report_group.command("member")
    @click.option("--period", required=True, help="2026-H1, 2026-H2 or 2026.")
    @common
    @pass_app
    def member_cmd(app: App, period: str, fmt_: str, lang: str | None, out: str | None, source: str) -> None:
        """The network-member report (Form 05 of Circular 20/2017)."""
        lang, p = check_lang(lang or app.city.reports.lang), parse_period(period)
        q = open_query(app, source)
        figs = period_figures(q, p, orgs_of(app), compare=False)
        deliver(member.build(figs, p, lang, meta(app, p, lang, q.name)), fmt_, out, app, f"member-{p.label}")

    @report_group.command("compliance")
    @click.option("--year", required=True, type=int, help="The compliance year (15/12 before to 14/12).")
    @common
    @pass_app
    def compliance_cmd(app: App, year: int, fmt_: str, lang: str | None, out: str | None, source: str) -> None:
        """The annual level-compliance report of each information system."""
        lang, p = check_lang(lang or app.city.reports.lang), compliance_year(year)
        q = open_query(app, source)
        state = gather(q, p).state
        fig = compliance.figures(systems_of(app), state, p, criteria_of(app))
        deliver(compliance.build(fig, lang, meta(app, p, lang, q.name)), fmt_, out, app, f"compliance-{year}")
