"""citysec serve (the web console) and citysec users add | passwd | disable | list | log."""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys

import click

from citysec.cli.context import App, emit, json_option, pass_app
from findings.errors import UsageError

ROLES = ("soc", "officer", "controller", "evaluator", "viewer")


def _accounts(app: App):
    from citysec.web.accounts import Accounts
    return Accounts(app.store, [a.id for a in app.city.agencies])


def _operator() -> str:
    """Who runs a `users` command: the logged-in user of this shell (recorded in the console's log)."""
    try:
        return os.getlogin()
    except OSError:
        import getpass
        return getpass.getuser()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask the password on: use --password-stdin")
    return click.prompt("password", hide_input=True, confirmation_prompt=True)


def parse_bind(bind: str) -> tuple[str, int]:
    host, sep, port = bind.rpartition(":")
    host = host.strip("[]")
    try:
        ipaddress.ip_address(host)
        number = int(port)
        if not sep or not 0 < number < 65536:
            raise ValueError
    except ValueError:
        raise UsageError(f"--bind {bind!r}: expected ADDRESS:PORT (e.g. 127.0.0.1:8443)") from None
    return host, number


def register(cli: click.Group) -> None:
    @cli.command("serve")
    @click.option("--bind", default="127.0.0.1:8443", show_default=True, help="ADDRESS:PORT to listen on.")
    @click.option("--tls-cert", default=None, help="The server's certificate (PEM). Needed unless the address is loopback.")
    @click.option("--tls-key", default=None, help="The certificate's private key (PEM).")
    @click.option("--first-account", default=None,
                  help="When no account exists yet, create this soc account and print its password once.")
    @pass_app
    def serve(app: App, bind: str, tls_cert: str | None, tls_key: str | None, first_account: str | None) -> None:
        """The web console: the SOC, agency officers, the drill's control cell and leaders, each seeing
        only what is theirs (docs/console.md). Plain HTTP only on a loopback address (behind a reverse
        proxy); anywhere else TLS from --tls-cert/--tls-key."""
        host, port = parse_bind(bind)
        if bool(tls_cert) != bool(tls_key):
            raise UsageError("give both --tls-cert and --tls-key, or neither")
        for path in filter(None, (tls_cert, tls_key)):
            if not os.path.isfile(path):
                raise UsageError(f"{path}: no such file")
        if not tls_cert and not ipaddress.ip_address(host).is_loopback:
            raise UsageError(f"--bind {bind}: plain HTTP is only for a loopback address; give --tls-cert and --tls-key")
        accounts = _accounts(app)
        if first_account and not accounts.list():
            password = secrets.token_urlsafe(15)
            accounts.add(first_account, "soc", password, by=_operator())
            click.echo(f"console: first account {first_account} (role soc), password: {password}", err=True)
            click.echo("console: change it with `citysec users passwd " + first_account + "`", err=True)
        import uvicorn

        from citysec.web.app import create_app
        scheme = "https" if tls_cert else "http"
        click.echo(f"console: {scheme}://{bind}/", err=True)
        uvicorn.run(create_app(app, tls=bool(tls_cert)), host=host, port=port, ssl_certfile=tls_cert,
                    ssl_keyfile=tls_key, log_level="warning", server_header=False, proxy_headers=False)

    @cli.group("users")
    def users_group() -> None:
        """The console's local accounts (argon2id passwords, roles, agencies)."""

    @users_group.command("add")
    @click.argument("name")
    @click.option("--role", type=click.Choice(ROLES), required=True, help="What the account may do.")
    @click.option("--agency", "agencies", multiple=True, help="An officer's agency (repeat for several).")
    @click.option("--totp", is_flag=True, help="Ask an authenticator code at login (city roles).")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    @json_option
    @pass_app
    def users_add(app: App, name: str, role: str, agencies: tuple[str, ...], totp: bool, password_stdin: bool,
                  as_json: bool) -> None:
        """Create an account (the password is asked, never given on the command line)."""
        secret = _accounts(app).add(name, role, _password(password_stdin), agencies=list(agencies), totp=totp,
                                    by=_operator())
        data = {"name": name, "role": role, "agencies": list(agencies), "totp_secret": secret}

        def render(d: dict) -> None:
            click.echo(f"account {d['name']} added (role {d['role']})")
            if d["totp_secret"]:
                click.echo(f"TOTP secret (enter it in the authenticator now; shown once): {d['totp_secret']}")
        emit(data, as_json, render)

    @users_group.command("passwd")
    @click.argument("name")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
    @pass_app
    def users_passwd(app: App, name: str, password_stdin: bool) -> None:
        """Set a new password; every session of the account ends."""
        _accounts(app).passwd(name, _password(password_stdin), by=_operator())
        click.echo(f"account {name}: password changed, sessions ended", err=True)

    @users_group.command("disable")
    @click.argument("name")
    @pass_app
    def users_disable(app: App, name: str) -> None:
        """Disable an account; every session of it ends."""
        _accounts(app).disable(name, by=_operator())
        click.echo(f"account {name}: disabled", err=True)

    @users_group.command("list")
    @json_option
    @pass_app
    def users_list(app: App, as_json: bool) -> None:
        """The accounts, their roles and agencies."""
        rows = _accounts(app).list()

        def render(items: list) -> None:
            if not items:
                click.echo("no accounts (citysec users add NAME --role soc)")
            for u in items:
                click.echo(f"{u['name']:<20} {u['role']:<10} {'disabled' if u['disabled'] else 'active':<8} "
                           f"{'totp' if u['totp'] else '    '} {', '.join(u['agencies'])}")
        emit(rows, as_json, render)

    @users_group.command("log")
    @click.option("--verify", is_flag=True, help="Check the hash chain; a modified entry exits 3.")
    @json_option
    @pass_app
    def users_log(app: App, verify: bool, as_json: bool) -> None:
        """The console's hash-chained log: logins, failures, throttling, account changes."""
        from citysec.web import audit
        from findings.errors import RuntimeFailure
        _accounts(app)
        if verify:
            problems = audit.verify(app.store)
            if problems:
                raise RuntimeFailure("; ".join(problems))
            click.echo("console log: intact", err=True)
            return
        emit(audit.entries(app.store), as_json,
             lambda items: [click.echo(f"{e['seq']:>6} {e['ts']} {e['actor']:<16} {e['what']}") for e in items])
