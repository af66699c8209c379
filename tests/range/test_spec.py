"""Range descriptions: bad input is refused with file, YAML path and line."""

from __future__ import annotations

import pytest

from exercises.range import load_spec
from findings.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "r.yaml"
    path.write_text(text)
    return str(path)


def test_address_outside_the_range_block_names_file_path_and_line(tmp_path):
    path = write(tmp_path, "name: rx\nsensors: [{name: soc, ip: 198.19.9.10}]\nagencies:\n  - id: a\n"
                           "    networks: [198.19.9.0/24]\n    hosts:\n      - {name: h1, ip: 10.0.0.5}\n")
    with pytest.raises(ConfigError) as exc:
        load_spec(path)
    assert f"{path}: line 7: agencies[0].hosts[0].ip: 10.0.0.5 is outside 198.18.0.0/15" in str(exc.value)


def test_unknown_key_and_unknown_service(tmp_path):
    path = write(tmp_path, "name: rx\nsensors: [{name: soc, ip: 198.19.9.10}]\nagencies:\n  - id: a\n"
                           "    networks: [198.19.9.0/24]\n    hosts:\n      - {name: h1, ip: 198.19.9.5, colour: red,"
                           " services: [gopher]}\n")
    with pytest.raises(ConfigError) as exc:
        load_spec(path)
    text = str(exc.value)
    assert "agencies[0].hosts[0].colour: unknown key" in text and "unknown service 'gopher'" in text


def test_duplicate_address_and_host_outside_its_networks():
    spec = {"name": "rx", "sensors": [{"name": "soc", "ip": "198.19.9.10"}],
            "agencies": [{"id": "a", "networks": ["198.19.9.0/24"],
                          "hosts": [{"name": "h1", "ip": "198.19.9.5"}, {"name": "h2", "ip": "198.19.9.5"},
                                    {"name": "h3", "ip": "198.19.10.5"}]}]}
    with pytest.raises(ConfigError) as exc:
        load_spec(spec)
    assert "198.19.9.5 is used twice" in str(exc.value) and "198.19.10.5 is in none of agency a's networks" in str(exc.value)


def test_the_demo_range_matches_the_example_city():
    from config.loader import load_config
    spec = load_spec("exercises/range/examples/haiphong.yaml")
    city = load_config("config/examples/haiphong.yaml").city
    registered = {(h.name, str(h.ip)) for a in city.agencies for h in a.hosts}
    ranged = {(h.name, h.ip) for h in spec.hosts if h.registered}
    assert registered == ranged
    assert [h.name for h in spec.hosts if not h.registered] == ["nq-rogue"]
    assert spec.name == "hp" and spec.sensors[0].ip == "198.18.1.10"
