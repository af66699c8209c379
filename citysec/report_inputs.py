"""The city's configuration as the reports package's plain values: agencies, systems with their
hosts' addresses, the profile's control mapping, the back end to read from, a report's header.

Shared by `citysec report` (:mod:`citysec.cli.report`) and the scheduled ``reports`` job
(:mod:`citysec.jobs.reports`); it imports no command code, so a job's process stays light.
"""

from __future__ import annotations

from findings.errors import UsageError
from findings.model import utcnow
from findings.query import Query
from reports import compliance
from reports.i18n import tr
from reports.period import Period
from reports.summary import Org

from citysec.app import App


def orgs_of(app: App, source: str = "es") -> list[Org]:
    """The agencies a report covers. Elasticsearch is the city-wide view: every agency. The local
    store holds what this sensor collected: its share's agencies (:mod:`citysec.share`); every
    agency when several sensors are configured and none is chosen (a store merged by hand)."""
    mine = None
    if source == "sqlite" and (app.sensor is not None or len(app.city.sensors) <= 1):
        mine = set(app.share.agencies)
    return [Org(a.id, a.name, a.name_en, a.kind) for a in app.city.agencies if mine is None or a.id in mine]


def open_query(app: App, source: str) -> Query:
    if source == "sqlite":
        from findings.query_sqlite import SqliteQuery
        return SqliteQuery(app.store)
    from findings.elastic.query import ElasticQuery, cluster_max_buckets

    from citysec.jobs.ship import client_from_config, configured
    if not configured(app):
        raise UsageError("--source es: no Elasticsearch hosts in the configuration (elasticsearch.hosts)")
    client = client_from_config(app)
    return ElasticQuery(client, app.city.elasticsearch.namespace, max_buckets=cluster_max_buckets(client))


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
        from config.profiles import load_profile
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


def add_triage(app: App, figs: dict, period: Period) -> dict:
    """The periodic figures with each agency's triage: decisions in force, overdue findings, the
    share fixed within deadline (read from the local store, where decisions are made)."""
    from findings import triage
    from findings.deadlines import overdue, within_deadline
    from reports import triage as rt

    from citysec.jobs.triage import deadlines_of
    dl = deadlines_of(app)
    decided, late = triage.decisions(app.store), overdue(app.store, dl)
    share = within_deadline(app.store, dl, period.start, period.end)
    empty = {"met": 0, "late": 0, "overdue": 0, "accepted": 0, "pct": None}
    parts = []
    for aid, fig in figs["agencies"].items():
        t = {"decisions": [d for d in decided if d["agency"] == aid],
             "overdue": [{k: r[k] for k in ("check_id", "host", "port", "severity", "due")} | {"check": r["check_id"]}
                         for r in late if r["agency"] == aid],
             "deadlines": share.get(aid, empty)}
        rt.apply(fig, t)
        parts.append(t)
    rt.apply(figs["city"], rt.merge(parts))
    return figs
