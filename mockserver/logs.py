"""Logging: plain or JSON lines, an access log line per request with its request id."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson

ACCESS = logging.getLogger("clio_mock.access")
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
            "logger": record.name, "message": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(out, default=str).decode()


def _handler(json_logs: bool) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_logs else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    return handler


def configure_logging(level: str, json_logs: bool) -> None:
    """The mock's own loggers (``clio_mock.*``)."""
    root = logging.getLogger("clio_mock")
    root.handlers[:] = [_handler(json_logs)]
    root.setLevel(level.upper())
    root.propagate = False


def uvicorn_log_config(json_logs: bool) -> dict[str, Any]:
    """uvicorn's loggers in the same format (its own access log stays off: ours has the request id)."""
    formatter = {"()": "mockserver.logs.JsonFormatter"} if json_logs else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    return {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}},
        "loggers": {"uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
                    "uvicorn.error": {"level": "INFO"}},
    }


def granian_log_config(json_logs: bool) -> dict[str, Any]:
    """granian's own logger (``_granian``) in the same format and stream as the rest; its
    access log stays off, as uvicorn's does."""
    config = uvicorn_log_config(json_logs)
    config["loggers"] = {"_granian": {"handlers": ["default"], "level": "INFO", "propagate": False}}
    return config
