"""`citysec hosts enroll|list`: the operator's step that puts host keys in the managed known_hosts."""

from __future__ import annotations

import click
import paramiko

from collectors.hostkeys import KnownHosts, fetch_host_key, host_id, parse_accept_file
from collectors.ssh import CollectError, Session
from findings.errors import UsageError
from findings.model import clean_text

from citysec.jobs.collect import targets


def _targets(app, agency):
    seen, out = set(), []
    for task in ("antivirus", "backup", "logs"):
        for t in targets(app, agency, task):
            if t.ip not in seen:
                seen.add(t.ip)
                out.append(t)
    return out


def enroll(app, agency: str | None, accept_from: str | None, *, interactive: bool) -> list[dict]:
    known = KnownHosts(app.config.resolve(app.city.known_hosts))
    accepted: set[str] | None = None
    if accept_from:
        try:
            with open(accept_from, encoding="utf-8") as fh:
                accepted = parse_accept_file(fh.read())
        except OSError as exc:
            raise UsageError(f"--accept-from {accept_from}: {exc.strerror}") from None
    rows, alerts = [], []
    for t in _targets(app, agency):
        row = {"agency": t.agency, "name": t.name, "hid": host_id(t.ip, t.port)}
        try:
            offered = _fetch(t, known)
        except CollectError as exc:
            rows.append({**row, "status": "error", "reason": f"through jump host {t.jump.name}: {exc.reason}"})
            continue
        except (OSError, paramiko.SSHException, EOFError) as exc:
            rows.append({**row, "status": "error", "reason": clean_text(str(exc) or type(exc).__name__, 300)})
            continue
        state = known.state(offered.hid, offered.key)
        row.update(fingerprint=offered.fingerprint, key_type=offered.key_type)
        if state == "known":
            rows.append({**row, "status": "known"})
            continue
        ok = False
        if accepted is not None:
            ok = offered.fingerprint in accepted
        elif interactive:
            warn = " — THE KEY CHANGED (possible interception)" if state == "changed" else ""
            ok = click.confirm(f"{t.name} {offered.hid} {offered.key_type} {offered.fingerprint}{warn}\n"
                               "  record this key?", default=False, err=True)
        if ok:
            known.record(offered.hid, offered.key, replace=state == "changed")
            rows.append({**row, "status": "recorded" if state == "unknown" else "replaced"})
        else:
            rows.append({**row, "status": "changed" if state == "changed" else "not recorded"})
            if state == "changed":
                alerts.append(_changed_alert(t, known, offered))
    if alerts:
        app.store.record(alerts)
    return rows


def _changed_alert(t, known: KnownHosts, offered):
    """The alert a changed key raises, also when enrolment is what saw it."""
    from collectors.catalogue import catalogue
    enrolled = ", ".join(k.fingerprint for k in known.keys_for(offered.hid))
    return catalogue()["ssh.host_key_changed"].finding(
        agency=t.agency, kind="alert", host_ip=t.ip, host_name=t.name, type=("indicator",),
        message=f"host key changed — possible interception: {t.name} ({t.ip}) offered {offered.fingerprint}, "
                f"enrolled {enrolled}; not recorded", details={"expected": enrolled, "offered": offered.fingerprint})


def _fetch(t, known: KnownHosts):
    """The host's key, asked directly from the sensor or through its (enrolled) jump host."""
    if t.jump is None:
        return fetch_host_key(t.ip, t.port, netns=t.netns)
    with Session(t.jump, known) as bastion:
        chan = bastion.client.get_transport().open_channel("direct-tcpip", (t.ip, t.port), ("127.0.0.1", 0),
                                                           timeout=5)
        return fetch_host_key(t.ip, t.port, sock=chan)


def listing(app, agency: str | None) -> list[dict]:
    known = KnownHosts(app.config.resolve(app.city.known_hosts))
    rows = []
    for t in _targets(app, agency):
        keys = known.keys_for(host_id(t.ip, t.port))
        rows.append({"agency": t.agency, "name": t.name, "ip": t.ip, "user": t.user, "port": t.port,
                     "jump": t.jump.name if t.jump else None, "os": t.os, "collect": list(t.collect),
                     "enrolled": ", ".join(k.fingerprint for k in keys) or None})
    return rows
