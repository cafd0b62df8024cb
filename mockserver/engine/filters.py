"""What every query parameter of a list operation means, read from the spec.

Each parameter an index operation declares is given a :class:`Meaning`: one of a few generic,
named filter kinds (:data:`KINDS`) with the field it reads, or a stated reason why it changes
nothing in the mock. The meaning comes from the spec where it says it (the parameter's name
and schema, and its description: "records that end on or after the provided time", "whose
`date` is on or before the date provided", "Wildcard search for name, title, email
address, ..."), with a small table of overrides (:data:`OVERRIDES`) where the prose is not
enough. BEHAVIOR.md 4.3 gives the conventions: ``[]`` arrays, the keyword ``null`` on foreign
keys, ``*_since`` "after" semantics, custom-field operators (400 for an unsupported one).

A value that cannot be read (a bad date, a non-integer id, a boolean that is neither) is a 400
``InvalidParameter``. Meanings are computed once per operation; a request without filters
builds no predicates at all, so the default list path pays nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from mockserver.engine.errors import bad_request
from mockserver.engine.store import Account, Record, created_of, updated_of
from mockserver.spec.index import Model, Operation, Param

Predicate = Callable[[Record], bool]

CONTROL = frozenset({"fields", "limit", "page_token", "order", "offset"})
# The kinds of filter, each generic and tested (tests/test_query_parameters.py).
KINDS = {
    "control": "fields, limit, page_token, order, offset: the shape of the answer, not a filter",
    "ids": "ids[] / exclude_ids[]: the record's id in (or not in) the list",
    "since": "created_since / updated_since: created or updated after the time",
    "range": "a field compared with the value (from/to, start_date/end_date, due_at_from/to, issued_after/before...)",
    "on-date": "a date or date-time field falling on the given date",
    "date-operator": "open_date[]=>=2020-01-01: an operator and a date, several AND-ed",
    "association": "<model>_id: a to-one or to-many association (or its scalar twin) pointing at the id; `null` where allowed",
    "equality": "a field of the same name equal to the value (case-insensitive, comma-separated lists for text)",
    "status-list": "statuses[]: the field in any of the values given",
    "query": "wildcard search over the fields the description names",
    "flag": "a boolean the description defines (overdue_only, client_only, due_at_present...)",
    "derived-state": "a state the record's fields imply (Activity status: billed, unbilled, non_billable...)",
    "association-field": "a field of an associated record (MatterDocket matter_status: the matter's status)",
    "custom-fields": "custom_field_values[<id>]=<op><value>: operators by field type, 400 for an unsupported one",
    "external-property": "external_property_name / _value: an external property with that name (and value)",
    "prefix": "a field starting with the value (initial)",
    "no-op": "accepted and read, with a stated reason why it changes nothing in the mock",
}


@dataclass(frozen=True)
class Meaning:
    """How one query parameter acts on a list (plain data: no callables)."""

    kind: str
    field: str | None = None  # the record key (or dotted path) it reads
    compare: str = "="  # for "range": >=, <=, >, <
    value_type: str = "string"  # date | date-time | integer | boolean | string
    allows_null: bool = False  # the keyword null matches records without the association
    many: bool = False  # a to-many association
    fields: tuple[str, ...] = ()  # for "query": the searched paths
    reason: str = ""


def m(kind: str, field: str | None = None, **kw: Any) -> Meaning:
    return Meaning(kind, field, **kw)


def noop(reason: str) -> Meaning:
    return Meaning("no-op", reason=reason)


# Field names the descriptions use that are not the record's (`due_date` is Bill.due_at).
FIELD_ALIASES = {"due_date": "due_at", "issue_date": "issued_at", "submitted_date": "submitted_at"}

# Where the prose is not enough, by (model, parameter) or (None, parameter) for every model.
_ISO_DATE = "date"
OVERRIDES: dict[tuple[str | None, str], Meaning] = {
    ("Bill", "overdue_only"): m("flag", "overdue"),
    ("Bill", "last_sent_start_date"): m("range", "last_sent_at", compare=">=", value_type=_ISO_DATE),
    ("Bill", "last_sent_end_date"): m("range", "last_sent_at", compare="<=", value_type=_ISO_DATE),
    ("Bill", "query"): m("query", fields=("number", "subject", "memo")),
    ("Bill", "due_at"): m("on-date", "due_at", value_type=_ISO_DATE),
    ("CalendarEntry", "from"): m("range", "end_at", compare=">=", value_type="date-time"),
    ("CalendarEntry", "to"): m("range", "start_at", compare="<=", value_type="date-time"),
    ("CalendarEntry", "query"): m("query", fields=("summary", "description", "location")),
    ("CalendarEntry", "is_all_day"): m("equality", "all_day", value_type="boolean"),
    ("CalendarEntry", "calendar_id"): m("association", "calendars", many=True, value_type="integer"),
    ("CalendarEntry", "has_court_rule"): m("flag", "present:court_rule"),
    ("CalendarEntry", "expanded"): noop("returns one record per occurrence of a recurring entry; the mock stores each entry once and expands no recurrence rules, so the list is the same"),
    ("CalendarEntry", "visible"): noop("calendar visibility is per user and the mock's entries are all visible to the token's user"),
    ("CalendarEntry", "owner_entries_across_all_users"): noop("the mock lists every user's entries of the firm already (no per-user calendar scoping)"),
    ("CalendarEntry", "source"): noop("the calendar visibility source (web, mobile) is not part of a calendar entry record"),
    ("Communication", "date"): m("on-date", "date", value_type=_ISO_DATE),
    ("Communication", "received_at"): m("on-date", "received_at", value_type="date-time"),
    ("Communication", "having_time_entries"): m("flag", "nonempty:time_entries"),
    ("Contact", "query"): m("query", fields=(
        "name", "title", "first_name", "last_name", "email_addresses.address", "addresses.street", "addresses.city",
        "addresses.province", "addresses.postal_code", "addresses.country", "phone_numbers.number", "web_sites.address",
        "instant_messengers.address", "custom_field_values.value", "@matters.description", "company.name",
    )),
    ("Contact", "client_only"): m("flag", "is_client"),
    ("Contact", "clio_connect_only"): m("flag", "is_clio_for_client_user"),
    ("Contact", "email_only"): m("flag", "nonempty:email_addresses"),
    ("Contact", "initial"): m("prefix", "last_name|name"),
    ("Contact", "shared_resource_id"): noop("sharing resources with Clio for Clients contacts is not modelled; no contact has access to a shared resource"),
    ("Contact", "custom_field_ids[]"): noop("narrows the custom_field_values shown with each contact, not the contacts listed"),
    ("Matter", "query"): m("query", fields=("display_number", "number", "description", "client.first_name", "client.last_name", "client.name")),
    ("Matter", "custom_field_ids[]"): noop("narrows the custom_field_values shown with each matter, not the matters listed"),
    ("Matter", "subscriber_user_id"): noop("notification event subscribers of a matter are not part of the matter record"),
    ("Matter", "notification_event_subscriber_user_id"): noop("notification event subscribers of a matter are not part of the matter record"),
    ("Note", "query"): m("query", fields=("subject", "detail")),
    ("Note", "has_time_entries"): m("flag", "nonempty:time_entries"),
    ("Task", "due_at_from"): m("range", "due_at", compare=">=", value_type=_ISO_DATE),
    ("Task", "due_at_to"): m("range", "due_at", compare="<=", value_type=_ISO_DATE),
    ("Task", "due_at_present"): m("flag", "present:due_at"),
    ("Task", "time_entries_present"): m("flag", "nonempty:time_entries"),
    ("Task", "complete"): m("flag", "present:completed_at"),
    ("Task", "statuses[]"): m("status-list", "status"),
    ("Task", "assignee_id"): m("association", "assignee.id", value_type="integer"),
    ("Task", "assignee_type"): m("equality", "assignee.type"),
    ("Task", "cascading_source_id"): noop("task cascading (a task due relative to another) is not part of the Task record the spec describes"),
    ("Activity", "matter_note_id"): m("association", "matter_note", value_type="integer", allows_null=True),
    ("Activity", "contact_note_id"): m("association", "contact_note", value_type="integer", allows_null=True),
    ("Activity", "calendar_entry_id"): m("association", "calendar_entry.id", value_type="integer", allows_null=True),
    ("Activity", "task_id"): m("association", "task.id", value_type="integer", allows_null=True),
    ("Activity", "grant_id"): noop("grants are not linked from the Activity record the spec describes"),
    ("Activity", "only_unaccounted_for"): m("flag", "absent:bill"),
    ("Activity", "start_date"): m("range", "date", compare=">=", value_type=_ISO_DATE),
    ("Activity", "end_date"): m("range", "date", compare="<=", value_type=_ISO_DATE),
    ("Activity", "status"): m("derived-state", "activity-status"),
    ("Reminder", "subject_id"): m("association", "subject.id", value_type="integer"),
    ("Reminder", "subject_type"): m("equality", "subject.type"),
    ("Comment", "item_id"): noop("comments are reached through a document version; the Comment record names no item"),
    ("Allocation", "parent_id"): m("association", "parent.id", value_type="integer"),
    ("Allocation", "parent_type"): noop("the parent's type is given as an integer code the spec does not map to Payment or CreditMemo"),
    ("Report", "created_before"): m("range", "created_at", compare="<", value_type="date-time"),
    ("Report", "output_format"): m("equality", "format"),
    ("Document", "include_deleted"): noop("the mock keeps no trashed documents in the list (DELETE removes them), so there are none to include"),
    ("Document", "show_uncompleted"): noop("the mock's documents are all fully uploaded"),
    ("Document", "scope"): noop("with parent_id: children or descendants of a folder; the mock's folders are one level deep"),
    ("Folder", "include_deleted"): noop("the mock keeps no trashed folders in the list (DELETE removes them)"),
    ("Folder", "scope"): noop("with parent_id: children or descendants of a folder; the mock's folders are one level deep"),
    ("MatterDocket", "matter_status"): m("association-field", "matter.status"),
    ("OutstandingClientBalance", "last_paid_start_date"): m("range", "last_payment_date", compare=">=", value_type=_ISO_DATE),
    ("OutstandingClientBalance", "last_paid_end_date"): m("range", "last_payment_date", compare="<=", value_type=_ISO_DATE),
    ("OutstandingClientBalance", "newest_bill_due_start_date"): m("range", "newest_issued_bill_due_date", compare=">=", value_type=_ISO_DATE),
    ("OutstandingClientBalance", "newest_bill_due_end_date"): m("range", "newest_issued_bill_due_date", compare="<=", value_type=_ISO_DATE),
    ("MedicalRecordsRequest", "treatment_start_date"): m("range", "treatment_start_date", compare=">=", value_type=_ISO_DATE),
    ("MedicalRecordsRequest", "treatment_end_date"): m("range", "treatment_end_date", compare="<=", value_type=_ISO_DATE),
    ("ClioPaymentsLink", "active"): m("equality", "active", value_type="boolean"),
    ("BankAccount", "show_empty_accounts"): m("flag", "nonzero:balance"),
    ("BankTransaction", "unreconciled_only"): noop("reconciliation is not part of the BankTransaction record the spec describes; every transaction counts as unreconciled"),
    ("ActivityDescription", "rate_for[matter_id]"): noop("chooses the matter whose rates fill in each description's rate; it filters nothing"),
    ("ActivityDescription", "rate_for[user_id]"): noop("chooses the user whose rates fill in each description's rate; it filters nothing"),
    ("User", "include_co_counsel"): noop("the mock's firms have no co-counsel users to include"),
    ("User", "pending_setup"): noop("the mock's users are all set up"),
    ("Calendar", "owner"): noop("calendar ownership is per user; the mock lists the firm's calendars as the token's user's"),
    ("Calendar", "writeable"): noop("the token's user may write to every calendar of the mock's firm"),
    ("Calendar", "filter_inactive_users"): noop("the mock's users are all active"),
    ("Conversation", "for_user"): noop("the token's user is a member of every conversation of the mock's firm"),
    ("Conversation", "read_status"): m("equality", "read", value_type="boolean"),
    ("Conversation", "time_entries"): m("flag", "nonzero:time_entries_count"),
    ("Jurisdiction", "for_current_account"): noop("the mock's jurisdictions are all set up for the firm"),
    ("CustomField", "visible_and_required"): m("flag", "all:displayed,required"),
    ("TaskTemplateList", "empty"): noop("task templates are listed separately; a list's templates are not part of the TaskTemplateList record"),
    ("ReportPreset", "has_schedule"): m("flag", "present:report_schedule"),
    ("ReportPreset", "schedule_frequency"): m("equality", "report_schedule.frequency"),
    ("LineItem", "display"): noop("every line item of the mock's bills is displayed on its bill"),
    ("ClioFileSubmissionsReport", "submitted_after"): noop("the submissions report records the spec describes carry no submission date (only id and etag)"),
    ("ClioFileSubmissionsReport", "submitted_before"): noop("the submissions report records the spec describes carry no submission date (only id and etag)"),
    ("ActivityDescription", "flat_rate"): noop("the ActivityDescription record's rate does not say whether it is flat"),
    ("ActivityDescription", "user_id"): noop("every activity description of the mock's firm is available to every user"),
    ("Allocation", "status"): m("derived-state", "allocation-status"),
    ("BankAccount", "status"): noop("the BankAccount record the spec describes has no open/closed state"),
    ("BillableClient", "client_id"): m("association", "id", value_type="integer"),
    ("BillableClient", "matter_id"): m("association", "billable_matters", many=True, value_type="integer"),
    ("BillableClient", "originating_attorney_id"): noop("the billable-client summary the spec describes names no attorney"),
    ("BillableClient", "responsible_attorney_id"): noop("the billable-client summary the spec describes names no attorney"),
    ("BillableClient", "start_date"): noop("the billable-client summary keeps no dates of its unbilled activities"),
    ("BillableClient", "end_date"): noop("the billable-client summary keeps no dates of its unbilled activities"),
    ("BillableMatter", "matter_id"): m("association", "id", value_type="integer"),
    ("BillableMatter", "originating_attorney_id"): noop("the billable-matter summary the spec describes names no attorney"),
    ("BillableMatter", "responsible_attorney_id"): noop("the billable-matter summary the spec describes names no attorney"),
    ("BillableMatter", "start_date"): noop("the billable-matter summary keeps no dates of its unbilled activities"),
    ("BillableMatter", "end_date"): noop("the billable-matter summary keeps no dates of its unbilled activities"),
    ("Bill", "bill_number"): m("equality", "number"),
    ("Bill", "originating_attorney_id"): m("association", "matters.originating_attorney", value_type="integer", allows_null=True),
    ("Bill", "responsible_attorney_id"): m("association", "matters.responsible_attorney", value_type="integer", allows_null=True),
    ("Bill", "status"): m("derived-state", "bill-status"),
    ("Communication", "contact_id"): m("association", "senders.id|receivers.id", value_type="integer"),
    ("Conversation", "contact_id"): noop("conversations belong to matters; the Conversation record names no contact"),
    ("Conversation", "date"): m("on-date", "created_at", value_type=_ISO_DATE),
    ("Group", "archived"): noop("the Group record the spec describes has no archived state"),
    ("MatterContacts", "custom_field_ids[]"): noop("narrows the custom_field_values shown with each contact, not the contacts listed"),
    ("Matter", "grant_id"): noop("grants are not linked from the Matter record the spec describes"),
    ("OutstandingClientBalance", "originating_attorney_id"): noop("the balance's matters are ids only (associated_matter_ids), with no attorneys"),
    ("OutstandingClientBalance", "responsible_attorney_id"): noop("the balance's matters are ids only (associated_matter_ids), with no attorneys"),
    ("PracticeArea", "matter_id"): noop("excludes Legal Aid UK practice areas; the mock's firms have none"),
    ("Reminder", "user_id"): noop("the Reminder record names no user: every reminder is the token's user's"),
    ("ReportPreset", "output_format"): m("equality", "format"),
    ("Task", "client_id"): m("association", "matter.client", value_type="integer", allows_null=True),
    ("Task", "responsible_attorney_id"): m("association", "matter.responsible_attorney", value_type="integer"),
    ("TaskType", "enabled"): m("flag", "absent:deleted_at"),
    ("User", "role"): m("status-list", "roles"),
    ("LaukCriminalControlledRate", "standard_fee_category"): noop("not a field of the rate record the spec describes"),
    ("LaukExpenseCategory", "practice_area"): noop("not a field of the expense category record the spec describes"),
    ("LaukExpenseCategory", "region"): noop("sets which rate (London or not) is returned; it filters nothing"),
    ("Item", "include_deleted"): noop("the mock keeps no trashed items in the list (DELETE removes them)"),
    ("Item", "scope"): noop("children or descendants of a folder; the mock's folders are one level deep"),
    ("Item", "show_uncompleted"): noop("the mock's documents are all fully uploaded"),
}

_RANGE = re.compile(r"`(\w+)`(?: field)? (?:is )?(on or after|on or before|after|before)\b", re.I)
_TIME_WORDS = {"on or after": ">=", "on or before": "<=", "after": ">", "before": "<"}
_ON_DATE = re.compile(r"(?:occur on the specified date|have a specific `(\w+)`)", re.I)
_DATE_OPS = re.compile(r"^(>=|<=|=|>|<)?(\d{4}-\d{2}-\d{2})$")
_CF_KEY = re.compile(r"^custom_field_values\[(\d+)\]$")
_CF_OPS = re.compile(r"^(>=|<=|=|<|>)?(.*)$", re.S)
ORDERED_CF_TYPES = frozenset({"currency", "date", "time", "numeric"})


def meanings(op: Operation, model: Model) -> dict[str, Meaning]:
    """The meaning of each query parameter of ``op`` (cached per operation object)."""
    key = id(op)
    found = _CACHE.get(key)
    if found is None or found[0] is not op or found[1] is not model:
        table = {p.name: classify(op, model, p) for p in op.params.values() if p.location == "query"}
        found = (op, model, table)
        if len(_CACHE) > 4096:  # a bound, for processes that load many specs
            _CACHE.clear()
        _CACHE[key] = found
    return found[2]


_CACHE: dict[int, tuple[Operation, Model, dict[str, Meaning]]] = {}


def classify(op: Operation, model: Model, param: Param) -> Meaning:
    """One parameter's meaning, or ``Meaning("unclassified")`` if nothing applies."""
    name, schema, text = param.name, param.schema, param.description
    base = name[:-2] if name.endswith("[]") else name
    if name in CONTROL:
        return m("control")
    override = OVERRIDES.get((model.name, name)) or OVERRIDES.get((op.model, name)) or OVERRIDES.get((None, name))
    if override is not None:
        return override
    if base in ("ids", "exclude_ids"):
        return m("ids", "exclude" if base == "exclude_ids" else "include", value_type="integer")
    if base in ("created_since", "updated_since"):
        return m("since", "_created" if base == "created_since" else "_updated", value_type="date-time")
    if name.endswith("[]") and base in model.fields and isinstance(schema.get("enum"), list) and any("DATE" in str(v) for v in schema["enum"]):
        return m("date-operator", base, value_type="date")
    if base == "query":
        return m("query", fields=_query_fields(model, text))
    if base == "custom_field_values":
        return m("custom-fields", "custom_field_values")
    if base in ("external_property_name", "external_property_value"):
        return m("external-property", base)
    if base.endswith("_id") and schema.get("type") == "integer":
        found = _association(model, base)
        if found is not None:
            return m("association", found[0], many=found[1], value_type="integer", allows_null="to match those without" in text)
    value_type = _value_type(schema, text)
    ranged = _RANGE.search(text)
    if ranged and value_type in ("date", "date-time"):
        field = FIELD_ALIASES.get(ranged.group(1), ranged.group(1))
        if field in model.fields:
            return m("range", field, compare=_TIME_WORDS[ranged.group(2).lower()], value_type=value_type)
    on_date = _ON_DATE.search(text)
    if on_date and value_type in ("date", "date-time"):
        field = FIELD_ALIASES.get(on_date.group(1) or base, on_date.group(1) or base)
        if field in model.fields:
            return m("on-date", field, value_type=value_type)
    if base in model.fields:
        kind = "status-list" if name.endswith("[]") else "equality"
        return m(kind, base, value_type=str(model.fields[base].get("type", "string")))
    if name.endswith("[]") and base.endswith("es") and base[:-2] in model.fields:
        return m("status-list", base[:-2])
    if base.endswith("_present") and (base[:-8] in model.fields or base[:-8] in model.associations):
        return m("flag", f"present:{base[:-8]}")
    return m("unclassified")


