"""`citysec es setup` against noida-db: templates, mappings, the state index, feature detection."""

from __future__ import annotations

from elasticsearch import Elasticsearch
from es_helpers import as_json, citysec


def test_setup_creates_templates_and_state_index(city, es_server):
    config, _store = city
    proc = citysec(config, "es", "setup", "--json")
    result = as_json(proc)
    es = Elasticsearch(es_server.url)

    tmpl = es.indices.get_index_template(name="logs-citysec")["index_templates"][0]["index_template"]
    assert tmpl["index_patterns"] == ["logs-citysec.*-*"]
    assert "data_stream" in tmpl and tmpl["priority"] > 100  # above the built-in logs-*-*
    assert tmpl["composed_of"] == ["citysec-ecs@mappings", "citysec@settings"]

    mapping = es.indices.get_mapping(index="citysec-state")["citysec-state"]["mappings"]
    assert mapping["dynamic"] in (False, "false")
    props = mapping["properties"]
    assert props["citysec"]["dynamic"] == "strict"
    assert props["host"]["properties"]["ip"]["type"] == "ip"
    assert props["server"]["properties"]["port"]["type"] == "long"
    assert props["citysec"]["properties"]["antivirus"]["type"] == "flattened"
    assert props["citysec"]["properties"]["first_seen"]["type"] == "date"

    # noida-db has neither ILM nor the data-stream API: detected, warned, not failed
    assert result["ilm"] is False and result["data_streams"] is False
    assert any("ILM" in w for w in result["warnings"])
    assert "warning: the server has no ILM" in proc.stderr
    assert result["namespace"] == "test" and result["retention_days"] == 400


def test_setup_is_idempotent_and_keeps_learned_areas(city, es_server):
    config, _store = city
    as_json(citysec(config, "es", "setup", "--json"))
    es = Elasticsearch(es_server.url)
    es.cluster.put_component_template(  # an area the shipper added earlier
        name="citysec-ecs@mappings",
        template={"mappings": {"dynamic": False, "properties": {"citysec": {
            "type": "object", "dynamic": "strict", "properties": {"sigma": {"type": "flattened"}}}}}})
    again = as_json(citysec(config, "es", "setup", "--json"))
    assert again["state_index"] == "exists"
    assert "sigma" in again["areas"] and "exposure" in again["areas"]


def test_setup_with_server_down_exits_3(tmp_path):
    from es_helpers import write_config

    from tests.es_server import free_port
    config = write_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    proc = citysec(config, "es", "setup", "--retry-for", "0.5")
    assert proc.returncode == 3
    assert "unreachable" in proc.stderr
