"""Antivirus scan of a path (clamscan), backup snapshots (restic) and a restore check on a host."""

from __future__ import annotations

import json

from findings.model import clean_text

from .base import Action, ActionContext, ActionError, ParamError, path_param, run_checked


def _scan(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    argv = ["clamscan", "--infected", "--no-summary", "--recursive"]
    if params.get("database"):
        argv += ["--database", path_param(params, "database")]
    argv += ["--", path_param(params, "path")]
    if dry_run:
        return {"host": params["host"], "would_run": argv}
    rc, out = run_checked(ctx.need_transport(), params["host"], argv, ok=(0, 1), timeout=1800)
    infected = [clean_text(line, 512) for line in out.splitlines() if line.rstrip().endswith("FOUND")]
    return {"host": params["host"], "path": params["path"], "clean": rc == 0, "infected": infected}


def _restic(ctx: ActionContext, params: dict) -> list[str]:
    repo = params.get("repository") or ctx.backup.get("repository")
    pw = params.get("password_file") or ctx.backup.get("password_file")
    if not repo or not pw:
        raise ParamError("backup actions need 'repository' and 'password_file' (params or configuration)")
    return ["restic", "--no-cache", "-r", path_param({"r": repo}, "r"),
            "--password-file", path_param({"p": pw}, "p")]


def _tag(ctx: ActionContext, params: dict) -> str:
    label = str(params.get("label", "snapshot"))
    if not label.replace("-", "").isalnum():
        raise ParamError(f"parameter 'label': letters, digits and '-' only: {label!r}")
    return f"citysec-case-{ctx.case['id']}-{label}"


def _snapshots(ctx: ActionContext, params: dict) -> list[dict]:
    argv = _restic(ctx, params) + ["snapshots", "--json", "--tag", _tag(ctx, params)]
    _, out = run_checked(ctx.need_transport(), params["host"], argv)
    try:
        return json.loads(out or "[]") or []
    except json.JSONDecodeError as exc:
        raise ActionError(f"{params['host']}: restic snapshots printed no JSON: {exc}") from exc


def _snapshot(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    paths = params["paths"] if isinstance(params["paths"], list) else [params["paths"]]
    argv = _restic(ctx, params) + ["backup", "--json", "--tag", _tag(ctx, params), "--"]
    argv += [path_param({"p": p}, "p") for p in paths]
    if dry_run:
        return {"host": params["host"], "would_run": argv}
    run_checked(ctx.need_transport(), params["host"], argv, timeout=3600)
    snaps = _snapshots(ctx, params)
    if not snaps:
        raise ActionError(f"{params['host']}: restic backup ran but no snapshot has tag {_tag(ctx, params)}")
    return {"host": params["host"], "tag": _tag(ctx, params), "snapshot": snaps[-1]["id"], "paths": paths}


def _snapshot_probe(ctx: ActionContext, params: dict) -> dict | None:
    snaps = _snapshots(ctx, params)
    if not snaps:
        return None
    return {"host": params["host"], "tag": _tag(ctx, params), "snapshot": snaps[-1]["id"], "already": True}


def _restore_check(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    target = path_param(params, "target")
    if dry_run:
        return {"host": params["host"], "would_restore": _tag(ctx, params), "into": target}
    snaps = _snapshots(ctx, params)
    if not snaps:
        raise ActionError(f"{params['host']}: no snapshot tagged {_tag(ctx, params)} to restore")
    t, base = ctx.need_transport(), _restic(ctx, params)
    run_checked(t, params["host"], base + ["check"], timeout=1800)
    run_checked(t, params["host"], base + ["restore", snaps[-1]["id"], "--target", target], timeout=3600)
    _, out = run_checked(t, params["host"], ["find", target, "-type", "f"])
    files = [line for line in out.splitlines() if line.strip()]
    if not files:
        raise ActionError(f"{params['host']}: restore of {snaps[-1]['id']} into {target} gave no files")
    return {"host": params["host"], "snapshot": snaps[-1]["id"], "target": target, "files_restored": len(files),
            "restore_ok": True}


AV_SCAN = Action(name="av_scan", doc="Scan a path on a host with ClamAV (clamscan).",
                 required=("host", "path"), optional=("database",), dry_run=True, run=_scan)
SNAPSHOT = Action(name="backup_snapshot", doc="Take a restic snapshot of paths on a host, tagged with the case.",
                  required=("host", "paths"), optional=("label", "repository", "password_file"),
                  dry_run=True, run=_snapshot, probe=_snapshot_probe)
RESTORE_CHECK = Action(name="restore_check",
                       doc="Check the repository and restore the case's snapshot into a scratch folder.",
                       required=("host", "target"), optional=("label", "repository", "password_file"),
                       dry_run=True, run=_restore_check)
