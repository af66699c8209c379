"""The city's configuration as the reports package's plain values: agencies, systems with their
hosts' addresses, the profile's control mapping, the back end to read from, a report's header.

Shared by `citysec report` (:mod:`citysec.cli.report`) and the scheduled ``reports`` job
(:mod:`citysec.jobs.reports`); it imports no command code, so a job's process stays light.
"""

from __future__ import annotations

from findings.errors import ConfigError, UsageError
from findings.model import utcnow
from findings.query import Query
from reports import compliance
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
        out.append(compliance.System(s.id, s.name, s.owner, s.level, tuple(reg.get(h, h) for h in s.hosts),
                                     s.name_en))
    return out


def criteria_of(app: App) -> tuple[dict, ...]:
    """The profile's TCVN 11930 mapping as criteria (the built-in mapping if there is no profile)."""
    try:
        from config.profiles import load_profile
        prof = load_profile(app.city.profile)
    except ImportError:
        return compliance.CRITERIA
    crit: dict[str, list[str]] = {}
    for check, controls in prof.controls.checks.items():
        for ctl in controls:
            if ctl.startswith("TCVN11930:"):
                crit.setdefault(ctl.split(":", 1)[1], []).append(check)
    untitled = sorted(set(crit) - set(compliance.TITLES))
    if untitled:
        raise ConfigError(f"profile {prof.id}: TCVN 11930 clauses without a title in both languages "
                          f"(reports/compliance.py TITLES): {', '.join(untitled)}")
    return tuple({"id": cid, "title": compliance.TITLES[cid], "checks": checks} for cid, checks in sorted(crit.items()))


def meta(app: App, period: Period, lang: str, source: str) -> list[tuple[str, str]]:
    from reports.periodic import period_meta
    labels_of(app)                     # the city's time zone for the dates below
    return period_meta(period, lang, city_name(app, lang), source, utcnow())


def city_name(app: App, lang: str) -> str:
    """The city as the document's language writes it (English: without diacritics, "… City")."""
    return app.city.name if lang == "vi" else latin(app.city.name.removeprefix("Thành phố ")) + " City"


def decorate(app: App, doc, period: Period):
    """A city-wide document on the profile's paper, with the issuing body, its date and the
    running header (document — city — period)."""
    from reports.i18n import period_name
    doc.paper, doc.official, doc.date = paper_of(app), official_of(app, doc.lang), utcnow()
    doc.header = f"{doc.title} — {city_name(app, doc.lang)} — {period_name(period.label, doc.lang)}"
    return doc


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


def check_names() -> dict[str, dict[str, str]]:
    """Check id → its name in both languages: the collectors' and the exposure catalogues'
    (what a document, a page or an incident report shows instead of the id)."""
    from collectors.catalogue import catalogue

    from citysec.jobs.scan import load_exposure
    return {**catalogue().names(), **load_exposure().names()}


def labels_of(app: App) -> dict:
    """What documents show instead of codes: each check's name in both languages (the
    catalogues), the information system of each host address; set as ``check_names`` and
    ``host_systems`` in a report's figures. Also sets the documents' time zone."""
    from reports import fmt
    fmt.use_zone(app.city.reports.timezone)
    reg = {h.name: h.ip for a in app.city.agencies for h in a.hosts}
    named = {s.id: {"vi": s.name, "en": s.name_en or s.name} for s in app.city.systems}
    host_systems = {reg.get(h, h): named[s.id] for s in app.city.systems for h in s.hosts}
    from playbooks.loader import load_library
    titles = {pid: lp.playbook.title.model_dump() for pid, lp in load_library().items()}
    return {"check_names": check_names(), "host_systems": host_systems,
            "system_names": named,
            "system_hosts": {s.id: ", ".join(s.hosts) for s in app.city.systems},
            "playbook_titles": titles}


def false_positives(app: App) -> frozenset[tuple]:
    """(agency, check, host, port) of every false positive in force: they leave every figure."""
    from findings import triage
    return frozenset((d["agency"], d["check"], d["host"], d["port"]) for d in triage.decisions(app.store)
                     if d["kind"] == "false_positive")


def paper_of(app: App) -> dict:
    """The page layout of documents: the profile's ``paper`` (Decree 30/2020 by default)."""
    from config.profiles import load_profile
    return load_profile(app.city.profile).paper.model_dump()


def official_of(app: App, lang: str):
    """The issuing body of the city's documents (the agency that runs the SOC's sensor, the city's
    People's Committee above it), the place and the signer's title."""
    from reports.document import Official
    soc = next((a for a in app.city.agencies for n in a.networks
                if n.sensor == (app.city.sensor or n.sensor) and getattr(n, "segment", None) == "local"), None)
    city = city_name(app, lang)
    parent = f"UBND {city}" if lang == "vi" else f"People's Committee of {city}"
    issuer = (soc.name_en if lang == "en" and soc.name_en else soc.name) if soc else city
    place = paper_of(app).get("place") or app.city.name
    return Official(issuer=issuer, parent=parent, place=place if lang == "vi" else latin(place))


def latin(text: str) -> str:
    """A Vietnamese proper name as English writes it: without diacritics (Hải Phòng → Hai Phong)."""
    import unicodedata
    flat = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in flat if not unicodedata.combining(ch))
