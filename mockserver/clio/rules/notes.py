"""Notes and communications: authors from the token's user, dates from the clock, the
note's type and its subject, custom field values from their custom field."""

from __future__ import annotations

from typing import Any

from mockserver.clio.rules import Change, Firm, Rule, derived, owner, today
from mockserver.engine.store import Record


def _note_subject(change: Change) -> None:
    """A Matter note belongs to a matter, a Contact note to a contact (never both)."""
    record = change.record
    if record.get("type") is None:
        record["type"] = "Matter" if record.get("matter") is not None else "Contact" if record.get("contact") is not None else None
    other = {"Matter": "contact", "Contact": "matter"}.get(record.get("type") or "")
    if other and record.get(other) is not None:
        record[other] = None


def _note_subject_holds(firm: Firm, record: Record) -> bool:
    kind = record.get("type")
    own = {"Matter": "matter", "Contact": "contact"}.get(kind or "")
    other = {"Matter": "contact", "Contact": "matter"}.get(kind or "")
    return own is None or (record.get(own) is not None and record.get(other) is None)


def _communication_date(change: Change) -> None:
    record = change.record
    if record.get("date") is None:
        received = record.get("received_at")
        record["date"] = received[:10] if isinstance(received, str) else change.today


def _senders(change: Change) -> None:
    """A communication the token's user records is sent by that user."""
    record = change.record
    if record.get("senders") or change.given("senders") or change.actor is None:
        return
    user = change.firm.get("User", change.actor)
    if user is not None:
        record["senders"] = [{"id": user["id"], "type": "User", "name": user.get("name"), "identifier": user.get("name"),
                              "initials": user.get("initials"), "enabled": user.get("enabled")}]


def custom_field_values(firm: Firm, record: Record) -> dict[str, Any]:
    """Each custom field value names its custom field's name, type and display settings."""
    values = record.get("custom_field_values")
    if not isinstance(values, list):
        return {}
    out = []
    for value in values:
        field = firm.get("CustomField", value.get("custom_field")) if isinstance(value, dict) else None
        if field is None:
            out.append(value)
            continue
        out.append({**value, "field_name": field.get("name"), "field_type": field.get("field_type"),
                    "field_required": field.get("required"), "field_displayed": field.get("displayed"),
                    "field_display_order": field.get("display_order")})
    return {"custom_field_values": out}


CFV_SOURCE = ("CustomFieldValue_base.field_name/field_type/field_required/field_displayed/field_display_order: the "
              "custom field's name, field_type, required, displayed and display_order (CustomField_base)")

RULES = [
    owner("Note", "author", "Note.author (User_base). UNCONFIRMED: the user who writes a note is its author"),
    today("Note", "date", "Note_base.date 'The date the Note is for'. UNCONFIRMED: today when left out"),
    Rule("Note", "note-subject", "derive", "Note_base.type enum Matter|Contact; Note.matter / Note.contact",
         _note_subject, _note_subject_holds),
    owner("Communication", "user", "Communication.user (User_base). UNCONFIRMED: the user who logs a communication"),
    Rule("Communication", "senders-default-to-actor", "default",
         "Communication.senders (Participant). UNCONFIRMED: the token's user when left out", _senders, on="create"),
    Rule("Communication", "date-from-received-at", "default",
         "Communication_base.date 'The date of the Communication', received_at 'The date-time of the Communication'",
         _communication_date, lambda f, r: r.get("date") is not None, on="create"),
    derived("Matter", "custom-field-values", (), custom_field_values, CFV_SOURCE),
    derived("Contact", "custom-field-values", (), custom_field_values, CFV_SOURCE),
]
