"""The HTML templates shared by the dashboard (:mod:`.dashboard`) and the contract kit's HTML
report (:mod:`mockserver.contract.report`): one Jinja2 environment over ``templates/``, with
autoescaping always on and a few filters for what both pages show (JSON, times, hints).

Everything shown is bounded: :func:`pretty_json` cuts long documents with a marker, so one
huge body never makes a huge page.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import orjson

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"
MAX_TEXT = 20_000  # characters of one body or document shown; the rest is cut with a marker


def truncate(text: str, limit: int = MAX_TEXT) -> str:
    """``text``, cut at ``limit`` characters with a marker saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n… ({len(text) - limit:,} more characters not shown)"


def pretty_json(value: Any, limit: int = MAX_TEXT) -> str:
    """A JSON value indented for a ``<pre>`` (strings that are not JSON stay as they are)."""
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            return truncate(value, limit)
        if isinstance(value, str):
            return truncate(value, limit)
    try:
        text = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS, default=str).decode()
    except TypeError:
        text = repr(value)
    return truncate(text, limit)


def hint(secret: Any, keep: int = 4) -> str:
    """The first characters of a secret and an ellipsis: enough to tell two apart, never the whole."""
    text = "" if secret is None else str(secret)
    if not text:
        return ""
    return (text[:keep] if len(text) > keep * 2 else text[:1]) + "…"


def timestamp(value: Any, tz: tzinfo | None = None) -> str:
    """A Unix time (the mock's clock) as date and time to the millisecond, in ``tz`` (the mock's
    clock's zone) or UTC; other values as they are."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        at = datetime.fromtimestamp(value, tz or timezone.utc)
        return at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + ("Z" if tz is None else "")
    return "" if value is None else str(value)


def status_class(status: Any) -> str:
    """A CSS class for an HTTP status: s2 (2xx/3xx), s4, s5, s0 (no answer)."""
    try:
        code = int(status)
    except (TypeError, ValueError):
        return "s0"
    return "s0" if code <= 0 else "s2" if code < 400 else "s4" if code < 500 else "s5"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja2 environment, autoescaping every template (so a record's name or a response
    body is text, never markup)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pretty_json=pretty_json, hint=hint, timestamp=timestamp, status_class=status_class, truncate_text=truncate)
    return env


def inline_css() -> str:
    """The stylesheet's text, for pages that must stand alone (the contract report file)."""
    return (STATIC / "app.css").read_text(encoding="utf-8")
