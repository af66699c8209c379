"""Generate an incident report of the case (notice, initial, final) in Vietnamese and English."""

from __future__ import annotations

import os

from .base import Action, ActionContext, ActionError, ParamError

KINDS = ("notice", "initial", "final")


def report_paths(ctx: ActionContext, kind: str, langs: list[str]) -> list[str]:
    return [os.path.join(ctx.reports_dir, "cases", ctx.case["id"], f"incident_{kind}.{lang}.html") for lang in langs]


def _langs(params: dict) -> list[str]:
    langs = params.get("langs", ["vi", "en"])
    if not set(langs) <= {"vi", "en"}:
        raise ParamError(f"parameter 'langs': vi and/or en, not {langs!r}")
    return list(langs)


def _report(ctx: ActionContext, params: dict, dry_run: bool) -> dict:
    kind = params["kind"]
    if kind not in KINDS:
        raise ParamError(f"parameter 'kind': one of {', '.join(KINDS)}, not {kind!r}")
    paths = report_paths(ctx, kind, _langs(params))
    if dry_run:
        return {"kind": kind, "would_write": paths}
    if ctx.render_report is None:
        raise ActionError("no report renderer configured")
    for lang, path in zip(_langs(params), paths):
        html = ctx.render_report(kind, lang)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "w", encoding="utf-8") as fh:
            fh.write(html)
        os.replace(path + ".tmp", path)
    return {"kind": kind, "files": paths}


REPORT = Action(name="generate_report", doc="Write the case's incident notice, initial or final report (HTML).",
                required=("kind",), optional=("langs",), dry_run=True, run=_report)
