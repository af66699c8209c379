"""Antivirus scan of a path (clamscan), backup snapshots (restic) and a restore check on a host."""

from __future__ import annotations

import json

from findings.model import clean_text

from .base import Action, ActionContext, ActionError, ParamError, path_param, run_checked


def _scan_paths(params: dict) -> list[str]:
    raw = params["path"]
    paths = raw if isinstance(raw, list) else [raw]
    if not paths:
        raise ParamError("parameter 'path': give a path or a list of paths")
    return [path_param({"path": p}, "path") for p in paths]


def existing_paths(paths: list[str], ls_output: str) -> list[str]:
    """The paths ``ls -d`` printed, in the order asked (pure)."""
    listed = set(ls_output.splitlines())
    return [p for p in paths if p in listed]


def _scan(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    """clamscan of the given paths that exist on the host (a data folder a host does not have is
    reported as absent, not an error; none at all is an error)."""
    paths = _scan_paths(params)
    argv = ["clamscan", "--infected", "--no-summary", "--recursive"]
    if params.get("database"):
        argv += ["--database", path_param(params, "database")]
    if dry_run:
        return {"host": params["host"], "would_run": [*argv, "--", *paths]}
    t = ctx.need_transport()
    _, listed = run_checked(t, params["host"], ["ls", "-d", "--", *paths], ok=(0, 1, 2))
    present = existing_paths(paths, listed)
    if not present:
        raise ActionError(f"{params['host']}: none of {', '.join(paths)} exists: nothing to scan")
    rc, out = run_checked(t, params["host"], [*argv, "--", *present], ok=(0, 1), timeout=1800)
    infected = [clean_text(line, 512) for line in out.splitlines() if line.rstrip().endswith("FOUND")]
    return {"host": params["host"], "path": params["path"], "scanned": present,
            "absent": [p for p in paths if p not in present], "clean": rc == 0, "infected": infected}


def _restic(ctx: ActionContext, params: dict) -> list[str]:
    conf = ctx.backups.get(params["host"]) or ctx.backup
    repo = params.get("repository") or conf.get("repository")
    pw = params.get("password_file") or conf.get("password_file")
    if not repo or not pw:
        raise ParamError(f"{params['host']}: no restic repository: give the step 'repository' and 'password_file', "
                         "or give the host's system a restic backup policy in the city config")
    # as root: a backup reads every file of the data and writes the repository (root's)
    return [*ctx.privileged, "restic", "--no-cache", "-r", path_param({"r": repo}, "r"),
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
    """Check the repository, restore the case's latest snapshot into a fresh folder under
    ``target`` (restic verifies what it wrote), and hash every restored file and the live file
    it came from: ``differs`` lists what changed on the host since the snapshot."""
    target = f"{path_param(params, 'target')}/{_tag(ctx, params)}"
    if dry_run:
        return {"host": params["host"], "would_restore": _tag(ctx, params), "into": target}
    snaps = _snapshots(ctx, params)
    if not snaps:
        raise ActionError(f"{params['host']}: no snapshot tagged {_tag(ctx, params)} to restore")
    t, base, host = ctx.need_transport(), _restic(ctx, params), params["host"]
    run_checked(t, host, base + ["check"], timeout=1800)
    run_checked(t, host, base + ["restore", snaps[-1]["id"], "--target", target, "--verify"], timeout=3600)
    _, out = run_checked(t, host, base + ["ls", "--json", snaps[-1]["id"]], timeout=600)
    live = snapshot_files(out)[:MAX_HASHED]
    if not live:
        raise ActionError(f"{host}: snapshot {snaps[-1]['id']} holds no files to check")
    files = _hashes(ctx, host, live, target)
    if any(f["sha256"] is None for f in files):
        raise ActionError(f"{host}: restore into {target} lacks {[f['path'] for f in files if not f['sha256']][:5]}")
    return {"host": host, "snapshot": snaps[-1]["id"], "target": target, "files_restored": len(files),
            "files": files, "differs": [f["path"] for f in files if f["sha256"] != f["live_sha256"]],
            "restore_ok": True}


MAX_HASHED = 500


def _sums(ctx: ActionContext, host: str, paths: list[str]) -> dict[str, str]:
    _, out = run_checked(ctx.need_transport(), host, [*ctx.privileged, "sha256sum", "--", *paths], ok=(0, 1))
    return parse_sha256sum(out)


def parse_sha256sum(out: str) -> dict[str, str]:
    """{path: hex digest} of sha256sum output (pure)."""
    sums = {}
    for line in out.splitlines():
        digest, _, path = line.partition("  ")
        if len(digest) == 64 and path:
            sums[path] = digest
    return sums


def snapshot_files(ls_json: str) -> list[str]:
    """The file paths of ``restic ls --json`` output (one JSON object a line; pure)."""
    out = []
    for line in ls_json.splitlines():
        try:
            node = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(node, dict) and node.get("type") == "file" and node.get("path"):
            out.append(node["path"])
    return sorted(out)


def _hashes(ctx: ActionContext, host: str, live: list[str], target: str) -> list[dict]:
    restored = [target + p for p in live]
    got, now = _sums(ctx, host, restored), _sums(ctx, host, live)
    return [{"path": lp, "restored_as": rp, "sha256": got.get(rp), "live_sha256": now.get(lp)}
            for rp, lp in zip(restored, live)]


AV_SCAN = Action(name="av_scan", doc="Scan a path on a host with ClamAV (clamscan).",
                 required=("host", "path"), optional=("database",), dry_run=True, run=_scan)
SNAPSHOT = Action(name="backup_snapshot", doc="Take a restic snapshot of paths on a host, tagged with the case.",
                  required=("host", "paths"), optional=("label", "repository", "password_file"),
                  dry_run=True, run=_snapshot, probe=_snapshot_probe)
RESTORE_CHECK = Action(name="restore_check",
                       doc="Check the repository and restore the case's snapshot into a scratch folder.",
                       required=("host", "target"), optional=("label", "repository", "password_file"),
                       dry_run=True, run=_restore_check)
