"""The console's local accounts, sessions and login throttle, in the findings store.

- Passwords are hashed with argon2id (argon2-cffi's defaults: RFC 9106's second recommended profile).
- A session is a random 256-bit token in a Secure, HttpOnly, SameSite=Strict cookie; the store keeps
  only its SHA-256, with the account's *generation*: a password change, a disable or a logout ends
  every session made before it.
- Failed logins are counted per account and per address in a sliding window; past the limit the
  login is refused without checking the password (no oracle, no CPU burnt on argon2).
- Optional TOTP (RFC 6238, 30 s, 6 digits, SHA-1 as authenticator apps expect) for city roles.
- Every account change and login outcome goes to the console's hash-chained log (:mod:`.audit`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import struct
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from citysec.web import audit
from citysec.web.tables import SCHEMA
from findings.errors import UsageError, unknown
from findings.model import iso, parse_ts

ROLES = ("soc", "officer", "controller", "evaluator", "viewer")
CITY_ROLES = frozenset({"soc", "controller", "evaluator", "viewer"})   # may be asked for TOTP
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
MIN_PASSWORD = 12
SESSION_HOURS = 12
IDLE_MINUTES = 60
WINDOW_MINUTES = 15
MAX_FAILURES_ACCOUNT = 5
MAX_FAILURES_ADDRESS = 20

_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    agencies: tuple[str, ...]
    totp: bool = False
    disabled: bool = False

    @property
    def city_wide(self) -> bool:
        """Sees every agency (all roles but officer)."""
        return self.role != "officer"


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    token_sha: str


class LoginRefused(Exception):
    """A login that did not succeed; ``throttled`` when the limit was reached (HTTP 429)."""

    def __init__(self, throttled: bool = False):
        super().__init__("throttled" if throttled else "refused")
        self.throttled = throttled


def ensure_schema(store) -> None:
    """The console's tables (citysec.web.tables), created or migrated once per Store."""
    store.require(SCHEMA)


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: Any) -> Account:
    return Account(row["name"], row["role"], tuple(json.loads(row["agencies"])), bool(row["totp"]),
                   bool(row["disabled"]))


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short: at least {MIN_PASSWORD} characters")
    return password


