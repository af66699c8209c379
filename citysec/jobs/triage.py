"""Job `triage`: end the triage decisions whose date passed, queue overdue findings, write this
cycle's digests and deliver every digest still waiting (also those an SMTP outage held back).

The wiring of :mod:`findings.triage`, :mod:`findings.deadlines` and :mod:`findings.notify.digest_queue` to the
city's configuration: the profile's remediation deadlines and the notify section's channels.
"""

from __future__ import annotations

import socket
from typing import Any

from findings import notify, triage
from findings.deadlines import Deadlines, queue_overdue
from findings.errors import ConfigError

from config.profiles import load_profile, profile_file


def deadline_problems(profile: str, agency_ids: set[str]) -> list[str]:
    """Agencies of the profile's remediation deadlines that the configuration does not have."""
    r = load_profile(profile).remediation
    unknown = sorted(set(r.agencies) - agency_ids)
    if unknown:
        return [f"profile {profile} ({profile_file(profile)}): remediation.agencies: unknown agency "
                f"{', '.join(unknown)}; known: {', '.join(sorted(agency_ids))}"]
    return []


def deadlines_of(app) -> Deadlines:
    problems = deadline_problems(app.city.profile, {a.id for a in app.city.agencies})
    if problems:
        raise ConfigError(problems)
    r = load_profile(app.city.profile).remediation
    return Deadlines(dict(r.days), {a: dict(d) for a, d in r.agencies.items()})


def channels_of(app) -> notify.Channels:
    n = app.city.notify
    d = n.digests
    smtp = app.smtp() if n.smtp and d.email else None
    contacts = {a.id: tuple(notify.Reader(c.email, c.lang) for c in a.contacts if c.email) for a in app.city.agencies}
    city = tuple(notify.Reader(addr) for addr in (n.smtp.recipients if n.smtp else []))
    # every name of digests.webhooks is one of notify.webhooks: config.validate refused it on load
    return notify.Channels(
        smtp=smtp, city=city, contacts=contacts, webhooks={w: n.webhooks[w] for w in d.webhooks},
        syslog=tuple(f"{t.host}:{t.port}/{t.transport}" for t in d.syslog),
        names={a.id: (a.name, a.name_en) for a in app.city.agencies}, min_severity=d.min_severity,
        lang=d.lang, hostname=app.sensor or socket.gethostname())


def triage_job(app, run_id: str, *, agency: str | None = None) -> dict[str, Any]:
    store = app.store
    ch, dl = channels_of(app), deadlines_of(app)
    expired = triage.expire(store)
    overdue = queue_overdue(store, dl)
    made = notify.digest(store, ch, run_id)
    sent = notify.deliver(store, ch)
    return {"expired": len(expired), "overdue": overdue, **made, **sent}
