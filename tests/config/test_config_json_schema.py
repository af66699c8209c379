"""The published JSON Schema (config/citysec.schema.json) is the one the models generate."""

from __future__ import annotations

import json
import os
import subprocess
import sys

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
PUBLISHED = os.path.join(ROOT, "config", "citysec.schema.json")


def test_published_schema_is_up_to_date(tmp_path):
    out = tmp_path / "schema.json"
    citysec = os.path.join(os.path.dirname(sys.executable), "citysec")
    subprocess.run([citysec, "config", "schema", "--out", str(out)], check=True, timeout=60)
    with open(PUBLISHED, encoding="utf-8") as fh:
        published = fh.read()
    assert out.read_text(encoding="utf-8") == published, \
        "config/citysec.schema.json is stale: run `citysec config schema --out config/citysec.schema.json`"


def test_schema_rejects_unknown_keys_and_allows_include():
    with open(PUBLISHED, encoding="utf-8") as fh:
        schema = json.load(fh)
    assert schema["additionalProperties"] is False
    assert "include" in schema["properties"] and {"name", "sensors", "agencies"} <= set(schema["required"])
    assert all(d.get("additionalProperties") is False for d in schema["$defs"].values() if d.get("type") == "object")


def test_every_key_is_documented():
    """docs/configuration.md names every key of the schema."""
    with open(PUBLISHED, encoding="utf-8") as fh:
        schema = json.load(fh)
    with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as fh:
        doc = fh.read()
    keys = set(schema["properties"]) | {k for d in schema["$defs"].values() for k in d.get("properties", {})}
    missing = sorted(k for k in keys if f"`{k}`" not in doc)
    assert missing == []


def test_the_documented_example_is_valid(tmp_path):
    from config.loader import load_config
    with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as fh:
        doc = fh.read()
    block = doc.split("## A complete small example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "city.yaml"
    path.write_text(block, encoding="utf-8")
    city = load_config(str(path), check_files=False).city
    assert city.systems[0].level == 3 and city.policies.scan_windows[0].start.hour == 19
