"""JSON encoding that never fails on what JSON can express.

orjson is fast but refuses integers past 64 bits (``TypeError: Integer exceeds 64-bit
range``). A value like that must not turn every later read of a record into a 500, nor
leave a write half-done; such values fall back to the standard library, which writes any
integer. The fast path costs nothing extra.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON bytes (orjson, or ``json`` for what orjson refuses)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")
