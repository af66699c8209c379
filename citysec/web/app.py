"""The console's ASGI application (Starlette): server-rendered pages, one small vendored script (htmx),
a strict Content-Security-Policy, sessions checked on every request, CSRF tokens on every form.

Routes are thin: they check the session, the account's agencies (:mod:`.authz`) and the role, then
call the same functions the command uses (:mod:`citysec.queries`, findings.triage, playbooks
operations, exercises evaluation) with the logged-in account as the actor.
"""

from __future__ import annotations

import contextlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from citysec.web import authz, fmt, words
from citysec.web.accounts import Accounts, LoginRefused, Session
from citysec.web.figures import DashboardFigures
from findings.errors import CitysecError, UsageError
from findings.model import clean_text
from findings.support.templates import environment

HERE = Path(__file__).parent
SESSION_COOKIE = "citysec_session"
PRE_COOKIE = "citysec_pre"          # the login form's CSRF token (double submit), before a session exists
LANG_COOKIE = "citysec_lang"
MAX_BODY = 256 * 1024              # a form of the console is a few kB
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
           (b"cross-origin-opener-policy", b"same-origin"), (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]


class SecurityHeaders:
    """Every response (pages, files, errors) gets the security headers; pages are never cached."""

    def __init__(self, app, hsts: bool):
        self.app, self.hsts = app, hsts

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                own = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in HEADERS if k not in own]   # a page may set a stricter CSP
                if self.hsts:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                if not scope["path"].startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)
        await self.app(scope, receive, send_with_headers)


class Console:
    """What every request needs: the application context, the accounts, the templates."""

    def __init__(self, ctx, *, tls: bool = False):
        self.ctx = ctx
        self.tls = tls
        self.known = [a.id for a in ctx.city.agencies]
        self.names = {a.id: (a.name, a.name_en or a.name) for a in ctx.city.agencies}
        self.accounts = Accounts(ctx.store, self.known)
        self.figures = DashboardFigures(ctx, lambda: self.engine)
        self._engine = None
        self._check_names: dict[str, dict[str, str]] | None = None
        self.env = environment(FileSystemLoader(str(HERE / "templates")))
        self.env.globals.update(fmt=fmt, words=words)

    @property
    def check_names(self) -> dict[str, dict[str, str]]:
        """Check id → its name in both languages, from the same catalogues as the reports."""
        if self._check_names is None:
            from citysec.report_inputs import check_names
            self._check_names = check_names()
        return self._check_names

    def check_name(self, cid: str | None, lang: str) -> str:
        names = self.check_names.get(cid or "")
        return (names.get(lang) or names.get("vi") or cid) if names else (cid or "")

    @property
    def engine(self):
        if self._engine is None:
            from citysec.jobs.cases import engine
            self._engine = engine(self.ctx)
        return self._engine

    def agency_name(self, aid: str | None, lang: str) -> str:
        if aid is None:
            return ""
        vi, en = self.names.get(aid, (aid, aid))
        return en if lang == "en" else vi

    # -- rendering ---------------------------------------------------------------------------
    def render(self, request: Request, template: str, code: int = 200, **data: Any) -> HTMLResponse:
        lang = lang_of(request)
        s: Session | None = request.state.session if hasattr(request.state, "session") else None
        html = self.env.get_template(template).render(
            lang=lang, w=lambda key, **kw: words.word(key, lang, **kw), session=s, path=request.url.path,
            agency_name=lambda aid: self.agency_name(aid, lang), check_name=lambda cid: self.check_name(cid, lang),
            may=lambda action: bool(s and authz.may(s.account, action)),
            **data)
        return HTMLResponse(html, status_code=code)


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _safe_next(value: str | None) -> str:
    """Only a path of this site (no scheme, no host, no '//' or backslash tricks)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    parts = urlsplit(value)
    return "/" if parts.scheme or parts.netloc else value


Handler = Callable[[Console, Request, Session], Awaitable[Response]]


def page(console: Console, handler: Handler, *, post: bool = False):
    """Wrap a handler: a live session (else to the login page), CSRF on POST, errors as pages."""

    async def endpoint(request: Request) -> Response:
        session = await run_in_threadpool(console.accounts.session, request.cookies.get(SESSION_COOKIE))
        request.state.session = session
        if session is None:
            if post or request.headers.get("hx-request"):
                return console.render(request, "error.html.j2", 401, message=words.word("login", lang_of(request)))
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if post:
            form = await request.form()
            token = str(form.get("csrf", ""))
            if not hmac.compare_digest(token.encode(), session.csrf.encode()) or not _same_origin(request):
                return console.render(request, "error.html.j2", 403, message=words.word("forbidden", lang_of(request)))
            request.state.form = form
        try:
            return await handler(console, request, session)
        except authz.NotFound:
            return console.render(request, "error.html.j2", 404, message=words.word("not_found", lang_of(request)))
        except authz.Forbidden:
            return console.render(request, "error.html.j2", 403, message=words.word("forbidden", lang_of(request)))
        except UsageError as exc:
            return console.render(request, "error.html.j2", 400, message=clean_text(str(exc)))
        except CitysecError as exc:
            return console.render(request, "error.html.j2", 503, message=clean_text(str(exc)))
    return endpoint


def _same_origin(request: Request) -> bool:
    """A POST from a page of this site: Origin (or Referer) names this host, when the browser sends one."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True        # not a browser (the CSRF token still had to match)
    return urlsplit(origin).netloc == request.headers.get("host", "")