def _value_type(schema: dict[str, Any], text: str) -> str:
    fmt = schema.get("format")
    if fmt in ("date", "date-time"):
        return fmt
    kind = schema.get("type")
    return kind if isinstance(kind, str) else "string"


def _association(model: Model, base: str) -> tuple[str, bool] | None:
    """The record key a ``<name>_id`` filter reads, and whether it is a to-many list."""
    stem = base[:-3]
    for name in (stem, stem + "s", stem + "es"):
        assoc = model.associations.get(name)
        if assoc is not None and assoc.stored:
            return name, assoc.many
    if base in model.fields:
        return base, False
    assoc = model.associations.get(stem)
    if assoc is not None:  # an embedded association holding an id ({"id": 5, "type": ...})
        return f"{stem}.id", False
    return None


# How the prose of a ``query`` description names fields ("email address" -> email_addresses.address).
QUERY_TERMS = {
    "email address": "email_addresses.address", "phone number": "phone_numbers.number", "web site": "web_sites.address",
    "instant messenger address": "instant_messengers.address", "custom fields": "custom_field_values.value",
    "company name": "company.name", "address": "addresses.street",
}


def _query_fields(model: Model, text: str) -> tuple[str, ...]:
    """The fields a ``query`` description names: backticked names, or its prose terms."""
    named = [n for n in re.findall(r"`(\w+)`", text) if n in model.fields]
    if not named:
        phrase = re.sub(r"(?s).*?(?:search (?:for|on|across)) ", "", text, count=1)
        for term in re.split(r",|\bor\b|\band\b|matching", phrase):
            term = term.strip().strip(".").lower()
            target = QUERY_TERMS.get(term) or (term.replace(" ", "_") if term.replace(" ", "_") in model.fields else None)
            if target:
                named.append(target)
    if not named:  # "Allows matching search on ...": every plain text field
        named = [k for k, s in model.fields.items() if s.get("type") == "string" and k != "etag" and "format" not in s]
    return tuple(dict.fromkeys(named))


