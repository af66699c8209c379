"""Collect evidence: copy files from a host with SHA-256 on both ends and a chain-of-custody record
(who, when, from where, hashes, size). The copy is refused when the two hashes differ."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re

from findings.model import iso, utcnow

from .base import Action, ActionContext, ActionError, ParamError, path_param, run_checked

MAX_BYTES = 64 * 1024 * 1024


def _safe_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", path.strip("/")) or "root"


def _case_dir(ctx: ActionContext, host: str) -> str:
    return os.path.join(ctx.evidence_dir, ctx.case["id"], _safe_name(host))


def _paths(params: dict) -> list[str]:
    paths = params["paths"]
    if not isinstance(paths, list) or not paths:
        raise ParamError("parameter 'paths': need a list of absolute paths")
    return [path_param({"p": p}, "p") for p in paths]


def _copy_one(ctx: ActionContext, host: str, path: str, actor: str) -> dict:
    """Freeze the file first (a log grows while we read it: our own SSH login writes to auth.log),
    then hash, copy and hash the frozen copy, and remove it."""
    t = ctx.need_transport()
    frozen = f"/var/tmp/citysec-evidence-{_safe_name(ctx.case['id'])}-{_safe_name(path)}"
    run_checked(t, host, ["cp", "--preserve=timestamps", "--", path, frozen])
    try:
        return _copy_frozen(ctx, t, host, path, frozen, actor)
    finally:
        run_checked(t, host, ["rm", "-f", "--", frozen])


def _copy_frozen(ctx: ActionContext, t, host: str, path: str, frozen: str, actor: str) -> dict:
    _, size_out = run_checked(t, host, ["stat", "-c", "%s", "--", frozen])
    size = int(size_out.strip() or 0)
    if size > MAX_BYTES:
        raise ActionError(f"{host}:{path} is {size} bytes, more than the {MAX_BYTES} evidence limit")
    _, sum_out = run_checked(t, host, ["sha256sum", "--", frozen])
    remote = sum_out.split()[0] if sum_out.split() else ""
    _, b64 = run_checked(t, host, ["base64", "-w", "0", "--", frozen], timeout=300)
    data = base64.b64decode(b64.strip())
    local = hashlib.sha256(data).hexdigest()
    if local != remote:
        raise ActionError(f"{host}:{path}: SHA-256 differs between host ({remote}) and copy ({local})")
    dest = os.path.join(_case_dir(ctx, host), _safe_name(path))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    with open(dest, "wb") as fh:
        fh.write(data)
    os.chmod(dest, 0o440)
    now = (ctx.clock or utcnow)()
    return {"host": host, "path": path, "size": len(data), "sha256": local, "sha256_on_host": remote,
            "stored_as": dest, "collected_by": actor, "collected_at": iso(now)}


def _manifest(ctx: ActionContext, host: str, label: str) -> str:
    return os.path.join(_case_dir(ctx, host), f"custody-{_safe_name(label)}.json")


def _collect(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    host, paths, label = params["host"], _paths(params), str(params.get("label", "evidence"))
    if dry_run:
        return {"host": host, "would_copy": paths}
    items = [_copy_one(ctx, host, p, ctx.case.get("actor", "citysec")) for p in paths]
    manifest = _manifest(ctx, host, label)
    with open(manifest + ".tmp", "w", encoding="utf-8") as fh:
        json.dump({"case": ctx.case["id"], "label": label, "items": items}, fh, indent=1)
    os.replace(manifest + ".tmp", manifest)
    return {"host": host, "label": label, "custody": items, "manifest": manifest}


def _probe(ctx: ActionContext, params: dict) -> dict | None:
    manifest = _manifest(ctx, params["host"], str(params.get("label", "evidence")))
    if not os.path.exists(manifest):
        return None
    with open(manifest, encoding="utf-8") as fh:
        data = json.load(fh)
    if sorted(i["path"] for i in data["items"]) != sorted(_paths(params)):
        return None
    return {"host": params["host"], "label": data["label"], "custody": data["items"], "manifest": manifest,
            "already": True}


COLLECT = Action(name="collect_evidence", doc="Copy files from a host with SHA-256 chain of custody.",
                 required=("host", "paths"), optional=("label",), dry_run=True, run=_collect, probe=_probe)
