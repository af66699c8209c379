"""The loader: includes (merge, conflicts, cycles), positions, YAML pitfalls, pydantic locations."""

from __future__ import annotations

import os
import shutil

import pytest
from pydantic import BaseModel, ValidationError

from config.loader import format_pydantic, load_config, yaml_loc
from findings.support.yamlpos import load_with_positions
from findings.errors import ConfigError

FIX = os.path.join(os.path.dirname(__file__), "..", "fixtures", "config")


@pytest.fixture
def cdir(tmp_path):
    shutil.copytree(FIX, tmp_path / "c")
    return tmp_path / "c"


def write(path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_nested_mappings_merge_and_lists_concatenate_with_positions(cdir):
    extra = write(cdir / "extra.yaml", "policies:\n  backups:\n    - {id: weekly, method: files, glob: '/b/*'}\n")
    main = write(cdir / "main.yaml", "include: [common.yaml, extra.yaml]\npolicies:\n  top_ports: 50\n")
    cfg = load_config(main)
    assert [b.id for b in cfg.city.policies.backups] == ["nightly", "weekly"]
    assert cfg.city.policies.top_ports == 50
    assert cfg.where("policies", "backups", 1, "id").startswith(f"{extra}: line 3: ")
    assert cfg.where("policies", "top_ports").startswith(f"{main}: line 3: ")


def test_a_scalar_set_in_two_files_is_an_error(cdir):
    main = write(cdir / "main.yaml", "include: common.yaml\nprofile: nd331\n")
    with pytest.raises(ConfigError) as exc:
        load_config(main)
    (prob,) = exc.value.problems
    assert prob.startswith(f"{cdir / 'common.yaml'}: line 3: profile: also set in {main} line 2")


def test_include_cycle_is_an_error(cdir):
    write(cdir / "a.yaml", "include: b.yaml\nname: x\n")
    write(cdir / "b.yaml", "include: a.yaml\n")
    with pytest.raises(ConfigError, match="include cycle"):
        load_with_positions(str(cdir / "a.yaml"))


def test_missing_include_names_the_including_line(cdir):
    main = write(cdir / "main.yaml", "profile: nd85\ninclude:\n  - keys/../common.yaml\n  - nope.yaml\n")
    with pytest.raises(ConfigError) as exc:
        load_config(main)
    assert exc.value.problems == [f"{main}: line 4: include[1]: nope.yaml: no such file"]


def test_duplicate_yaml_key_is_an_error(cdir):
    main = write(cdir / "main.yaml", "include: common.yaml\nstore: {path: a.db}\nstore: {path: b.db}\n")
    with pytest.raises(ConfigError, match=r"main.yaml: line 3: store: key 'store' appears twice \(first at line 2\)"):
        load_config(main)


def test_invalid_yaml_names_line_and_column(cdir):
    main = write(cdir / "main.yaml", "name: x\nagencies: [\n")
    with pytest.raises(ConfigError, match=r"main.yaml: line 3, column 1: invalid YAML"):
        load_config(main)


def test_yaml_1_1_keys_keep_their_positions(tmp_path):
    path = write(tmp_path / "k.yaml", "credentials:\n  yes: {env: X}\n")
    data, pos = load_with_positions(path)
    assert True in data["credentials"]
    assert pos[("credentials", True)] == (path, 2)


def test_pydantic_union_tags_are_not_yaml_keys():
    class Inner(BaseModel):
        port: int

    class Outer(BaseModel):
        item: Inner | list[int] | None = None

    data = {"item": {"port": "x"}}
    with pytest.raises(ValidationError) as exc:
        Outer.model_validate(data)
    locs = {yaml_loc(data, tuple(e["loc"])) for e in exc.value.errors()}
    assert ("item", "port") in locs and all("Inner" not in loc for loc in locs)
    lines = format_pydantic(exc.value, {("item",): ("f.yaml", 4), ("item", "port"): ("f.yaml", 5)}, "f.yaml", data)
    assert any(line.startswith("f.yaml: line 5: item.port: ") for line in lines)
    assert not any("Inner" in line for line in lines)


def test_errors_of_list_items_point_at_the_item(cdir):
    main = write(cdir / "main.yaml", "include: common.yaml\nsensors:\n  - {id: s2, name: S2, agency: q-a,"
                                     " address: 198.18.202.999}\n")
    with pytest.raises(ConfigError) as exc:
        load_config(main)
    assert exc.value.problems == [f"{main}: line 3: sensors[0].address: invalid IP address '198.18.202.999'"]


def test_relative_paths_resolve_against_the_config_folder(cdir):
    cfg = load_config(str(cdir / "valid.yaml"))
    assert cfg.resolve("keys/operator_key") == str(cdir / "keys" / "operator_key")
    assert cfg.resolve("var/citysec.db") == os.path.abspath("var/citysec.db")
