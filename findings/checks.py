"""Check metadata: every check has a stable id, a name, a severity, remediation in Vietnamese
and English and its control mappings, validated when the catalogue is loaded."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from findings.errors import ConfigError
from findings.model import SEVERITIES, Finding

CHECK_ID = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9][a-z0-9_-]*)+$")   # area.name, stable forever
DATASET = re.compile(r"^citysec\.[a-z0-9_]+$")                          # no '-': data stream names


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    severity: str
    remediation: Mapping[str, str]
    controls: tuple[str, ...] = ()
    dataset: str | None = None
    category: tuple[str, ...] = ()
    description: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)   # the name per language (vi, en) for readers

    def label(self, lang: str) -> str:
        """The check's name in a reader's language (the catalogues require both)."""
        return self.names.get(lang) or self.name

    def __post_init__(self) -> None:
        problems = []
        if not CHECK_ID.match(self.id):
            problems.append(f"check {self.id}: the id must be 'area.name' (lower case, digits, _ and -)")
        if self.dataset is not None and not DATASET.match(self.dataset):
            problems.append(f"check {self.id}: dataset {self.dataset!r} must be 'citysec.<area>' (no '-')")
        if not isinstance(self.remediation, Mapping):
            problems.append(f"check {self.id}: remediation must map vi and en to text")
            object.__setattr__(self, "remediation", {})
        if any(not isinstance(c, str) or not c for c in self.controls):
            problems.append(f"check {self.id}: controls must be a list of control ids")
        if self.severity not in SEVERITIES:
            problems.append(f"check {self.id}: severity {self.severity!r} is not one of {SEVERITIES}")
        for lang in ("vi", "en"):
            if not str(self.remediation.get(lang, "")).strip():
                problems.append(f"check {self.id}: remediation.{lang} is missing")
        if problems:
            raise ConfigError(problems)

    def finding(self, *, agency: str, verdict: str | None = None, kind: str = "state",
                severity: str | None = None, **kw: Any) -> Finding:
        """A finding of this check, its metadata filled in. A pass is reported at severity info."""
        if severity is None:
            severity = "info" if verdict in ("pass", "skipped") else self.severity
        return Finding(check=self.id, agency=agency, kind=kind, verdict=verdict, severity=severity,
                       check_name=self.name, dataset=self.dataset, controls=self.controls,
                       remediation=self.remediation, category=kw.pop("category", self.category), **kw)


def names_of(raw: Any, where: str) -> dict[str, str]:
    """A catalogue entry's ``name: {vi, en}``; a missing translation is a load-time error."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: name must give the name in both languages (name: {{vi: ..., en: ...}})")
    missing = [lang for lang in ("vi", "en") if not isinstance(raw.get(lang), str) or not raw[lang].strip()]
    unknown = sorted(set(raw) - {"vi", "en"})
    if missing or unknown:
        raise ConfigError(f"{where}: name: " + "; ".join(
            [f"the {lang} translation is missing" for lang in missing] + [f"unknown language {u!r}" for u in unknown]))
    return {"vi": raw["vi"].strip(), "en": raw["en"].strip()}


class Catalogue:
    """Checks by id. Build it from plain mappings (e.g. a YAML file's content)."""

    def __init__(self, checks: Mapping[str, Check] | None = None):
        self._checks = dict(checks or {})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, Any]], source: str = "<catalogue>") -> Catalogue:
        checks, problems = {}, []
        for cid, meta in data.items():
            if not isinstance(meta, Mapping):
                problems.append(f"{source}: check {cid}: give a mapping (name, severity, remediation, ...)")
                continue
            try:
                names = names_of(meta["name"], f"{source}: check {cid}")
                checks[cid] = Check(
                    id=cid, name=names["en"], names=names, severity=meta["severity"],
                    remediation=meta["remediation"], controls=tuple(meta.get("controls") or ()),
                    dataset=meta.get("dataset"), category=tuple(meta.get("category", ())),
                    description=meta.get("description", ""),
                    extra={k: v for k, v in meta.items() if k not in {
                        "name", "severity", "remediation", "controls", "dataset", "category", "description"}})
            except KeyError as exc:
                problems.append(f"{source}: check {cid}: missing {exc.args[0]}")
            except ConfigError as exc:
                problems.extend(f"{source}: {p}" for p in exc.problems)
        if problems:
            raise ConfigError(problems)
        return cls(checks)

    def __getitem__(self, cid: str) -> Check:
        return self._checks[cid]

    def __contains__(self, cid: object) -> bool:
        return cid in self._checks

    def __iter__(self):
        return iter(self._checks.values())

    def names(self) -> dict[str, dict[str, str]]:
        """Check id → its name per language, for the reports."""
        return {cid: dict(c.names) or {"vi": c.name, "en": c.name} for cid, c in self._checks.items()}

    def merged(self, other: Catalogue) -> Catalogue:
        return Catalogue({**self._checks, **{c.id: c for c in other}})
