"""The console over HTTP as an attacker or a curious officer would try it: other agencies' ids on every
route, posts without or with a stolen CSRF token, sessions after logout and password change,
password guessing, hostile text, headers, open redirects, the command's refusals."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from web_helpers import HOSTILE, PASSWORD, csrf_of, free_port, login

from citysec.web import pages

ROOT = Path(__file__).resolve().parents[2]


def other_agency_urls(ids: dict) -> list[tuple[str, str, dict]]:
    """(method, path, form) for every route, aimed at an object of so-tttt (not the officer's)."""
    fp, case = ids["fp"]["exposure.rdp/so-tttt"], ids["cases"]["so-tttt"]
    return [
        ("GET", f"/findings/{fp}", {}),
        ("GET", "/findings?agency=so-tttt", {}),
        ("POST", f"/findings/{fp}/false-positive", {"reason": "x"}),
        ("POST", f"/findings/{fp}/accept", {"reason": "x", "until": "2099-01-01"}),
        ("POST", f"/findings/{fp}/approve", {}),
        ("POST", f"/findings/{fp}/unaccept", {}),
        ("GET", f"/cases/{case}", {}),
        ("GET", f"/cases/{case}/reports/notice/vi", {}),
        ("POST", f"/cases/{case}/complete", {"step": "confirm"}),
        ("POST", f"/cases/{case}/approve", {"step": "approve-stop"}),
        ("POST", f"/cases/{case}/note", {"text": "x"}),
        ("POST", f"/cases/{case}/field", {"name": "summary", "value": "x"}),
        ("GET", "/reports/periodic?period=2026-H2&agency=so-tttt", {}),
    ]


def test_every_route_with_an_object_is_tried_with_another_agencys_object(city):
    """A new route must be added to the list above (so it is tried with the other agency's ids)."""
    _, ids = city
    tried = [path.split("?")[0] for _, path, _ in other_agency_urls(ids)]
    for path, _, _ in pages.ROUTES:
        if "{" not in path or path.startswith("/drills"):   # drills: city-wide objects (roles, not agencies)
            continue
        pattern = re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(path)) + "$")
        assert any(pattern.match(t) for t in tried), f"route {path} is not tried with another agency's object"


def test_an_officer_gets_404_for_every_object_of_another_agency(city, console):
    _, ids = city
    client = login(console.url, "off-tc")
    token = csrf_of(client)
    for method, path, form in other_agency_urls(ids):
        r = client.request(method, path, data={**form, "csrf": token} if method == "POST" else None)
        assert r.status_code == 404, (method, path, r.status_code)
        for secret in ("so-tttt", "Thông tin và Truyền thông", "RDP", "198.18.93"):
            assert secret not in r.text, (method, path, secret)
    # nothing was written by those attempts
    from findings import triage
    assert ids["fp"]["exposure.rdp/so-tttt"] not in triage.active(city[0].store)


def test_an_officers_lists_counts_and_searches_hold_only_their_agency(city, console):
    client = login(console.url, "off-tc")
    for path in ("/", "/findings", "/findings?check=exposure", "/findings?status=all", "/cases?status=all",
                 "/reports"):
        html = client.get(path).text
        assert "Sở Tài chính" in html or path == "/reports", path
        for secret in ("so-tttt", "Thông tin và Truyền thông", "198.18.93", "RDP"):
            assert secret not in html, (path, secret)
    count = re.search(r'id="count">([^<]+)<', client.get("/findings?status=all").text).group(1)
    assert count.endswith(" 2"), count          # so-tc's two findings, not the city's four
    # city-wide documents are not an officer's
    assert client.get("/reports/ranking?period=2026-H2").status_code == 403
    assert client.get("/reports/periodic?period=2026-H2").status_code == 403
    assert client.get("/reports/periodic?period=2026-H2&agency=so-tc").status_code == 200


def test_roles_limit_actions(city, console):
    _, ids = city
    lead = login(console.url, "lead")
    token = csrf_of(lead)
    r = lead.post(f"/findings/{ids['fp']['backup.stale/so-tttt']}/false-positive", data={"reason": "x", "csrf": token})
    assert r.status_code == 403
    # an officer may not decide a step of the incident lead
    off = login(console.url, "off-tc")
    r = off.post(f"/cases/{ids['cases']['so-tc']}/approve", data={"step": "approve-stop", "csrf": csrf_of(off)})
    assert r.status_code == 403
    # a controller may not rate, an evaluator may not abort
    eva = login(console.url, "eva")
    assert eva.post("/drills/drill-1/abort", data={"csrf": csrf_of(eva)}).status_code == 403
    ctl = login(console.url, "ctl")
    r = ctl.post("/drills/drill-1/rate", data={"objective": "detect", "rating": "P", "csrf": csrf_of(ctl)})
    assert r.status_code == 403