# --------------------------------------------------------------------------- predicates


def predicate(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate | None:
    """The predicate for one parameter's values (``None``: nothing to filter)."""
    kind = meaning.kind
    if kind in ("control", "no-op", "unclassified"):
        if kind == "no-op":
            _read_value(meaning, name, values)  # still 400 for a value that cannot be read
        return None
    maker = _MAKERS.get(kind)
    return maker(meaning, name, values, context) if maker else None


def _read_value(meaning: Meaning, name: str, values: list[str]) -> None:
    for raw in values:
        if meaning.value_type == "integer":
            integer(name, raw)


def integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer", "InvalidParameter") from None


def boolean(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise bad_request(f"{name} must be true or false", "InvalidParameter")


def timestamp(raw: str, name: str) -> float:
    """An ISO-8601 date-time (or date: its midnight, UTC) as epoch seconds; 400 if malformed."""
    try:
        parsed = datetime.fromisoformat(raw.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"{name} must be an ISO-8601 timestamp", "InvalidParameter") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()


def day(raw: str, name: str) -> str:
    """An ISO-8601 date (a date-time's date part) as ``YYYY-MM-DD``; 400 if malformed."""
    text = raw.strip()
    try:
        return (date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text.replace(" ", "+").replace("Z", "+00:00")).date()).isoformat()
    except ValueError:
        raise bad_request(f"{name} must be an ISO-8601 date", "InvalidParameter") from None


def value_at(record: Any, path: str, context: Context | None = None) -> list[Any]:
    """The values at a dotted path: embedded lists fan out; ``client.name`` follows a stored
    association of the listed model through the account (records keep association ids)."""
    current = [record]
    parts = path.split(".")
    for i, part in enumerate(parts):
        nxt: list[Any] = []
        for item in current:
            if isinstance(item, dict):
                value = item.get(part)
                nxt.extend(value if isinstance(value, list) else [value])
        if i == 0 and context is not None and len(parts) > 1 and part in context.targets:
            table = context.account.table(context.targets[part])
            nxt = [table.get(v) or {} if isinstance(v, int) else v for v in nxt]
        current = nxt
    return [v for v in current if v is not None]


@dataclass
class Context:
    """What predicates may consult beyond the record: the firm's other records."""

    account: Account
    targets: dict[str, str]  # the listed model's stored associations: name -> model
    today: date


def _compare(op: str) -> Callable[[Any, Any], bool]:
    return {"=": lambda a, b: a == b, ">": lambda a, b: a > b, "<": lambda a, b: a < b,
            ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}[op]


def _ids(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    wanted = {integer(name, v) for raw in values for v in raw.split(",") if v.strip()}
    if meaning.field == "exclude":
        return lambda r: r["id"] not in wanted
    return lambda r: r["id"] in wanted


def _since(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    since = timestamp(values[-1], name)
    when = created_of if meaning.field == "_created" else updated_of  # the record's stamp (see classify)
    return lambda r: (when(r) or 0) > since


def _record_time(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


def _range(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    field, cmp = meaning.field or name, _compare(meaning.compare)
    if meaning.value_type == "date":
        wanted = day(values[-1], name)
        return lambda r: isinstance(r.get(field), str) and cmp(r[field][:10], wanted)
    moment = timestamp(values[-1], name)

    def pred(r: Record) -> bool:
        at = _record_time(r.get(field))
        return at is not None and cmp(at, moment)

    return pred


def _on_date(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    field, wanted = meaning.field or name, day(values[-1], name)
    return lambda r: isinstance(r.get(field), str) and r[field][:10] == wanted


def _date_operator(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    field = meaning.field or name
    conditions = []
    for raw in values:
        found = _DATE_OPS.match(raw.strip())
        if not found:
            raise bad_request(f"{name} must look like >=YYYY-MM-DD", "InvalidParameter")
        conditions.append((_compare(found.group(1) or "="), day(found.group(2), name)))
    return lambda r: isinstance(r.get(field), str) and all(c(r[field][:10], d) for c, d in conditions)


def _association_filter(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    raw = values[-1].strip()
    path = meaning.field or name
    if raw == "null":
        if not meaning.allows_null:
            raise bad_request(f"{name}: the keyword null is not valid for this filter", "InvalidParameter")
        return lambda r: not any(value_at(r, p, context) for p in path.split("|"))
    wanted = integer(name, raw)
    if meaning.many:
        return lambda r: wanted in (r.get(path) or [])
    if "." not in path:
        return lambda r: r.get(path) == wanted
    paths = path.split("|")  # any of several places (a communication's senders or receivers)
    return lambda r: any(wanted in value_at(r, p, context) for p in paths)


def _text(value: Any) -> str:
    return str(value).lower()


def _equality(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    path = meaning.field or name
    if meaning.value_type == "boolean":
        flag = boolean(name, values[-1])
        return lambda r: bool((value_at(r, path, context) or [False])[0]) == flag
    if meaning.value_type == "integer":
        number = integer(name, values[-1])
        return lambda r: number in value_at(r, path, context)
    # Enum casing differs between filters and records (status=open vs "Open"), and Clio takes
    # a comma-separated list for status-like filters (BEHAVIOR.md 4.3).
    wanted = {v.strip().lower() for raw in values for v in raw.split(",") if v.strip()}
    if "." not in path:
        return lambda r: _text(r.get(path, "")).lower() in wanted
    return lambda r: any(_text(v) in wanted for v in value_at(r, path, context))


def _association_field(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    return _equality(meaning, name, values, context)


def _query(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    needle = values[-1].strip().lower()
    plain = [f for f in meaning.fields if "." not in f and not f.startswith("@")]
    paths = [f for f in meaning.fields if "." in f and not f.startswith("@")]
    reverse = [f[1:] for f in meaning.fields if f.startswith("@")]  # @matters.description: matters pointing here

    def pred(r: Record) -> bool:
        if any(needle in str(r.get(k) or "").lower() for k in plain):
            return True
        if any(needle in str(v).lower() for p in paths for v in value_at(r, p, context)):
            return True
        return bool(reverse) and context is not None and any(_related_text(context, r, p, needle) for p in reverse)

    return pred


def _related_text(context: Context, record: Record, path: str, needle: str) -> bool:
    """Whether a matter whose client ``record`` is matches ``needle`` ("related matter name")."""
    table, _, field = path.partition(".")
    model = "Matter" if table == "matters" else None
    if model is None:
        return False
    return any(row.get("client") == record["id"] and needle in str(row.get(field) or "").lower() for row in context.account.table(model))


def _status_list(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    path = meaning.field or name
    wanted = {v.strip().lower().replace(" ", "_") for raw in values for v in raw.split(",") if v.strip()}
    return lambda r: any(_text(v).replace(" ", "_") in wanted for v in value_at(r, path, context))


def _flag(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate | None:
    flag = boolean(name, values[-1])
    spec = meaning.field or ""
    test = _flag_test(spec, context.today if context is not None else date.today())
    if name.endswith("_only") and not flag:
        return None  # overdue_only=false: no restriction
    return lambda r: test(r) == flag


def _flag_test(spec: str, today: date) -> Callable[[Record], bool]:
    how, _, field = spec.partition(":")
    if how == "present":
        return lambda r: r.get(field) not in (None, "", [])
    if how == "absent":
        return lambda r: r.get(field) in (None, "", [])
    if how == "nonempty":
        return lambda r: bool(r.get(field))
    if how == "nonzero":
        return lambda r: bool(r.get(field))
    if how == "all":
        keys = field.split(",")
        return lambda r: all(r.get(k) for k in keys)
    if spec == "overdue":
        iso = today.isoformat()
        return lambda r: _overdue(r, iso)
    return lambda r: bool(r.get(spec))


def _derived_state(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate | None:
    """A state the record's fields imply, from a table of documented states."""
    states = DERIVED_STATES[meaning.field or ""]
    wanted = {v.strip().lower() for raw in values for v in raw.split(",") if v.strip()}
    unknown = wanted - states.keys()
    if unknown:
        raise bad_request(f"{name} must be one of {', '.join(states)}", "InvalidParameter")
    tests = [states[w] for w in wanted]
    if any(t is None for t in tests):
        return None  # "all"
    today = context.today.isoformat() if context is not None else date.today().isoformat()
    return lambda r: any(t(r, today) for t in tests)  # type: ignore[misc]


def _overdue(r: Record, today: str) -> bool:
    """"Those that are overdue": awaiting payment, a balance left, due before today."""
    return (r.get("state") in ("awaiting_payment", None) and (r.get("balance") or r.get("due") or 0) > 0
            and isinstance(r.get("due_at"), str) and r["due_at"][:10] < today)


DERIVED_STATES: dict[str, dict[str, Callable[[Record, str], bool] | None]] = {
    # Activity status: "draft, billed, unbilled or non-billable" (+ billable, written_off)
    "activity-status": {
        "billed": lambda r, t: bool(r.get("billed")),
        "unbilled": lambda r, t: not r.get("billed") and not r.get("non_billable"),
        "draft": lambda r, t: not r.get("billed") and r.get("bill") is not None,
        "non_billable": lambda r, t: bool(r.get("non_billable")),
        "billable": lambda r, t: not r.get("non_billable"),
        "written_off": lambda r, t: bool(r.get("no_charge")),
    },
    # Allocation status: voided ("invalid") or not ("valid")
    "allocation-status": {"valid": lambda r, t: not r.get("voided_at"), "invalid": lambda r, t: bool(r.get("voided_at"))},
    # Bill status: "all" or "overdue"
    "bill-status": {"all": None, "overdue": _overdue},
}


def _prefix(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    letter = values[-1].strip().lower()
    keys = (meaning.field or name).split("|")

    def pred(r: Record) -> bool:
        text = next((str(r[k]) for k in keys if r.get(k)), "")
        return text.lower().startswith(letter)

    return pred


def _external_property(meaning: Meaning, name: str, values: list[str], context: Context | None) -> Predicate:
    wanted = values[-1]
    key = "name" if meaning.field == "external_property_name" else "value"
    return lambda r: any(isinstance(p, dict) and p.get(key) == wanted for p in r.get("external_properties") or [])


_MAKERS: dict[str, Callable[..., Predicate | None]] = {
    "ids": _ids, "since": _since, "range": _range, "on-date": _on_date, "date-operator": _date_operator,
    "association": _association_filter, "equality": _equality, "association-field": _association_field,
    "status-list": _status_list, "query": _query, "flag": _flag, "derived-state": _derived_state, "prefix": _prefix, "external-property": _external_property,
}


def custom_field_filters(query: dict[str, list[str]], context: Context | None) -> list[Predicate]:
    """``custom_field_values[<id>]=<op><value>`` (BEHAVIOR.md 4.3): ``=`` for every type,
    ``<``, ``>``, ``<=``, ``>=`` for currency, date, time and numeric; another operator is a 400.
    Several conditions (an array, or ``[<=50, >=45]``) are AND-ed."""
    preds: list[Predicate] = []
    for key, values in query.items():
        found = _CF_KEY.match(key.removesuffix("[]"))
        if not found:
            continue
        field_id = int(found.group(1))
        field = context.account.table("CustomField").get(field_id) if context is not None else None
        field_type = str((field or {}).get("field_type") or "text_line")
        conditions = []
        for raw in values:
            parts = raw.strip()
            items = [p.strip() for p in parts[1:-1].split(",")] if parts.startswith("[") and parts.endswith("]") else [parts]
            for item in items:
                op, value = _CF_OPS.match(item).groups()  # type: ignore[union-attr]
                op = op or "="
                if op != "=" and field_type not in ORDERED_CF_TYPES:
                    raise bad_request(f"{key}: the operator {op} is not supported for {field_type} custom fields", "InvalidParameter")
                conditions.append((_compare(op), _cf_value(value.strip(), field_type, key)))
        preds.append(_cf_predicate(field_id, field_type, conditions))
    return preds


def _cf_value(raw: str, field_type: str, key: str) -> Any:
    if field_type in ("currency", "numeric"):
        try:
            return float(raw)
        except ValueError:
            raise bad_request(f"{key} must be a number", "InvalidParameter") from None
    if field_type == "date":
        return day(raw, key)
    return raw.lower()


def _cf_predicate(field_id: int, field_type: str, conditions: list[tuple[Callable[[Any, Any], bool], Any]]) -> Predicate:
    def pred(r: Record) -> bool:
        for value in r.get("custom_field_values") or []:
            ref = value.get("custom_field")
            ref = ref.get("id") if isinstance(ref, dict) else ref
            if ref != field_id:
                continue
            have = _cf_value_of(value.get("value"), field_type)
            if have is not None and all(c(have, want) for c, want in conditions):
                return True
        return False

    return pred


def _cf_value_of(value: Any, field_type: str) -> Any:
    if value is None:
        return None
    if field_type in ("currency", "numeric"):
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if field_type == "date":
        return str(value)[:10]
    return str(value).lower()
