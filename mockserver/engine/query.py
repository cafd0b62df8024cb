"""List semantics: filters, ``order`` and cursor paging, read from the operation's parameters.

Which filters exist is the spec's business (each index operation declares its own); what
they mean follows Clio's conventions (BEHAVIOR.md sections 4.3 and 6):
``ids[]``, ``created_since``/``updated_since``, ``query``, ``<assoc>_id`` (with the keyword
``null``), equality on a scalar field of the same name, and operator-prefixed date filters.
Unknown parameters are ignored.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import islice
from typing import Any

from mockserver.engine.errors import ClioError, bad_request
from mockserver.engine.store import Record
from mockserver.spec.index import Model, Operation

Predicate = Callable[[Record], bool]
OFFSET_CEILING = 10_000
_ORDER = re.compile(r"^([\w.]+)\((asc|desc)\)$")
_DATE_OP = re.compile(r"^(>=|<=|=|>|<)?(\d{4}-\d{2}-\d{2})$")


@dataclass
class Page:
    records: list[Record]
    next_token: str | None
    previous_token: str | None
    next_offset: int | None = None
    previous_offset: int | None = None


def parse_timestamp(value: str, name: str) -> float:
    """An ISO-8601 timestamp as epoch seconds (naive ones are UTC); 400 if malformed."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO-8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)
    return parsed.timestamp()