def test_posts_without_the_sessions_csrf_token_are_refused(city, console):
    _, ids = city
    fp = ids["fp"]["backup.stale/so-tttt"]
    soc = login(console.url, "soc1")
    other = login(console.url, "soc2")
    stolen = csrf_of(other)
    for data, headers in (({"reason": "x"}, {}), ({"reason": "x", "csrf": "guess"}, {}),
                          ({"reason": "x", "csrf": stolen}, {}),
                          ({"reason": "x", "csrf": csrf_of(soc)}, {"origin": "http://evil.example"})):
        r = soc.post(f"/findings/{fp}/false-positive", data=data, headers=headers)
        assert r.status_code == 403, (data, headers)
    from findings import triage
    assert fp not in triage.active(city[0].store)
    # the login form too
    anon = httpx.Client(base_url=console.url)
    r = anon.post("/login", data={"name": "soc1", "password": PASSWORD, "csrf": "x", "next": "/"})
    assert r.status_code == 403


def test_a_session_ends_with_logout_and_with_a_password_change(city, console):
    app, _ = city
    client = login(console.url, "off-tttt")
    cookie = client.cookies.get("citysec_session")
    assert client.get("/").status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client)})
    replay = httpx.Client(base_url=console.url, cookies={"citysec_session": cookie})
    assert replay.get("/").status_code == 303          # to the login page
    client = login(console.url, "off-tttt")
    cookie = client.cookies.get("citysec_session")
    from citysec.web.accounts import Accounts
    Accounts(app.store, ["so-tc", "so-tttt"]).passwd("off-tttt", PASSWORD + "!", by="test")
    replay = httpx.Client(base_url=console.url, cookies={"citysec_session": cookie})
    assert replay.get("/").status_code == 303
    login(console.url, "off-tttt", PASSWORD + "!")


