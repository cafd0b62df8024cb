"""Calendar entries: an end after the start, dates from the times, Clio's 1900 floor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.clio.rules import Change, Firm, Rule, derived
from mockserver.engine.errors import unprocessable
from mockserver.engine.store import Record

MAX_EXTERNAL_PROPERTIES = 5


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _floor_1900(change: Change) -> None:
    """Dates before 1900-01-01 have their year moved up to 1900 on save."""
    for name in ("start_at", "end_at"):
        when = _parse(change.record.get(name))
        if when is not None and when.year < 1900:
            change.record[name] = when.replace(year=1900).isoformat(timespec="seconds")


def _in_order(change: Change) -> None:
    start, end = _parse(change.record.get("start_at")), _parse(change.record.get("end_at"))
    if start is not None and end is not None and end < start:
        raise unprocessable("end_at: a calendar entry cannot end before it starts")


def _in_order_holds(firm: Firm, record: Record) -> bool:
    start, end = _parse(record.get("start_at")), _parse(record.get("end_at"))
    return start is None or end is None or start <= end


def _dates(firm: Firm, record: Record) -> dict[str, Any]:
    start, end = _parse(record.get("start_at")), _parse(record.get("end_at"))
    return {"start_date": start.date().isoformat() if start else record.get("start_date"),
            "end_date": end.date().isoformat() if end else record.get("end_date")}


def _external_properties(model: str) -> Rule:
    def apply(change: Change) -> None:
        if len(change.record.get("external_properties") or []) > MAX_EXTERNAL_PROPERTIES:
            raise unprocessable(f"external_properties: at most {MAX_EXTERNAL_PROPERTIES} external properties per record")

    return Rule(model, "external-properties-cap", "validate", "BEHAVIOR.md 12.5 (at most 5 external_properties)", apply,
                lambda f, r: len(r.get("external_properties") or []) <= MAX_EXTERNAL_PROPERTIES)


RULES = [
    Rule("CalendarEntry", "year-1900", "default", "BEHAVIOR.md 12.5 (dates before 1900-01-01 moved up to 1900 on save)",
         _floor_1900),
    Rule("CalendarEntry", "ends-after-start", "validate",
         "CalendarEntry_base.start_at 'The time the CalendarEntry starts', end_at 'ends'. UNCONFIRMED: 422 when it "
         "ends before it starts", _in_order, _in_order_holds),
    derived("CalendarEntry", "dates-from-times", ("start_date", "end_date"), _dates,
            "CalendarEntry_base.start_date 'The date the CalendarEntry starts (in the current user's timezone)'. "
            "UNCONFIRMED: in the time's own offset"),
    *(_external_properties(m) for m in ("CalendarEntry", "Communication", "Document", "Folder")),
]
