"""The console's pages. Each handler: load the object by its exact id, check the account may see its
agency (404 otherwise), check the role for an action (403), call the same function the command
calls with the logged-in account as the actor, render."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from citysec import queries
from citysec.web import authz, figures, pending
from citysec.web.accounts import Session
from findings.errors import UsageError
from findings.model import clean_text, parse_ts

PAGE = 100
SETTABLE = ("summary", "impact", "symptoms", "indicators", "measures", "harm_estimate", "spread", "first_result",
            "detection_method", "root_cause", "recommendations", "lessons", "help", "damage_vnd", "related_incidents",
            "contacts", "evidence")
SEVERITIES = ("critical", "high", "medium", "low", "info")


def _lang(request: Request) -> str:
    from citysec.web.app import lang_of
    return lang_of(request)


def _field(request: Request, name: str, limit: int = 2000, required: bool = True) -> str:
    value = clean_text(str(request.state.form.get(name, "") or "")).strip()
    if required and not value:
        raise UsageError(f"{name}: required")
    if len(value) > limit:
        raise UsageError(f"{name}: at most {limit} characters")
    return value


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# -- dashboard ---------------------------------------------------------------------------------
def _dashboard_data(c, s: Session) -> dict[str, Any]:
    data = c.figures.get()
    figs = data["figures"]
    mine = authz.scope(s.account, c.known)
    if s.account.city_wide:
        views, rank = [("city", None, figs["city"])], data["ranking"]
    else:
        views, rank = [("agency", aid, figs["agencies"][aid]) for aid in mine if aid in figs["agencies"]], None
    todo = (data["todo"] if s.account.city_wide
            else queries.findings(c.ctx, agencies=mine, limit=figures.TOP_FINDINGS))
    return {"period": data["period"], "views": views, "ranking": rank, "cases": _of(data["cases"], mine),
            "todo": todo, "now": c.ctx.store.clock()}


async def dashboard(c, request: Request, s: Session) -> Response:
    data = await run_in_threadpool(_dashboard_data, c, s)
    return c.render(request, "dashboard.html.j2", **data)


# -- findings ----------------------------------------------------------------------------------
async def findings_list(c, request: Request, s: Session) -> Response:
    q = request.query_params
    mine = authz.scope(s.account, c.known)
    agency = q.get("agency") or None
    if agency is not None:
        authz.require(s.account, agency)
        if agency not in c.known:
            raise authz.NotFound()
    status = q.get("status", "active")
    severity = q.get("severity") or None
    triage_ = q.get("triage") or None
    if status not in queries.STATUSES or (severity and severity not in SEVERITIES) \
            or (triage_ and triage_ not in ("accepted", "false-positive", "none")):
        raise UsageError("unknown filter value")
    check = (q.get("check") or "").strip()[:100] or None
    overdue = q.get("overdue") == "1"
    try:
        start = max(0, int(q.get("start", "0")))
    except ValueError:
        start = 0
    filters = {"agencies": [agency] if agency else mine, "status": status, "severity": severity, "check": check,
               "triage_": triage_, "overdue_only": overdue}
    rows = await run_in_threadpool(lambda: queries.findings(c.ctx, start=start, limit=PAGE, **filters))
    total = await run_in_threadpool(lambda: queries.findings_count(c.ctx, **filters))
    return c.render(request, "findings.html.j2", rows=rows, total=total, start=start,
                    page=PAGE, agencies=mine, f={"agency": agency or "", "status": status, "severity": severity or "",
                                                  "triage": triage_ or "", "check": check or "", "overdue": overdue},
                    severities=SEVERITIES)


def _finding(c, s: Session, fp: str) -> dict[str, Any]:
    row = c.ctx.store.get(fp) if 0 < len(fp) <= 64 and fp.isalnum() else None
    if row is None or row["fingerprint"] != fp:
        raise authz.NotFound()
    authz.require(s.account, row["agency"])
    return row


async def finding_detail(c, request: Request, s: Session) -> Response:
    import json

    from findings import triage
    fp = request.path_params["fp"]
    row = await run_in_threadpool(_finding, c, s, fp)
    doc = json.loads(row["doc"])
    decision = triage.active(c.ctx.store, row["agency"]).get(fp)
    request_ = pending.get(c.ctx.store, fp)
    return c.render(request, "finding.html.j2", row=row, doc=doc, decision=decision, pending=request_,
                    remediation=(doc.get("citysec") or {}).get("remediation") or {})


async def finding_action(c, request: Request, s: Session) -> Response:
    from findings import triage
    fp, what = request.path_params["fp"], request.path_params["what"]
    row = _finding(c, s, fp)
    me = s.account.name
    if what == "false-positive":
        authz.require_action(s.account, "triage")
        triage.decide(c.ctx.store, fp, "false_positive", reason=_field(request, "reason"), by=me)
    elif what == "accept":
        authz.require_action(s.account, "triage")
        until = triage.parse_until(_field(request, "until", 40))
        pending.request(c.ctx.store, fp, row["agency"], reason=_field(request, "reason"), until=until, by=me)
    elif what == "approve":
        authz.require_action(s.account, "approve_acceptance")
        req = pending.get(c.ctx.store, fp)
        if req is None:
            raise UsageError("no acceptance awaits approval")
        if req["by"] == me:
            raise UsageError("the account that asked cannot approve: a second person must")
        triage.decide(c.ctx.store, fp, "accepted", reason=req["reason"], by=req["by"], approved_by=me,
                      until=parse_ts(req["until"]))
        pending.clear(c.ctx.store, fp)
    elif what == "unaccept":
        authz.require_action(s.account, "triage")
        triage.withdraw(c.ctx.store, fp, by=me, reason=_field(request, "reason", required=False) or None)
        pending.clear(c.ctx.store, fp)
    else:
        raise authz.NotFound()
    return _back(f"/findings/{fp}")


# -- incidents ---------------------------------------------------------------------------------
def _of(rows: list[dict[str, Any]], agencies: list[str]) -> list[dict[str, Any]]:
    wanted = set(agencies)
    return [r for r in rows if r["agency"] in wanted]


def _cases(c, agencies: list[str], status: str | None) -> list[dict[str, Any]]:
    if status == "active":       # the dashboard's, computed once per change of the store
        return _of(c.figures.get()["cases"], agencies)
    return figures.case_rows(c.ctx, c.engine, status, agencies)


async def cases_list(c, request: Request, s: Session) -> Response:
    status = request.query_params.get("status", "active")
    if status not in ("active", "closed", "all"):
        raise UsageError("unknown status")
    rows = await run_in_threadpool(_cases, c, authz.scope(s.account, c.known), None if status == "all" else status)
    return c.render(request, "cases.html.j2", rows=rows, status=status, now=c.ctx.store.clock())


def _case(c, s: Session, case_id: str) -> dict[str, Any]:
    from playbooks.casedb import case_row
    try:
        row = case_row(c.ctx.store, case_id)
    except UsageError:
        raise authz.NotFound() from None
    if row["id"] != case_id:
        raise authz.NotFound()
    authz.require(s.account, row["agency"])
    return row


async def case_detail(c, request: Request, s: Session) -> Response:
    from playbooks import views
    cid = request.path_params["cid"]
    _case(c, s, cid)
    view = await run_in_threadpool(views.case_view, c.engine, cid)
    timeline = await run_in_threadpool(views.timeline, c.engine, cid)
    roles = {st["id"]: authz.playbook_role_for(s.account, st["role"]) for st in view["steps"]}
    phases = {p.id: p.title.model_dump() for p in c.engine.playbook(view["playbook"]).playbook.phases}
    return c.render(request, "case.html.j2", v=view, timeline=timeline[-50:], roles=roles, now=c.ctx.store.clock(),
                    reports=_report_files(c, cid), phases=phases, settable=SETTABLE)


def _report_files(c, cid: str) -> dict[str, list[str]]:
    from playbooks.actions.report import KINDS
    out = {}
    for kind in KINDS:
        langs = [lang for lang in ("vi", "en") if _report_path(c, cid, kind, lang).is_file()]
        if langs:
            out[kind] = langs
    return out


def _report_path(c, cid: str, kind: str, lang: str) -> Path:
    return Path(c.ctx.config.resolve(c.ctx.city.reports.out_dir)) / "cases" / cid / f"incident_{kind}.{lang}.html"


async def case_action(c, request: Request, s: Session) -> Response:
    from playbooks import operations
    cid, what = request.path_params["cid"], request.path_params["what"]
    _case(c, s, cid)
    me = s.account.name
    if what in ("approve", "decline", "complete"):
        step_id = _field(request, "step", 100)
        view_steps = {st["id"]: st for st in (await run_in_threadpool(_steps, c, cid))}
        if step_id not in view_steps:
            raise authz.NotFound()
        if what == "complete":
            authz.require_action(s.account, "case_step")
            await run_in_threadpool(operations.complete_step, c.engine, cid, step_id, me,
                                    _field(request, "note", required=False) or None)
        else:
            role = authz.playbook_role_for(s.account, view_steps[step_id]["role"])
            if role is None:
                raise authz.Forbidden()
            await run_in_threadpool(operations.decide, c.engine, cid, step_id, role, me, what)
    elif what == "field":
        authz.require_action(s.account, "case_field")
        name = _field(request, "name", 40)
        if name not in SETTABLE:
            raise UsageError(f"unknown case field {name!r}")
        await run_in_threadpool(operations.set_field, c.engine, cid, name, _field(request, "value"), me)
    elif what == "note":
        authz.require_action(s.account, "case_step")
        operations.note(c.engine, cid, _field(request, "text"), me)
    elif what == "report":
        authz.require_action(s.account, "case_step")
        kind = _field(request, "kind", 20)
        await run_in_threadpool(operations.generate_report, c.engine, cid, kind, me)
    else:
        raise authz.NotFound()
    return _back(f"/cases/{cid}")


def _steps(c, cid: str) -> list[dict[str, Any]]:
    from playbooks import views
    return views.case_view(c.engine, cid)["steps"]


async def case_report(c, request: Request, s: Session) -> Response:
    cid, kind, lang = request.path_params["cid"], request.path_params["kind"], request.path_params["lang"]
    _case(c, s, cid)
    if kind not in ("notice", "initial", "final") or lang not in ("vi", "en"):
        raise authz.NotFound()
    path = _report_path(c, cid, kind, lang)
    if not path.is_file():
        raise authz.NotFound()
    return FileResponse(path, media_type="text/html; charset=utf-8", filename=f"{cid}-{kind}.{lang}.html")


# -- drills ------------------------------------------------------------------------------------
async def drills_list(c, request: Request, s: Session) -> Response:
    from exercises.status import runs
    rows = await run_in_threadpool(runs, c.ctx.store, 50)
    return c.render(request, "drills.html.j2", rows=rows)


def _drill(c, s: Session, run_id: str) -> dict[str, Any]:
    from exercises.status import status
    try:
        st = status(c.ctx.store, run_id)
    except UsageError:
        raise authz.NotFound() from None
    if st["id"] != run_id:
        raise authz.NotFound()
    return st


def _ratings(c, s: Session, run_id: str) -> list[dict[str, Any]]:
    from exercises import evaluation
    return [r for r in evaluation.ratings(c.ctx.store, run_id) if authz.may_see(s.account, r["agency"])]


def _objectives(c, run_id: str, lang: str) -> list[dict[str, Any]]:
    from exercises import evaluation
    _, sc = evaluation.run_and_scenario(c.ctx.store, run_id)
    return [{"id": o.id, "title": o.title.in_lang(lang), "agencies": list(o.agencies)} for o in sc.objectives]


async def drill_detail(c, request: Request, s: Session) -> Response:
    run_id = request.path_params["run"]
    st = await run_in_threadpool(_drill, c, s, run_id)
    ratings = await run_in_threadpool(_ratings, c, s, run_id)
    objectives = await run_in_threadpool(_objectives, c, run_id, _lang(request)) if authz.may(s.account, "drill_rate") else []
    live = st["state"] in ("running", "paused", "pending")
    template = "drill_live.html.j2" if request.headers.get("hx-request") else "drill.html.j2"
    return c.render(request, template, st=st if s.account.city_wide else None, run_id=run_id, ratings=ratings,
                    objectives=objectives, live=live, message=request.query_params.get("m"))


async def drill_action(c, request: Request, s: Session) -> Response:
    from exercises import evaluation
    from exercises.runner import control
    run_id, what = request.path_params["run"], request.path_params["what"]
    _drill(c, s, run_id)
    if what in ("pause", "resume", "end", "abort"):
        authz.require_action(s.account, "drill_control")
        r = await run_in_threadpool(control, c.ctx.store, run_id, what)
        note = "asked" if r["driven_by"] or what == "pause" else "no_runner"
        return _back(f"/drills/{run_id}?m={note}")
    if what == "rate":
        authz.require_action(s.account, "drill_rate")
        agency = _field(request, "agency", 100, required=False) or None
        if agency is not None and agency not in c.known:
            raise UsageError("unknown agency")
        await run_in_threadpool(lambda: evaluation.rate(
            c.ctx.store, run_id, _field(request, "objective", 100), _field(request, "rating", 2), agency=agency,
            evaluator=s.account.name, note=_field(request, "note", required=False)))
        return _back(f"/drills/{run_id}?m=saved")
    raise authz.NotFound()


# -- reports -----------------------------------------------------------------------------------
DOCS = ("periodic", "ranking", "member", "compliance")


async def reports_index(c, request: Request, s: Session) -> Response:
    authz.require_action(s.account, "reports")
    period = queries.current_period(c.ctx)
    docs = DOCS if s.account.city_wide else ("periodic",)
    return c.render(request, "reports.html.j2", docs=docs, period=period.label, year=period.start.year,
                    agencies=authz.scope(s.account, c.known))


def _document(c, s: Session, kind: str, period_label: str, lang: str, agency: str | None):
    from citysec.report_inputs import (
        criteria_of,
        decorate,
        labels_of,
        meta,
        official_of,
        open_query,
        orgs_of,
        paper_of,
        systems_of,
    )
    from reports import compliance, member, periodic, ranking
    from reports.period import compliance_year, parse_period
    ctx = c.ctx
    if kind != "periodic" and not s.account.city_wide:
        raise authz.Forbidden()
    if kind == "periodic" and not s.account.city_wide and agency is None:
        raise authz.Forbidden()       # an officer reads their agency's report, not the city's
    if agency is not None:
        authz.require(s.account, agency)
        if agency not in c.known:
            raise authz.NotFound()
    q = open_query(ctx, "sqlite")
    if kind == "compliance":
        try:
            year = int(period_label)
        except ValueError:
            raise UsageError("compliance: the period is a year (e.g. 2026)") from None
        from reports.gather import gather
        p = compliance_year(year)
        fig = compliance.figures(systems_of(ctx), gather(q, p).state, p, criteria_of(ctx)) | labels_of(ctx)
        return decorate(ctx, compliance.build(fig, lang, meta(ctx, p, lang, q.name)), p), f"compliance-{year}"
    p = parse_period(period_label)
    if kind == "periodic":
        figs = queries.figures(ctx, p, agency=agency)
        from findings.model import utcnow
        doc = periodic.build(figs, p, orgs_of(ctx, "sqlite"), lang, agency=agency, source=q.name, generated=utcnow(),
                             paper=paper_of(ctx), official=official_of(ctx, lang))
        return doc, f"periodic-{p.label}" + (f"-{agency}" if agency else "")
    if kind == "ranking":
        result = queries.ranking(ctx, p)
        names = {o.id: o.label(lang) for o in orgs_of(ctx, "sqlite")}
        return decorate(ctx, ranking.build(result, names, lang, meta(ctx, p, lang, q.name)), p), f"ranking-{p.label}"
    if kind == "member":
        from reports.summary import period_figures
        figs = period_figures(q, p, orgs_of(ctx, "sqlite"), compare=False)
        return decorate(ctx, member.build(figs, p, lang, meta(ctx, p, lang, q.name)), p), f"member-{p.label}"
    raise authz.NotFound()


def _aar(c, run_id: str, lang: str):
    from exercises.aar_data import aar_data
    from findings.model import utcnow
    from reports import aar
    data = aar_data(c.ctx.store, run_id)
    names = {a.id: c.agency_name(a.id, lang) for a in c.ctx.city.agencies}
    return aar.build(data, lang, names=names, generated=utcnow()), f"aar-{data['overview']['run']}"


async def drill_aar(c, request: Request, s: Session) -> Response:
    """The after-action report and improvement plan: it covers every agency of the drill (city roles)."""
    run_id = request.path_params["run"]
    _drill(c, s, run_id)
    if not s.account.city_wide:
        raise authz.Forbidden()
    return await _deliver(request, *await run_in_threadpool(_aar, c, run_id, _doc_lang(request)))


def _doc_lang(request: Request) -> str:
    lang = request.query_params.get("lang") or _lang(request)
    if lang not in ("vi", "en"):
        raise authz.NotFound()
    return lang


REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox"


async def report_view(c, request: Request, s: Session) -> Response:
    authz.require_action(s.account, "reports")
    q = request.query_params
    kind, lang = request.path_params["kind"], _doc_lang(request)
    if kind not in DOCS:
        raise authz.NotFound()
    doc, name = await run_in_threadpool(_document, c, s, kind, (q.get("period") or "").strip()[:10],
                                        lang, q.get("agency") or None)
    return await _deliver(request, doc, name)


async def _deliver(request: Request, doc, name: str) -> Response:
    """A document as HTML in the browser (its own strict CSP: styles, no script) or as a PDF download,
    named by language like the command's files."""
    from reports import render
    fmt_, lang = request.query_params.get("format", "html"), _doc_lang(request)
    if fmt_ not in ("html", "pdf"):
        raise authz.NotFound()
    if fmt_ == "html":
        html = await run_in_threadpool(render.write, doc, "html", None)
        return Response(html, media_type="text/html; charset=utf-8", headers={"content-security-policy": REPORT_CSP})
    with tempfile.TemporaryDirectory(prefix="citysec-web-") as tmp:
        out = Path(tmp) / f"{name}.{lang}.pdf"
        await run_in_threadpool(render.write, doc, "pdf", out)
        data = out.read_bytes()
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{name}.{lang}.pdf"'})


ROUTES = [
    ("/", dashboard, ["GET"]),
    ("/findings", findings_list, ["GET"]),
    ("/findings/{fp}", finding_detail, ["GET"]),
    ("/findings/{fp}/{what}", finding_action, ["POST"]),
    ("/cases", cases_list, ["GET"]),
    ("/cases/{cid}", case_detail, ["GET"]),
    ("/cases/{cid}/reports/{kind}/{lang}", case_report, ["GET"]),
    ("/cases/{cid}/{what}", case_action, ["POST"]),
    ("/drills", drills_list, ["GET"]),
    ("/drills/{run}", drill_detail, ["GET"]),
    ("/drills/{run}/aar", drill_aar, ["GET"]),
    ("/drills/{run}/{what}", drill_action, ["POST"]),
    ("/reports", reports_index, ["GET"]),
    ("/reports/{kind}", report_view, ["GET"]),
]