def test_failed_logins_are_throttled_and_recorded(city, console):
    app, _ = city
    client = httpx.Client(base_url=console.url)
    client.get("/login")
    pre = client.cookies.get("citysec_pre")
    codes = [client.post("/login", data={"name": "ctl", "password": "wrong password", "csrf": pre}).status_code
             for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # even the right password is refused while throttled
    r = client.post("/login", data={"name": "ctl", "password": PASSWORD, "csrf": pre})
    assert r.status_code == 429 and "15" in r.text
    rows = [dict(r) for r in app.store.query("SELECT actor, what FROM web_audit WHERE actor='ctl'")]
    assert rows.count({"actor": "ctl", "what": "login_failed"}) == 5
    assert {"actor": "ctl", "what": "login_throttled"} in rows
    # an unknown account answers exactly like a wrong password
    r = client.post("/login", data={"name": "nobody", "password": "x", "csrf": pre})
    assert r.status_code == 401


def test_pages_carry_the_security_headers(console):
    client = login(console.url, "soc1")
    for path in ("/", "/login", "/static/console.css", "/findings/ffff", "/nope"):
        r = client.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert r.headers.get("x-content-type-options") == "nosniff", path
        assert r.headers.get("x-frame-options") == "DENY", path
    assert client.get("/").headers["cache-control"] == "no-store"
    cookie = login(console.url, "soc2").cookies.jar
    session = next(c for c in cookie if c.name == "citysec_session")
    assert session.has_nonstandard_attr("HttpOnly") and session.get_nonstandard_attr("SameSite") == "strict"


def test_hostile_text_is_escaped_in_the_html(city, console):
    _, ids = city
    client = login(console.url, "soc1")
    for path in ("/", "/findings", f"/findings/{ids['fp']['av.missing/so-tc']}"):
        html = client.get(path).text
        assert "<script>document.title" not in html and "<img src=x" not in html, path
        assert "&lt;script&gt;document.title" in html, path
        assert "\x1b" not in html, path
    assert HOSTILE  # the seed put it in a message and a host name


def test_no_open_redirect_after_login(console):
    for nxt in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        client = httpx.Client(base_url=console.url)
        client.get("/login")
        r = client.post("/login", data={"name": "soc2", "password": PASSWORD, "csrf": client.cookies.get("citysec_pre"),
                                        "next": nxt})
        assert r.status_code == 303 and r.headers["location"] == "/", nxt


def test_accounts_store_argon2id_hashes_and_refuse_bad_input(city):
    app, _ = city
    rows = app.store.query("SELECT pw_hash FROM web_users")
    assert rows and all(r[0].startswith("$argon2id$") for r in rows)
    env = {"PATH": "/usr/bin:/bin"}
    config = str(Path(app.config_path))

    def run(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "citysec.cli", "--config", config, *args], input=stdin, check=False,
                              capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    r = run("users", "add", "x-off", "--role", "officer", "--agency", "so-xx", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 2 and "unknown agency 'so-xx'" in r.stderr and "Traceback" not in r.stderr
    r = run("users", "add", "short", "--role", "soc", "--password-stdin", stdin="abc\n")
    assert r.returncode == 2 and "too short" in r.stderr
    r = run("users", "list", "--json")
    assert r.returncode == 0 and '"off-tc"' in r.stdout and "pw_hash" not in r.stdout and PASSWORD not in r.stdout
    r = run("users", "log", "--verify")
    assert r.returncode == 0, r.stderr
    app.store.query("SELECT 1")
    with app.store.write() as c:
        c.execute("UPDATE web_audit SET actor='someone-else' WHERE seq=2")
    r = run("users", "log", "--verify")
    assert r.returncode == 3 and "entry 2" in r.stderr


def test_serve_refuses_plain_http_off_loopback_and_serves_tls(city, tmp_path):
    app, _ = city
    config = str(Path(app.config_path))
    base = [sys.executable, "-m", "citysec.cli", "--config", config, "serve"]
    r = subprocess.run(base + ["--bind", "198.18.92.10:8443"], check=False, capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert r.returncode == 2 and "loopback" in r.stderr
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    port = free_port()
    proc = subprocess.Popen(base + ["--bind", f"127.0.0.1:{port}", "--tls-cert", str(cert), "--tls-key", str(key)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"https://127.0.0.1:{port}/healthz", verify=ssl.create_default_context(cafile=str(cert)),
                              timeout=5)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.3)
        assert r.status_code == 200 and "max-age" in r.headers["strict-transport-security"]
        with pytest.raises(httpx.ConnectError):      # verified TLS: an unknown CA is refused by the client
            httpx.get(f"https://127.0.0.1:{port}/healthz", timeout=5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_totp_is_asked_of_an_account_that_has_it(city):
    app, _ = city
    from citysec.web.accounts import Accounts, LoginRefused, totp_at
    acc = Accounts(app.store, ["so-tc", "so-tttt"])
    secret = acc.add("soc-totp", "soc", PASSWORD, totp=True, by="test")
    with pytest.raises(LoginRefused):
        acc.login("soc-totp", PASSWORD, "127.0.0.9")
    with pytest.raises(LoginRefused):
        acc.login("soc-totp", PASSWORD, "127.0.0.9", "000000" if totp_at(secret, time.time()) != "000000" else "111111")
    session, token = acc.login("soc-totp", PASSWORD, "127.0.0.9", totp_at(secret, time.time()))
    assert acc.session(token).account.name == "soc-totp" and session.account.role == "soc"
    with pytest.raises(Exception, match="city roles"):
        acc.add("off-totp", "officer", PASSWORD, agencies=["so-tc"], totp=True, by="test")


def test_the_after_action_report_is_for_city_roles(city, console):
    soc = login(console.url, "soc1")
    r = soc.get("/drills/drill-1/aar?lang=en")
    assert r.status_code == 200 and "After-action report" in r.text
    assert "'unsafe-inline'" in r.headers["content-security-policy"] and "script" not in r.headers["content-security-policy"]
    off = login(console.url, "off-tc")
    assert off.get("/drills/drill-1/aar").status_code == 403
    assert soc.get("/drills/nope/aar").status_code == 404


def test_case_record_fields_are_set_by_the_logged_in_account(city, console):
    app, ids = city
    case = ids["cases"]["so-tc"]
    off = login(console.url, "off-tc")
    token = csrf_of(off)
    r = off.post(f"/cases/{case}/field", data={"name": "summary", "value": "Telnet <b>mở</b> trên tc-pc1", "csrf": token})
    assert r.status_code == 303
    page = off.get(f"/cases/{case}").text
    assert "Telnet &lt;b&gt;mở&lt;/b&gt; trên tc-pc1" in page
    audit = app.store.query("SELECT actor, what FROM case_audit WHERE case_id=? ORDER BY seq DESC LIMIT 1", (case,))
    assert tuple(audit[0]) == ("off-tc", "field_set")
    r = off.post(f"/cases/{case}/field", data={"name": "playbook", "value": "x", "csrf": token})
    assert r.status_code == 400 and "unknown case field" in r.text


def test_the_dashboard_follows_the_cases_without_a_restart(city, console):   # keep last: it adds a case
    """The dashboard's figures are computed once per change of the store: a case opened and a step
    done after the page was first shown appear on the next page (same process, nothing restarted)."""
    from citysec.jobs.cases import engine
    app, ids = city
    soc = login(console.url, "soc1")
    before = soc.get("/").text
    eng = engine(app)
    rdp = json.loads(next(r for r in app.store.current() if r["check_id"] == "exposure.rdp")["doc"])
    new = eng.open_case("forbidden-service", agency="so-tttt", findings=[rdp], host="198.18.93.98")
    assert new not in before
    page = soc.get("/").text
    assert f'href="/cases/{new}"' in page
    officer = login(console.url, "off-tc")        # an officer of so-tc still sees only so-tc's case
    mine = officer.get("/").text
    assert f'href="/cases/{ids["cases"]["so-tc"]}"' in mine and new not in mine
    opened_phase = eng.show(new)["phase"]
    eng.advance(new)                               # the automated steps run (and fail: no such host)
    phase = eng.show(new)["phase"]
    title = next(p.title.vi for p in eng.playbook("forbidden-service").playbook.phases if p.id == phase)
    row = re.search(rf'href="/cases/{new}".*?</tr>', soc.get("/").text, re.DOTALL).group(0)
    assert title in row, (opened_phase, phase, row)
