"""The daemon's own log: one JSON object per line, ECS logging fields, on stderr or in a file.

Fields: ``@timestamp``, ``log.level``, ``message``, ``ecs.version`` (the ECS logging minimum),
``log.logger``, ``process.pid``, ``process.thread.name``, ``service.name`` (citysec),
``observer.name`` (the sensor), ``error.*`` for exceptions, and what a call passes as
``extra={"citysec": {...}}`` (job, run id, outcome) under ``citysec.*``. Messages never carry
configuration values that could be secrets: callers log names and ids, not credentials.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import datetime, timezone
from typing import Any

ECS_VERSION = "9.4.0"
LEVELS = ("debug", "info", "warning", "error")


class EcsJsonFormatter(logging.Formatter):
    def __init__(self, sensor: str | None = None):
        super().__init__()
        self.sensor = sensor

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, timezone.utc)
        doc: dict[str, Any] = {
            "@timestamp": ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "log.level": record.levelname.lower(),
            "message": record.getMessage(),
            "ecs.version": ECS_VERSION,
            "log": {"logger": record.name, "origin": {"function": record.funcName,
                                                      "file": {"line": record.lineno}}},
            "process": {"pid": record.process, "thread": {"name": record.threadName}},
            "service": {"name": "citysec", "type": "scheduler"},
        }
        if self.sensor:
            doc["observer"] = {"name": self.sensor}
        extra = getattr(record, "citysec", None)
        if isinstance(extra, dict) and extra:
            doc["citysec"] = extra
        if record.exc_info and record.exc_info[0] is not None:
            etype, evalue, tb = record.exc_info
            doc["error"] = {"type": etype.__name__, "message": str(evalue),
                            "stack_trace": "".join(traceback.format_exception(etype, evalue, tb))}
        return json.dumps(doc, ensure_ascii=False, default=str)


def setup_logging(*, level: str = "info", log_file: str | None = None, sensor: str | None = None) -> logging.Handler:
    """Send the ``citysec`` loggers to stderr (default) or ``log_file`` (appended) as ECS JSON."""
    if level not in LEVELS:
        raise ValueError(f"log level {level!r}: use one of {', '.join(LEVELS)}")
    if log_file:
        parent = os.path.dirname(os.path.abspath(log_file))
        os.makedirs(parent, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(log_file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EcsJsonFormatter(sensor))
    root = logging.getLogger("citysec")
    for old in list(root.handlers):
        if isinstance(old.formatter, EcsJsonFormatter):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level.upper())
    root.propagate = False
    return handler
