"""List semantics: filters, ``order`` and cursor paging, read from the operation's parameters.

Which filters exist is the spec's business (each index operation declares its own); what
each one means is read from the spec by :mod:`mockserver.engine.filters` (BEHAVIOR.md 4.3).
Parameters an operation does not declare are ignored.
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
from mockserver.engine.filters import (
    CONTROL,
    Context,
    custom_field_filters,
    meanings,
    predicate,
)
from mockserver.engine.store import Account, Record
from mockserver.spec.index import Model, Operation

Predicate = Callable[[Record], bool]
OFFSET_CEILING = 10_000
_ORDER = re.compile(r"^([\w.]+)\((asc|desc)\)$")


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


def build_filters(
    op: Operation, model: Model, query: dict[str, list[str]], account: Account | None = None, now: Callable[[], datetime] | None = None
) -> list[Predicate]:
    """Predicates for the filters the operation declares and the request uses, each read by
    its meaning (:mod:`mockserver.engine.filters`). No filters in the query: no work (not even
    asking ``now``, the mock's clock, for today's date)."""
    if not query or query.keys() <= CONTROL:
        return []
    table = meanings(op, model)
    today = now().date() if now is not None else date.today()
    context = Context(account, {n: a.target for n, a in model.associations.items() if a.stored}, today) if account is not None else None
    preds: list[Predicate] = []
    custom: dict[str, list[str]] = {}
    for name, values in query.items():
        if name in CONTROL:
            continue
        # Clients write array filters with or without brackets (ids[]=1 / ids=1; close_date=...).
        key = name if name in table else f"{name}[]" if f"{name}[]" in table else None
        if key is None:
            if name.startswith("custom_field_values[") and "custom_field_values" in table:
                custom[name] = values
            continue  # not a parameter of this operation: ignored (BEHAVIOR.md 12.7)
        pred = predicate(table[key], key, values, context)
        if pred is not None:
            preds.append(pred)
    if custom:
        preds += custom_field_filters(custom, context)
    return preds


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
