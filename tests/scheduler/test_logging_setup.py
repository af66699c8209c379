"""The daemon's log: one ECS JSON object per line."""

from __future__ import annotations

import json
import logging

import pytest

from citysec.logging_setup import setup_logging


@pytest.fixture(autouse=True)
def restore_logger():
    root = logging.getLogger("citysec")
    saved = (list(root.handlers), root.level, root.propagate)
    yield
    for h in list(root.handlers):
        if h not in saved[0]:
            root.removeHandler(h)
            h.close()
    root.setLevel(saved[1])
    root.propagate = saved[2]


def test_json_lines_with_ecs_fields_extra_and_errors(tmp_path):
    path = tmp_path / "log" / "citysec.log"
    handler = setup_logging(level="info", log_file=str(path), sensor="city-soc")
    log = logging.getLogger("citysec.scheduler")
    log.debug("not at info level")
    log.info("job %s ended: %s", "ship", "ok", extra={"citysec": {"job": "ship", "outcome": "ok"}})
    try:
        raise ValueError("bad thing")
    except ValueError:
        log.exception("job failed")
    handler.flush()
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2
    first, second = lines
    assert first["message"] == "job ship ended: ok" and first["log.level"] == "info"
    assert first["ecs.version"] and first["@timestamp"].endswith("Z")
    assert first["observer"] == {"name": "city-soc"} and first["citysec"] == {"job": "ship", "outcome": "ok"}
    assert first["log"]["logger"] == "citysec.scheduler" and first["service"]["name"] == "citysec"
    assert second["error"]["type"] == "ValueError" and "bad thing" in second["error"]["stack_trace"]


def test_unknown_level_is_refused():
    with pytest.raises(ValueError, match="log level 'loud'"):
        setup_logging(level="loud")
