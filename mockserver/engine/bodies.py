"""Request bodies: JSON, form-urlencoded and multipart, all read as ``{"data": {...}}``.

Clio's spec offers every write body in the three encodings with one nested schema. Form
keys follow Rails' bracket convention (``data[client][id]=5``,
``data[custom_field_values][][value]=x``); their string values are coerced to the types
the request schema gives, so the same validator checks all three.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import orjson

from mockserver.engine.errors import bad_request

_KEY = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 32  # Clio's deepest request schema nests about 5 levels; 255+ overflowed the recursion


async def read_limited(chunks: AsyncIterator[bytes], limit: int) -> bytes | None:
    """A streamed body whole, or None as soon as it passes ``limit`` bytes (the rest is not read,
    so an oversized body never sits in memory)."""
    kept, size = [], 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        kept.append(chunk)
    return b"".join(kept)


async def read_body(content_type: str, raw: bytes, form_reader) -> Any:
    """Decode a write body by its content type. ``form_reader`` parses multipart lazily."""
    ctype = content_type.split(";", 1)[0].strip().lower()
    if not raw.strip() and ctype != "multipart/form-data":
        return None
    if ctype in ("", "application/json", "text/json") or ctype.endswith("+json"):
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise bad_request(f"The request body is not valid JSON: {exc}", "InvalidJSON") from None
        check_depth(body)
        return body
    if ctype == "application/x-www-form-urlencoded":
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            raise bad_request("The form body is not UTF-8", "InvalidParameter") from None
        return nest_pairs(pairs)
    if ctype == "multipart/form-data":
        pairs = await form_reader()
        return nest_pairs(pairs)
    raise bad_request(f"Unsupported content type {ctype}", "UnsupportedMediaType")


def nest_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Rails-style ``a[b][c]=v`` pairs into nested dicts and lists."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        head = key.split("[", 1)[0]
        parts = [head, *_KEY.findall(key[len(head):])]
        if len(parts) > MAX_DEPTH:
            raise _too_deep()
        if not head:
            continue  # a key like "[x]" names nothing; ignore rather than guess
        _assign(out, parts, value)
    return out


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """400 when ``value`` nests deeper than ``limit`` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise _too_deep()
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _too_deep():
    return bad_request(f"The request body nests deeper than {MAX_DEPTH} levels", "InvalidParameter")


def _assign(container: dict[str, Any], parts: list[str], value: Any) -> None:
    node: Any = container
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt_is_list = not last and parts[i + 1] == ""
        if isinstance(node, list):
            # "[]" segment: append a new element, or fill the last one while its keys are new.
            if last:
                node.append(value)
                return
            if not node or not isinstance(node[-1], dict) or (parts[i + 1] in node[-1] and i + 2 == len(parts)):
                node.append({})
            node = node[-1]
            continue
        if part == "":
            return  # "[]" where no list can be: ignore
        if last:
            node[part] = value
            return
        child = node.get(part)
        if child is None or not isinstance(child, (dict, list)):
            child = [] if nxt_is_list else {}
            node[part] = child
        node = child


def coerce(value: Any, schema: dict[str, Any]) -> Any:
    """Turn form strings into the schema's types (numbers, booleans, nested objects)."""
    kind = schema.get("type")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        if kind == "array" or (not props and schema.get("items")):
            return [coerce(v, schema.get("items", {})) for _, v in sorted(value.items())]
        return {k: coerce(v, props.get(k, {})) for k, v in value.items()}
    if isinstance(value, list):
        return [coerce(v, schema.get("items", {})) for v in value]
    if not isinstance(value, str):
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
    except ValueError:
        return value  # left as a string so the validator names the field
    if kind == "boolean" and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value
