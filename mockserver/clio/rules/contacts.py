"""Contacts and users: names, initials, the primary email address and phone number."""

from __future__ import annotations

from typing import Any

from mockserver.clio.rules import Change, Firm, Rule, derived
from mockserver.engine.errors import unprocessable
from mockserver.engine.store import Record

PERSON_NAME_REQUIRED = "At least one of first name or last name must be provided"


def full_name(record: Record, middle: bool = True) -> str:
    parts = (record.get("first_name"), record.get("middle_name") if middle else None, record.get("last_name"))
    return " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())


def _is_person(record: Record) -> bool:
    return record.get("type", "Person") == "Person"


def _person_names(change: Change) -> None:
    """A Person's ``name`` follows first/middle/last; a Person given only ``name`` is split."""
    record, data = change.record, change.data
    if not _is_person(record):
        return
    names_given = any(k in data for k in ("first_name", "middle_name", "last_name"))
    if not names_given and isinstance(data.get("name"), str) and data["name"].strip():
        first, _, last = data["name"].strip().partition(" ")
        record["first_name"], record["last_name"] = first, last.strip() or None
        record["middle_name"] = None
    if not (record.get("first_name") or record.get("last_name")):
        raise unprocessable(PERSON_NAME_REQUIRED)
    record["name"] = full_name(record)


def _person_names_hold(firm: Firm, record: Record) -> bool:
    return not _is_person(record) or (bool(record.get("first_name") or record.get("last_name")) and record.get("name") == full_name(record))


def _company_names(change: Change) -> None:
    record = change.record
    if _is_person(record):
        return
    if not (isinstance(record.get("name"), str) and record["name"].strip()):
        raise unprocessable("Name can't be blank")
    for name in ("first_name", "middle_name", "last_name", "prefix"):
        record[name] = None


def _company_names_hold(firm: Firm, record: Record) -> bool:
    return _is_person(record) or (bool(record.get("name")) and not any(record.get(k) for k in ("first_name", "middle_name", "last_name")))


def initials_of(record: Record) -> str | None:
    """Initials of a person's first/middle/last names, or of a company's first words."""
    if record.get("type", "Person") == "Person" and (record.get("first_name") or record.get("last_name")):
        words = [record.get("first_name"), record.get("middle_name"), record.get("last_name")]
    else:
        words = str(record.get("name") or "").split()[:3]
    letters = "".join(w.strip()[0] for w in words if isinstance(w, str) and w.strip())
    return letters.upper() or None


def _primary(entries_key: str, value_key: str, primary_field: str, secondary_field: str | None, flag: str):
    """``primary_email_address`` is the address of the entry marked primary; exactly one
    entry is primary when there are any (a write marking a new one, with the request's
    ``default_email``/``default_number`` or ``primary``, moves the mark)."""

    def apply(change: Change) -> None:
        entries = change.record.get(entries_key)
        if isinstance(entries, list) and entries:
            sent = [e for e in change.data.get(entries_key) or [] if isinstance(e, dict) and (e.get(flag) or e.get("primary"))]
            chosen = None
            if sent:  # the entry this write marked primary wins: the last one sent
                wanted = sent[-1]
                chosen = next((e for e in entries if wanted.get("id") is not None and e.get("id") == wanted["id"]), None)
                if chosen is None:
                    value = wanted.get(value_key)
                    chosen = next((e for e in reversed(entries) if e.get(value_key) == value), None)
            if chosen is None:
                chosen = next((e for e in entries if e.get("primary")), entries[0])
            for entry in entries:
                entry["primary"] = entry is chosen
        change.record.update(compute(change.firm, change.record))

    def compute(firm: Firm, record: Record) -> dict[str, Any]:
        entries = record.get(entries_key) or []
        primary = next((e for e in entries if e.get("primary")), None)
        out = {primary_field: primary.get(value_key) if primary else None}
        if secondary_field:
            other = next((e for e in entries if not e.get("primary")), None)
            out[secondary_field] = other.get(value_key) if other else None
        return out

    def holds(firm: Firm, record: Record) -> bool:
        entries = record.get(entries_key) or []
        if entries and sum(1 for e in entries if e.get("primary")) != 1:
            return False
        return all(record.get(k) == v for k, v in compute(firm, record).items())

    return apply, holds, (primary_field,) + ((secondary_field,) if secondary_field else ())


_email_apply, _email_holds, _email_owns = _primary("email_addresses", "address", "primary_email_address", "secondary_email_address", "default_email")
_phone_apply, _phone_holds, _phone_owns = _primary("phone_numbers", "number", "primary_phone_number", "secondary_phone_number", "default_number")

NAME_SOURCE = ("Contact_base.name 'The full name of the Contact'; first_name 'First name of the Person'; "
               "BEHAVIOR.md 4.4 (contacts created with only name are split into first/last names; "
               "422 'At least one of first name or last name must be provided')")

RULES = [
    Rule("Contact", "person-name", "derive", NAME_SOURCE, _person_names, _person_names_hold,
         relaxes=("name",)),
    Rule("Contact", "company-name", "derive",
         "Contact_base.first_name/last_name describe 'the Person'; a Company's name is the spec's required `name`. "
         "UNCONFIRMED message 'Name can't be blank' (Rails' wording)", _company_names, _company_names_hold),
    derived("Contact", "initials", ("initials",), lambda f, r: {"initials": initials_of(r)},
            "Contact_base.initials 'The initials of the Contact'. UNCONFIRMED: first letters of first/middle/last "
            "names (a company: of its first three words), as Clio's avatars show them"),
    Rule("Contact", "primary-email", "derive",
         "Contact_base.primary_email_address 'The primary email address associated with this Contact'; "
         "EmailAddress_base.primary 'Whether it is the default for this contact' (one default); the request's "
         "default_email 'Whether or not the Contact should be the default email'. "
         "UNCONFIRMED: secondary_email_address is the first other entry",
         _email_apply, _email_holds, _email_owns),
    Rule("Contact", "primary-phone", "derive",
         "Contact_base.primary_phone_number 'The primary phone number associated with this Contact'; "
         "PhoneNumber_base.primary (one default); the request's default_number. UNCONFIRMED: secondary_phone_number is the first other entry",
         _phone_apply, _phone_holds, _phone_owns),
    derived("User", "user-name", ("name",), lambda f, r: {"name": full_name(r, middle=False) or r.get("name")},
            "User_base.name 'The full name of the User' from first_name/last_name"),
    derived("User", "user-initials", ("initials",), lambda f, r: {"initials": initials_of({**r, "type": "Person"})},
            "User_base.initials 'The initials of the User'. UNCONFIRMED: first letters of first and last name"),
]
