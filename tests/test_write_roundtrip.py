"""Every write field is kept or refused, never silently dropped: for every create and update
operation, a body with every field the request schema lists is sent and the record read back;
each field is stored, derived, or listed here with the reason Clio ignores it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from conftest import SPEC_PATH, operation_url

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.engine.examples import ExampleBuilder
from mockserver.spec.index import flatten

# (model, field) -> why the field does not read back as sent. Each is a documented Clio
# behaviour or a field the record (response) schema does not show.
ACTION = "an instruction carried out at write time, not a stored value"
NOT_IN_RECORD = "the record (response) schema has no such field: Clio reads it, the mock accepts it, nothing shows it"
UPLOAD = "part of the document upload flow (BEHAVIOR.md 12.2), not a stored value"
NOT_STORED: dict[tuple[str, str], str] = {
    ("Activity", "start_timer"): ACTION + " (starts the user's timer on the activity)",
    ("BankAccount", "client"): NOT_IN_RECORD, ("BankAccount", "matter"): NOT_IN_RECORD,
    ("BankTransaction", "bank_account_transaction_type"): NOT_IN_RECORD,
    ("CalendarEntry", "_deleted"): ACTION + " (which occurrences of a recurring entry a change applies to)",
    ("CalendarEntry", "send_email_notification"): ACTION + " (emails the attendees)",
    ("ClioPaymentsLink", "duration"): "sets expires_at (at most 90 days, BEHAVIOR.md 12.5), not stored as sent",
    ("ClioPaymentsLink", "subject"): NOT_IN_RECORD,
    ("ClioPaymentsLink", "expired"): ACTION + " (expires the link)",
    ("Document", "parent"): "a document's parent is stored as its folder: the record's parent type is the one-value enum Folder",
    ("Note", "contact"): "a note belongs to the record its type names (BEHAVIOR.md: Matter or Contact); the body's type is Matter",
    ("Contact", "name"): "derived: a Person's name is its first and last names (BEHAVIOR.md 4.4)",
    ("CustomFieldSet", "custom_field_ids"): NOT_IN_RECORD,
    ("Matter", "reset_matter_number"): ACTION + " (renumbers the matter, BEHAVIOR.md 12.5)",
    ("Reminder", "duration_unit"): "with duration_value, how far ahead the reminder fires; Clio shows it as duration",
    ("Reminder", "duration_value"): "with duration_unit, how far ahead the reminder fires; Clio shows it as duration",
    ("Task", "notify_assignee"): ACTION + " (notifies the assignee)",
    ("Bill", "use_grace_period"): ACTION + " (applies the firm's grace period to interest)",
    ("LineItem", "update_original_record"): ACTION + " (also changes the activity the line item bills)",
    ("Comment", "item"): NOT_IN_RECORD + " (a comment shows its document_version)",
    ("Document", "communication_id"): NOT_IN_RECORD,
    ("Document", "multiparts"): UPLOAD, ("Document", "uuid"): UPLOAD, ("Document", "fully_uploaded"): UPLOAD,
    ("Document", "copy_version"): UPLOAD,
    ("Document", "restore"): ACTION + " (restores a trashed document)",
    ("Folder", "restore"): ACTION + " (restores a trashed folder)",
    ("DocumentAutomation", "formats"): NOT_IN_RECORD + " (the formats of the generated documents)",
    ("DocumentTemplate", "file"): UPLOAD,
    ("MedicalBill", "balance"): NOT_IN_RECORD, ("MedicalBill", "mark_balance_type_as"): NOT_IN_RECORD,
    ("MedicalBill", "payers"): NOT_IN_RECORD,
}
for _field in ("start_date", "end_date", "year", "client", "matter", "originating_attorney", "practice_area", "responsible_attorney", "user"):
    NOT_STORED[("Report", _field)] = "an option of the report to generate; the Report record shows its name, kind and state only"
for _model in ("Task", "TaskTemplate"):
    for _field in ("cascading", "cascading_offset", "cascading_offset_polarity", "cascading_offset_type", "cascading_source"):
        NOT_STORED[(_model, _field)] = NOT_IN_RECORD + " (cascading due dates)"
for _field in ("approved", "client_id", "currency_id", "due_date", "issue_date", "matter", "note", "trust_amount", "trust_type"):
    NOT_STORED[("TrustRequest", _field)] = NOT_IN_RECORD + " (the TrustRequest record the spec describes has none of the request's fields)"


# Values the domain rules require together (a closed matter has a close date; a document's
# parent of type Document adds a version to that document rather than making a new one).
def _adjust(op, data: dict[str, Any], account, url: str) -> None:
    if op.model == "Matter" and "close_date" in data:
        data["status"] = "closed"
    if op.model == "Document" and isinstance(data.get("parent"), dict):
        data["parent"] = {"id": account.table("Folder").ids[0], "type": "Folder"}
    if op.model == "Bill" and "state" in data:
        bill = account.table("Bill").get(int(url.rsplit("/", 1)[1].split(".")[0]))
        moves = (bill or {}).get("available_state_transitions") or []
        if moves:
            data["state"] = moves[0]
        else:
            data.pop("state")
    for name in [n for n in data if op.model == "Document" and NOT_STORED.get((op.model, n)) == UPLOAD]:
        data.pop(name)  # the upload flow has its own test (tests of mockserver.clio.uploads)


def _write_ops(index):
    return [op for op in index.operations if op.action in ("create", "update") and op.request_schema is not None]


def _empty(value: Any) -> bool:
    """Nothing to compare: the builder found no field to send inside (``{}``, ``[{}]``)."""
    if isinstance(value, dict):
        return all(k in ("_deleted", "_destroy") for k in value)
    if isinstance(value, list):
        return all(_empty(v) for v in value)
    return False


def _fields_param(model, data: dict[str, Any], index) -> str:
    parts = ["id"] if "id" in model.fields else []
    for name, value in data.items():
        assoc = model.associations.get(name)
        if assoc is not None:
            target = index.models.get(assoc.target)
            subs = ["id"] if target is None or "id" in target.fields else []
            sample = value[0] if isinstance(value, list) and value else value
            if isinstance(sample, dict) and target is not None:
                subs += [k for k in sample if k in target.fields and k != "id"]
            parts.append(f"{name}{{{','.join(dict.fromkeys(subs))}}}" if subs else name)
        elif name.endswith("_id") and name[:-3] in model.associations:
            parts.append(f"{name[:-3]}{{id}}")  # a scalar twin reads back as its association
        elif name in model.fields:
            parts.append(name)
    return ",".join(dict.fromkeys(parts))


def _same(sent: Any, got: Any, schema: dict[str, Any]) -> bool:
    if isinstance(sent, dict) and isinstance(got, dict):
        return all(_same(v, got.get(k), {}) for k, v in sent.items() if k in got)
    if isinstance(sent, list):
        if not sent:
            return True
        return isinstance(got, list) and any(_same(sent[0], g, {}) for g in got)
    if isinstance(sent, (int, str)) and isinstance(got, (int, str)) and not isinstance(sent, bool) and str(sent) == str(got):
        return True  # ids the spec types as strings in one place and integers in another
    if isinstance(sent, str) and isinstance(got, str):
        if sent.lower() == got.lower() or sent[:10] == got[:10] and len(sent) >= 10 and sent[4:5] == "-":
            return True
        return len(schema.get("enum") or []) == 1  # a one-value enum names what the record is
    if isinstance(sent, (int, float)) and isinstance(got, (int, float)) and not isinstance(sent, bool):
        return abs(sent - got) <= max(1.0, abs(sent) * 1e-9)  # an integer field rounds a number
    if isinstance(sent, bool) and isinstance(got, str):
        return str(sent).lower() == got.lower()
    if isinstance(sent, str) and isinstance(got, bool):
        return sent.lower() == str(got).lower()
    return sent == got


def roundtrip(app, index, client) -> tuple[list[str], list[str], list[str]]:
    """(stored, explained, dropped) as ``Model#action field`` strings."""
    account = app.state.store.accounts[1]
    builder = ExampleBuilder(index)
    stored, explained, dropped = [], [], []
    for op in sorted(_write_ops(index), key=lambda o: o.action):
        model = index.models[op.model]
        body = builder.body(op, account, every_field=True)
        data = body["data"]
        if "expires_at" in data:  # a webhook's expiry must lie ahead of the mock's clock
            data["expires_at"] = (app.state.clock.now() + timedelta(days=1)).isoformat(timespec="seconds")
        try:
            url = operation_url(index, account, app.state.engine, op)
        except AssertionError as exc:
            dropped.append(f"{op.operation_id}: {exc}")
            continue
        _adjust(op, data, account, url)
        response = client.request(op.method, url, json=body, params={"fields": _fields_param(model, data, index)})
        if response.status_code != op.success_status:
            dropped.append(f"{op.operation_id}: {response.status_code} {response.text[:300]}")
            continue
        got = response.json()["data"]
        request_props = flatten(flatten(op.request_schema)["properties"]["data"]).get("properties", {})
        for name, value in data.items():
            key = f"{op.operation_id} {name}"
            if _empty(value):
                continue
            if (op.model, name) in NOT_STORED:
                explained.append(key)
            elif name not in model.fields and name not in model.associations and not (name.endswith("_id") and name[:-3] in model.associations):
                explained.append(key)  # NOT_IN_RECORD: nothing in the record schema could show it
            elif name in got and _same(value, got[name], model.fields.get(name, {})):
                stored.append(key)
            elif name.endswith("_id") and isinstance(got.get(name[:-3]), dict) and got[name[:-3]].get("id") == value:
                stored.append(key)
            else:
                dropped.append(f"{key}: sent {value!r}, read back {got.get(name, '<absent>')!r} ({request_props.get(name, {}).get('type')})")
    return stored, explained, dropped


