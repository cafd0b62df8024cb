"""Logging: plain or JSON lines, an access log line per request with its request id."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import orjson

ACCESS = logging.getLogger("clio_mock.access")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape(text: str) -> str:
    """``text`` with control characters (CR, LF, ESC...) as ``\\xNN``: a request path with an
    encoded newline must not forge a second log line or drive the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}", text)


# uvicorn adds "color_message" (the message with ANSI colour codes) to its records: never in JSON.
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "color_message"}


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


def announce(message: str, json_logs: bool, logger: str = "clio_mock.cli", **extra: Any) -> None:
    """A start-up line for the operator (spec, records, "listening on"), whatever the log level:
    plain text on stderr, or with ``json_logs`` one JSON line like every other, so a log
    collector never sees a plain first line."""
    if not json_logs:
        print(message, file=sys.stderr, flush=True)
        return
    record = logging.LogRecord(logger, logging.INFO, __file__, 0, message.removeprefix("clio-mock: "), None, None)
    record.__dict__.update(extra)
    sys.stderr.write(JsonFormatter().format(record) + "\n")
    sys.stderr.flush()


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