def integer_param(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer", "InvalidParameter") from None


def build_filters(op: Operation, model: Model, query: dict[str, list[str]]) -> list[Predicate]:
    """Predicates for the filters the operation declares and the request uses."""
    preds: list[Predicate] = []
    for name, values in query.items():
        # Clients write array filters with or without brackets (ids[]=1 / ids=1; close_date=...).
        param = op.params.get(name) or op.params.get(f"{name}[]")
        if param is None or param.location != "query" or name in ("fields", "limit", "page_token", "order", "offset"):
            continue
        name = param.name
        pred = _filter(model, name, param.schema, values)
        if pred is not None:
            preds.append(pred)
    return preds


def _filter(model: Model, name: str, schema: dict, values: list[str]) -> Predicate | None:
    base = name[:-2] if name.endswith("[]") else name
    if base in ("ids", "exclude_ids"):
        wanted = {integer_param(name, v) for raw in values for v in raw.split(",") if v.strip()}
        return (lambda r: r["id"] in wanted) if base == "ids" else (lambda r: r["id"] not in wanted)
    if base in ("created_since", "updated_since"):
        since = parse_timestamp(values[-1], name)
        key = "_created" if base == "created_since" else "_updated"
        return lambda r: r.get(key, 0) > since
    if base == "query":
        return _text_query(model, values[-1])
    if base.endswith("_id") and schema.get("type") == "integer":
        return _id_filter(model, name, base, values[-1])
    if base in model.fields:
        return _field_filter(model, base, model.fields[base], schema, values)
    return None


def _id_filter(model: Model, name: str, base: str, raw: str) -> Predicate | None:
    """``matter_id=5`` matches the ``matter`` association or a ``matter_id`` scalar."""
    target = None if raw == "null" else integer_param(name, raw)
    assoc = base[:-3]
    if assoc in model.associations and not model.associations[assoc].many:
        return lambda r: r.get(assoc) == target
    if base in model.fields:
        return lambda r: r.get(base) == target
    return None


def _text_query(model: Model, text: str) -> Predicate:
    needle = text.lower()
    keys = [k for k, s in model.fields.items() if s.get("type") == "string" and k != "etag" and "format" not in s]
    return lambda r: any(needle in str(r.get(k) or "").lower() for k in keys)


def _field_filter(model: Model, field: str, field_schema: dict, schema: dict, values: list[str]) -> Predicate | None:
    kind = field_schema.get("type")
    if field_schema.get("format") == "date":
        return _date_filter(field, values)
    if kind == "boolean":
        wanted_bool = values[-1].lower() in ("true", "1", "yes")
        return lambda r: bool(r.get(field)) == wanted_bool
    if kind == "integer":
        try:
            wanted_int = int(values[-1])
        except ValueError:
            raise bad_request(f"{field} must be an integer", "InvalidParameter") from None
        return lambda r: r.get(field) == wanted_int
    if kind == "string":
        # Enum casing differs between filters and records (status=open vs "Open"), and
        # Clio accepts a comma-separated list for status-like filters.
        wanted = {v.strip().lower() for raw in values for v in raw.split(",") if v.strip()}
        return lambda r: str(r.get(field, "")).lower() in wanted
    return None


def _date_filter(field: str, values: list[str]) -> Predicate:
    conditions = []
    for raw in values:
        m = _DATE_OP.match(raw.strip())
        if not m:
            raise bad_request(f"{field} must look like >=YYYY-MM-DD", "InvalidParameter")
        try:
            day = date.fromisoformat(m.group(2)).isoformat()
        except ValueError:
            raise bad_request(f"{field} has an invalid date", "InvalidParameter") from None
        conditions.append((m.group(1) or "=", day))
    compare = {
        "=": lambda a, b: a == b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
        ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
    }

    def pred(r: Record) -> bool:
        value = r.get(field)
        return value is not None and all(compare[o](value[:10], d) for o, d in conditions)

    return pred


# --------------------------------------------------------------------------- order & paging


def parse_order(op: Operation, raw: str | None) -> tuple[str, bool]:
    """(field, descending) from ``order=field(asc|desc)``; 400 outside the declared enum."""
    param = op.params.get("order")
    if raw is None:
        raw = op.default_order()
    m = _ORDER.match(raw)
    if not m:
        raise bad_request(f"order must look like field(asc) or field(desc), got {raw!r}", "InvalidParameter")
    allowed = param.schema.get("enum") if param else None
    if allowed and raw not in allowed and raw != "id(asc)":  # id(asc) is always the cursor order
        raise bad_request(f"order must be one of {', '.join(allowed)}", "InvalidParameter")
    return m.group(1), m.group(2) == "desc"


def parse_limit(op: Operation, raw: str | None) -> int:
    low, high = op.limit_range()
    if raw is None:
        return high
    value = integer_param("limit", raw)
    if not low <= value <= high:
        raise bad_request(f"limit must be between {low} and {high}", "InvalidParameter")
    return value


def encode_token(kind: str, value: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, value = raw.split(":", 1)
        if kind not in ("a", "b", "o"):
            raise ValueError(kind)
        return kind, int(value)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("page_token is invalid or expired", "InvalidParameter") from None


def page_by_id(
    scan: Callable[..., Iterator[Record]], preds: list[Predicate], limit: int, descending: bool, token: str | None
) -> Page:
    """Cursor paging in id order: the token names the id to continue after (or before)."""
    kind, at = decode_token(token) if token else ("a", None)
    if kind == "o":
        raise bad_request("page_token is invalid or expired", "InvalidParameter")
    forward = kind == "a"
    if descending:
        source = scan(before=at, reverse=True) if forward else scan(after=at)
    else:
        source = scan(after=at) if forward else scan(before=at, reverse=True)
    matched = list(islice(_matching(source, preds), limit + 1))
    more = len(matched) > limit
    records = matched[:limit]
    if not forward:
        records.reverse()
    if not records:
        return Page([], None, None)
    first, last = records[0]["id"], records[-1]["id"]
    has_next = more if forward else at is not None
    has_prev = (at is not None) if forward else more
    return Page(
        records,
        encode_token("a", last) if has_next else None,
        encode_token("b", first) if has_prev else None,
    )


def page_by_offset(records: Iterable[Record], preds: list[Predicate], order: tuple[str, bool], limit: int, offset: int) -> Page:
    """Offset paging for custom orders and explicit ``offset`` (10,000-record ceiling)."""
    if offset < 0:
        raise bad_request("offset must be zero or more", "InvalidParameter")
    if offset + limit > OFFSET_CEILING:
        raise ClioError(422, "ArgumentError", f"offset paging is limited to {OFFSET_CEILING} records")
    field, descending = order
    matched = list(_matching(records, preds))
    matched.sort(key=lambda r: _sort_key(r, field), reverse=descending)
    chunk = matched[offset : offset + limit]
    has_next = offset + limit < len(matched)
    return Page(
        chunk,
        encode_token("o", offset + limit) if has_next else None,
        encode_token("o", max(0, offset - limit)) if offset > 0 else None,
        offset + limit if has_next else None,
        max(0, offset - limit) if offset > 0 else None,
    )


def _matching(records: Iterable[Record], preds: list[Predicate]) -> Iterator[Record]:
    if not preds:
        return iter(records)
    return (r for r in records if all(p(r) for p in preds))


def _sort_key(record: Record, field: str) -> tuple[int, Any]:
    value: Any = record
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return (1, "")
    return (0, value if isinstance(value, (int, float)) else str(value).lower())