@pytest.fixture
def app(index):
    """The default app, with loopback webhook receivers allowed (the examples' webhook URL)."""
    return create_app(Settings(spec=str(SPEC_PATH), seed=42, rate_limit=0, webhook_allow_host=["127.0.0.1"]), index=index)


def test_every_write_field_is_stored_or_explained(app, index, client):
    stored, explained, dropped = roundtrip(app, index, client)
    assert dropped == [], f"{len(dropped)} fields dropped:\n" + "\n".join(dropped)
    assert len(stored) > 500


def test_nested_attributes_create_stored_records(app, client):
    account = app.state.store.accounts[1]
    contact_id = account.table("Contact").ids[0]
    before = len(account.table("Relationship").ids)
    r = client.patch("/api/v4/matters/2.json", json={"data": {"relationships": [{"description": "Expert witness", "contact": {"id": contact_id}}]}},
                     params={"fields": "relationships{id,description,contact}"})
    assert r.status_code == 200, r.text
    made = [x for x in r.json()["data"]["relationships"] if x["description"] == "Expert witness"]
    assert made and made[0]["contact"]["id"] == contact_id
    assert len(account.table("Relationship").ids) == before + 1


def test_a_failed_update_leaves_no_nested_record_behind(app, client):
    account = app.state.store.accounts[1]
    before = len(account.table("Relationship").ids)
    r = client.patch("/api/v4/matters/2.json", json={"data": {"relationships": [{"description": "Orphan", "contact": {"id": account.table("Contact").ids[0]}}],
                                                              "client": {"id": 999_999}}})
    assert r.status_code == 404
    assert len(account.table("Relationship").ids) == before


def test_a_failed_create_leaves_no_nested_record_behind(app, client):
    account = app.state.store.accounts[1]
    before = len(account.table("Relationship").ids)
    r = client.post("/api/v4/matters.json", json={"data": {"description": "x", "relationships": [{"description": "Orphan", "contact": {"id": account.table("Contact").ids[0]}}],
                                                           "client": {"id": 999_999}}})
    assert r.status_code == 404
    assert len(account.table("Relationship").ids) == before