class Accounts:
    """Accounts and sessions over one store. ``known_agencies`` are the configuration's agency ids."""

    def __init__(self, store, known_agencies: list[str]):
        self.store = store
        self.known = list(known_agencies)
        ensure_schema(store)

    # -- accounts ---------------------------------------------------------------------------
    def _check(self, name: str, role: str, agencies: list[str]) -> None:
        if not NAME.match(name):
            raise UsageError(f"account name {name!r}: use 2–63 of a-z 0-9 . _ - (starting with a letter or digit)")
        if role not in ROLES:
            raise UsageError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if role == "officer" and not agencies:
            raise UsageError("an officer needs --agency (one or more of the configuration's agencies)")
        if role != "officer" and agencies:
            raise UsageError(f"role {role} sees every agency: --agency is only for officers")
        for a in agencies:
            if a not in self.known:
                raise unknown("agency", a, self.known)

    def add(self, name: str, role: str, password: str, *, agencies: list[str] = (), totp: bool = False,
            by: str = "citysec") -> str | None:
        """Create an account. Returns the TOTP secret (base32) when ``totp``, to show once."""
        self._check(name, role, list(agencies))
        check_password(password)
        if totp and role not in CITY_ROLES:
            raise UsageError("TOTP is for city roles (soc, controller, evaluator, viewer)")
        secret = base64.b32encode(secrets.token_bytes(20)).decode() if totp else None
        now = iso(self.store.clock())
        with self.store.write() as c:
            if c.execute("SELECT 1 FROM web_users WHERE name=?", (name,)).fetchone():
                raise UsageError(f"account {name} exists (use `citysec users passwd`)")
            c.execute("INSERT INTO web_users (name, role, agencies, pw_hash, totp, created_at, changed_at)"
                      " VALUES (?,?,?,?,?,?,?)", (name, role, json.dumps(sorted(agencies)),
                                                  _hasher.hash(password), secret, now, now))
            audit.append(c, now, by, "user_added", {"name": name, "role": role, "agencies": sorted(agencies),
                                                     "totp": bool(secret)})
        return secret

    def passwd(self, name: str, password: str, *, by: str) -> None:
        """A new password; every session of the account ends."""
        check_password(password)
        now = iso(self.store.clock())
        with self.store.write() as c:
            self._row(c, name)
            c.execute("UPDATE web_users SET pw_hash=?, generation=generation+1, changed_at=? WHERE name=?",
                      (_hasher.hash(password), now, name))
            c.execute("DELETE FROM web_sessions WHERE name=?", (name,))
            audit.append(c, now, by, "password_changed", {"name": name})

    def disable(self, name: str, *, by: str) -> None:
        now = iso(self.store.clock())
        with self.store.write() as c:
            self._row(c, name)
            c.execute("UPDATE web_users SET disabled=1, generation=generation+1, changed_at=? WHERE name=?",
                      (now, name))
            c.execute("DELETE FROM web_sessions WHERE name=?", (name,))
            audit.append(c, now, by, "user_disabled", {"name": name})

    def list(self) -> list[dict[str, Any]]:
        return [{"name": r["name"], "role": r["role"], "agencies": json.loads(r["agencies"]),
                 "totp": bool(r["totp"]), "disabled": bool(r["disabled"]), "created_at": r["created_at"]}
                for r in self.store.query("SELECT * FROM web_users ORDER BY name")]

    def get(self, name: str) -> Account | None:
        rows = self.store.query("SELECT * FROM web_users WHERE name=?", (name,))
        return _account(rows[0]) if rows else None

    def _row(self, c, name: str):
        row = c.execute("SELECT * FROM web_users WHERE name=?", (name,)).fetchone()
        if row is None:
            names = [r[0] for r in c.execute("SELECT name FROM web_users")]
            raise UsageError(f"unknown account {name!r}" + (f"; accounts: {', '.join(names)}" if names else ""))
        return row

    # -- login ------------------------------------------------------------------------------
    def _failures(self, c, kind: str, value: str, since: str) -> int:
        return c.execute("SELECT count(*) FROM web_failures WHERE kind=? AND value=? AND at>=?",
                         (kind, value, since)).fetchone()[0]

    def login(self, name: str, password: str, address: str, totp_code: str | None = None) -> tuple[Session, str]:
        """Check the credentials; returns the session and its token (for the cookie). Raises
        :class:`LoginRefused` (the same for an unknown account, a wrong password, a disabled account
        or a wrong code, so the answer tells nothing)."""
        now = self.store.clock()
        since = iso(now - timedelta(minutes=WINDOW_MINUTES))
        name = (name or "").strip().lower()[:64]
        with self.store.write() as c:
            throttled = (self._failures(c, "account", name, since) >= MAX_FAILURES_ACCOUNT
                         or self._failures(c, "address", address, since) >= MAX_FAILURES_ADDRESS)
            if throttled:   # recorded, and the transaction commits before the refusal
                audit.append(c, iso(now), name or "-", "login_throttled", {"address": address})
            row = c.execute("SELECT * FROM web_users WHERE name=?", (name,)).fetchone()
        if throttled:
            raise LoginRefused(throttled=True)
        ok = row is not None and _verify(row["pw_hash"], password or "")
        if ok and row["totp"]:
            ok = totp_ok(row["totp"], totp_code or "", time.time())
        if not ok or row["disabled"]:
            with self.store.write() as c:
                for kind, value in (("account", name), ("address", address)):
                    c.execute("INSERT INTO web_failures VALUES (?,?,?)", (kind, value, iso(now)))
                c.execute("DELETE FROM web_failures WHERE at < ?", (iso(now - timedelta(days=1)),))
                audit.append(c, iso(now), name or "-", "login_failed", {"address": address})
            raise LoginRefused()
        token = secrets.token_urlsafe(32)
        session = Session(_account(row), secrets.token_urlsafe(32), _sha(token))
        with self.store.write() as c:
            c.execute("INSERT INTO web_sessions VALUES (?,?,?,?,?,?,?)",
                      (session.token_sha, name, row["generation"], session.csrf, address, iso(now), iso(now)))
            c.execute("DELETE FROM web_failures WHERE kind='account' AND value=?", (name,))
            audit.append(c, iso(now), name, "login", {"address": address})
        return session, token

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, or None (unknown, expired, idle, or its account's
        password changed or the account was disabled since)."""
        if not token or len(token) > 128:
            return None
        now = self.store.clock()
        rows = self.store.query(
            "SELECT s.*, u.role, u.agencies, u.totp, u.disabled, u.generation AS ugen FROM web_sessions s"
            " JOIN web_users u ON u.name = s.name WHERE s.token_sha=?", (_sha(token),))
        if not rows:
            return None
        r = rows[0]
        expired = (parse_ts(r["created_at"]) + timedelta(hours=SESSION_HOURS) < now
                   or parse_ts(r["seen_at"]) + timedelta(minutes=IDLE_MINUTES) < now)
        if expired or r["disabled"] or r["generation"] != r["ugen"]:
            with self.store.write() as c:
                c.execute("DELETE FROM web_sessions WHERE token_sha=?", (r["token_sha"],))
            return None
        if parse_ts(r["seen_at"]) + timedelta(minutes=1) < now:   # one write a minute, not one a request
            with self.store.write() as c:
                c.execute("UPDATE web_sessions SET seen_at=? WHERE token_sha=?", (iso(now), r["token_sha"]))
        return Session(_account(r), r["csrf"], r["token_sha"])

    def logout(self, session: Session) -> None:
        with self.store.write() as c:
            c.execute("DELETE FROM web_sessions WHERE token_sha=?", (session.token_sha,))
            audit.append(c, iso(self.store.clock()), session.account.name, "logout", {})


def _verify(pw_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(pw_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def totp_at(secret: str, t: float, step: int = 30) -> str:
    key = base64.b32decode(secret)
    digest = hmac.new(key, struct.pack(">Q", int(t // step)), "sha1").digest()
    off = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[off:off + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def totp_ok(secret: str, code: str, now: float) -> bool:
    """The code of this 30 s step or of the step before or after (clock drift)."""
    code = code.strip()
    return any(hmac.compare_digest(totp_at(secret, now + d * 30), code) for d in (-1, 0, 1))