# -- login -----------------------------------------------------------------------------------
async def login_form(request: Request) -> Response:
    console: Console = request.app.state.console
    request.state.session = None
    pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(32)
    resp = console.render(request, "login.html.j2", pre=pre, error=None, next=_safe_next(request.query_params.get("next")))
    resp.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=_secure(request), path="/login")
    return resp


async def login_post(request: Request) -> Response:
    console: Console = request.app.state.console
    request.state.session = None
    form = await request.form()
    pre = request.cookies.get(PRE_COOKIE, "")
    nxt = _safe_next(str(form.get("next", "/")))
    if not pre or not hmac.compare_digest(str(form.get("csrf", "")).encode(), pre.encode()) or not _same_origin(request):
        return console.render(request, "error.html.j2", 403, message=words.word("forbidden", lang_of(request)))
    address = request.client.host if request.client else "-"
    try:
        _, token = await run_in_threadpool(console.accounts.login, str(form.get("name", "")),
                                                 str(form.get("password", "")), address, str(form.get("totp", "")))
    except LoginRefused as exc:
        key = "throttled" if exc.throttled else "login_failed"
        return console.render(request, "login.html.j2", 429 if exc.throttled else 401, pre=pre,
                              error=words.word(key, lang_of(request)), next=nxt)
    resp = RedirectResponse(nxt, status_code=303)
    resp.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/")
    resp.delete_cookie(PRE_COOKIE, path="/login")
    return resp


async def logout(console: Console, request: Request, s: Session) -> Response:
    await run_in_threadpool(console.accounts.logout, s)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp


async def set_lang(request: Request) -> Response:
    lang = request.path_params["lang"]
    resp = RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
    if lang in ("vi", "en"):
        resp.set_cookie(LANG_COOKIE, lang, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return resp


async def health(request: Request) -> Response:
    return Response("ok\n", media_type="text/plain")


def create_app(ctx, *, tls: bool = False) -> Any:
    """The console over the application context ``ctx`` (:class:`citysec.app.App`)."""
    from citysec.web import pages
    console = Console(ctx, tls=tls)
    routes = [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_post, methods=["POST"]),
        Route("/logout", page(console, logout, post=True), methods=["POST"]),
        Route("/lang/{lang}", set_lang, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    for path, handler, methods in pages.ROUTES:
        routes.append(Route(path, page(console, handler, post="POST" in methods), methods=methods))
    @contextlib.asynccontextmanager
    async def lifespan(_app):
        console.figures.warm()
        yield

    app = Starlette(routes=routes, lifespan=lifespan, max_body_size=MAX_BODY)
    app.state.console = console
    return SecurityHeaders(app, hsts=tls)
