"""citysec commands: report periodic | ranking | member | compliance.

The reports package takes plain values; this module turns the city's configuration into them
(agencies, systems with their hosts' addresses, weights, the profile's control mapping) and picks
the back end: the local store (default) or Elasticsearch (``--source es``, the city-wide view).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from citysec.cli.context import App, pass_app, write_output

# reports.render.FORMATS, spelled out so that `citysec --help` need not import jinja2 (a test checks they agree)
FORMATS = ("html", "pdf", "md", "csv", "json")
EXT = {"html": "html", "pdf": "pdf", "md": "md", "csv": "csv", "json": "json"}


def deliver(doc, fmt_: str, out: str | None, app: App, name: str) -> None:
    """Write the document; a PDF without --out goes to reports.out_dir, named by its language
    (``ranking-2026-H2.vi.pdf``), so one language never overwrites the other."""
    from reports import render
    path = Path(out) if out else None
    if path is None and fmt_ == "pdf":
        path = Path(app.config.resolve(app.city.reports.out_dir)) / f"{name}.{doc.lang}.pdf"
    if fmt_ == "pdf":      # printed in a private folder, then written where asked like any --out
        with tempfile.TemporaryDirectory(prefix="citysec-report-") as tmp:
            printed = Path(tmp) / f"{name}.pdf"
            render.write(doc, fmt_, printed)
            data: str | bytes = printed.read_bytes()
    else:
        data = render.write(doc, fmt_, None)
        if path is None:
            click.echo(data, nl=False)
            return
    write_output(path, data)
    click.echo(f"wrote {path}", err=True)


def common(fn):
    for opt in (
        click.option("--format", "fmt_", type=click.Choice(FORMATS), default="html", show_default=True,
                     help="The document's format (pdf is written to reports.out_dir unless --out)."),
        click.option("--lang", type=click.Choice(["vi", "en"]), default=None,
                     help="vi or en (default: the config's reports.lang)."),
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

    # the reports package is imported when a report command runs, not on every command's start

    @report_group.command("periodic")
    @click.option("--period", required=True, help="2026-H1, 2026-H2 or 2026.")
    @click.option("--agency", default=None, help="Only this agency (its id).")
    @common
    @pass_app
    def periodic_cmd(app: App, period: str, agency: str | None, fmt_: str, lang: str | None, out: str | None,
                     source: str) -> None:
        """The 6-monthly or annual report, for the city or one agency."""
        from findings.model import utcnow
        from reports import periodic
        from reports.i18n import check_lang
        from reports.period import parse_period
        from reports.summary import period_figures

        from citysec.report_inputs import (add_triage, false_positives, labels_of, official_of, open_query, orgs_of,
                                           paper_of)
        lang, p = check_lang(lang or app.city.reports.lang), parse_period(period)
        app.agency_ids(agency)
        q = open_query(app, source)
        figs = add_triage(app, period_figures(q, p, orgs_of(app, source), agency=agency,
                                              false_positives=false_positives(app)), p) | labels_of(app)
        doc = periodic.build(figs, p, orgs_of(app, source), lang, agency=agency, source=q.name, generated=utcnow(),
                             paper=paper_of(app), official=official_of(app, lang))
        deliver(doc, fmt_, out, app, f"periodic-{p.label}" + (f"-{agency}" if agency else ""))

    @report_group.command("ranking")
    @click.option("--period", required=True, help="2026-H1, 2026-H2 or 2026.")
    @click.option("--trend", default=3, show_default=True, type=click.IntRange(1, 10), help="Periods shown.")
    @common
    @pass_app
    def ranking_cmd(app: App, period: str, trend: int, fmt_: str, lang: str | None, out: str | None,
                    source: str) -> None:
        """The readiness ranking of agencies, each score with its parts and its trend."""
        from reports import ranking
        from reports.i18n import check_lang
        from reports.period import parse_period
        from reports.summary import period_figures

        from citysec.report_inputs import add_triage, decorate, false_positives, meta, open_query, orgs_of
        lang, p = check_lang(lang or app.city.reports.lang), parse_period(period)
        q, orgs, fps = open_query(app, source), orgs_of(app, source), false_positives(app)
        per = [(pp.label, add_triage(app, period_figures(q, pp, orgs, compare=False, false_positives=fps),
                                     pp)["agencies"]) for pp in p.history(trend)]
        result = ranking.rank(per, app.city.reports.weights)
        doc = ranking.build(result, {o.id: o.label(lang) for o in orgs}, lang, meta(app, p, lang, q.name))
        decorate(app, doc, p)
        deliver(doc, fmt_, out, app, f"ranking-{p.label}")

    @report_group.command("member")
    @click.option("--period", required=True, help="2026-H1, 2026-H2 or 2026.")
    @common
    @pass_app
    def member_cmd(app: App, period: str, fmt_: str, lang: str | None, out: str | None, source: str) -> None:
        """The network-member report (Form 05 of Circular 20/2017)."""
        from reports import member
        from reports.i18n import check_lang
        from reports.period import parse_period
        from reports.summary import period_figures

        from citysec.report_inputs import decorate, meta, open_query, orgs_of
        lang, p = check_lang(lang or app.city.reports.lang), parse_period(period)
        q = open_query(app, source)
        figs = period_figures(q, p, orgs_of(app, source), compare=False)
        doc = decorate(app, member.build(figs, p, lang, meta(app, p, lang, q.name)), p)
        deliver(doc, fmt_, out, app, f"member-{p.label}")

    @report_group.command("compliance")
    @click.option("--year", required=True, type=int, help="The compliance year (15/12 before to 14/12).")
    @common
    @pass_app
    def compliance_cmd(app: App, year: int, fmt_: str, lang: str | None, out: str | None, source: str) -> None:
        """The annual level-compliance report of each information system."""
        from reports import compliance
        from reports.gather import gather
        from reports.i18n import check_lang
        from reports.period import compliance_year

        from citysec.report_inputs import criteria_of, decorate, labels_of, meta, open_query, systems_of
        lang, p = check_lang(lang or app.city.reports.lang), compliance_year(year)
        q = open_query(app, source)
        state = gather(q, p).state
        fig = compliance.figures(systems_of(app), state, p, criteria_of(app)) | labels_of(app)
        doc = decorate(app, compliance.build(fig, lang, meta(app, p, lang, q.name)), p)
        deliver(doc, fmt_, out, app, f"compliance-{year}")
