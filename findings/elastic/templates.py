"""Elasticsearch names, mappings, templates and the retention policy of citysec's documents.

The mappings are derived from :func:`findings.model.to_document` (ECS 9.4 types from
``docs/ecs-9.4``). The root is ``dynamic: false``: an ECS field the serialiser may add later is
kept in ``_source`` but never creates a mapping. Our namespace ``citysec`` is ``dynamic: strict``:
a key the mapping does not know is a rejected document (a dead letter with the server's reason),
never a new field. Each area's detail set ``citysec.<area>`` (antivirus, backup, case, ...) holds
text collected from hosts, so it is ``flattened``: one field whatever keys it holds, every leaf
searchable as a keyword (``citysec.antivirus.product: ClamAV``), no mapping explosion. ``object``
with ``enabled: false`` would keep it unsearchable; flattened costs one field per area.
"""

from __future__ import annotations

import re
from typing import Any

STATE_INDEX = "citysec-state"
COMPONENT = "citysec-ecs@mappings"
SETTINGS_COMPONENT = "citysec@settings"
LOGS_TEMPLATE = "logs-citysec"
STATE_TEMPLATE = "citysec-state"
ILM_POLICY = "citysec-retention"
LOGS_PATTERN = "logs-citysec.*-*"

# Areas known in advance; the shipper adds any other area it meets (see ensure_areas).
AREAS = ("exposure", "discovery", "services", "antivirus", "backup", "logs", "collect", "scheduler",
         "case", "playbook", "exercise", "drill", "report", "readiness", "metric", "inventory",
         "triage")

KW = {"type": "keyword", "ignore_above": 1024}
IP = {"type": "ip"}
DATE = {"type": "date"}
LONG = {"type": "long"}
TEXT_KW = {"type": "keyword", "ignore_above": 1024, "fields": {"text": {"type": "match_only_text"}}}

_INVALID = re.compile(r"[^a-z0-9_.]")


def _obj(**props: Any) -> dict[str, Any]:
    return {"properties": props}


def citysec_mapping(areas: tuple[str, ...] | list[str] = AREAS) -> dict[str, Any]:
    """The ``citysec`` object: strict, with every known area's detail set flattened."""
    props: dict[str, Any] = {
        "check": KW, "verdict": KW, "severity": KW, "fingerprint": KW, "run_id": KW, "subject": KW,
        "status": KW, "first_seen": DATE, "last_seen": DATE, "controls": KW,
        "remediation": _obj(vi={"type": "match_only_text"}, en={"type": "match_only_text"}),
    }
    for area in sorted(set(areas)):
        props.setdefault(area, {"type": "flattened", "ignore_above": 4096})
    return {"type": "object", "dynamic": "strict", "properties": props}


def mappings(areas: tuple[str, ...] | list[str] = AREAS) -> dict[str, Any]:
    """Explicit mappings of every field :func:`to_document` writes."""
    return {
        "dynamic": False,
        "properties": {
            "@timestamp": DATE,
            "message": {"type": "match_only_text"},
            "ecs": _obj(version=KW),
            "data_stream": _obj(type={"type": "constant_keyword"}, dataset={"type": "constant_keyword"},
                                namespace={"type": "constant_keyword"}),
            "event": _obj(kind=KW, dataset=KW, module=KW, category=KW, type=KW, id=KW, severity=LONG,
                          reason=KW, outcome=KW),
            "organization": _obj(id=KW, name=TEXT_KW),
            "host": _obj(ip=IP, name=KW, mac=KW),
            "service": _obj(name=KW, version=KW),
            "server": _obj(ip=IP, port=LONG),
            "network": _obj(transport=KW),
            "source": _obj(ip=IP),
            "user": _obj(name=TEXT_KW),
            "rule": _obj(id=KW, name=KW),
            "observer": _obj(name=KW, type=KW),
            "citysec": citysec_mapping(areas),
        },
    }


def area_of(dataset: str) -> str:
    return dataset.split(".", 1)[1] if "." in dataset else dataset


def stream_name(dataset: str, namespace: str) -> str:
    """``logs-citysec.<area>-<namespace>``: lower case, no '-' inside the dataset (it separates)."""
    clean = _INVALID.sub("_", dataset.lower()) or "citysec.unknown"
    return f"logs-{clean}-{namespace}"


def ilm_policy(retention_days: int) -> dict[str, Any]:
    return {"phases": {
        "hot": {"actions": {"rollover": {"max_age": "30d", "max_primary_shard_size": "50gb"}}},
        "delete": {"min_age": f"{retention_days}d", "actions": {"delete": {}}},
    }}


def settings_component(with_ilm: bool) -> dict[str, Any]:
    settings: dict[str, Any] = {"index.mapping.total_fields.limit": 1000}
    if with_ilm:
        settings["index.lifecycle.name"] = ILM_POLICY
    return {"settings": settings}


def logs_template(retention_days: int, with_ilm: bool) -> dict[str, Any]:
    """Index template of the data streams (history and events), above the built-in ``logs``."""
    body: dict[str, Any] = {
        "index_patterns": [LOGS_PATTERN], "data_stream": {}, "priority": 200,
        "composed_of": [COMPONENT, SETTINGS_COMPONENT],
        "_meta": {"managed_by": "citysec", "description": "citysec history and events (ECS 9.4)"},
    }
    if not with_ilm:  # data stream lifecycle: retention where ILM is missing (ignored if unsupported)
        body["template"] = {"lifecycle": {"data_retention": f"{retention_days}d"}}
    return body


def state_template() -> dict[str, Any]:
    return {"index_patterns": [STATE_INDEX], "priority": 200, "composed_of": [COMPONENT],
            "_meta": {"managed_by": "citysec", "description": "citysec current state, id = fingerprint"}}
