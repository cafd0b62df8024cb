"""Writes judged by the operation's request schema and Clio's prose, not the record's schema."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from conftest import AUTH, SPEC_PATH
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.engine.writes import WriteSchema


def _first(client, path: str, fields: str = "id") -> dict:
    return client.get(f"/api/v4/{path}.json", params={"limit": 1, "fields": fields}).json()["data"][0]


def test_phone_number_named_as_the_request_schema_allows(client):
    contact = _first(client, "contacts")
    r = client.patch(f"/api/v4/contacts/{contact['id']}.json", json={"data": {"phone_numbers": [{"name": "Mobile", "number": "555-0100"}]}},
                     params={"fields": "phone_numbers{name,number}"})
    assert r.status_code == 200, r.text
    assert {"name": "Mobile", "number": "555-0100"} in r.json()["data"]["phone_numbers"]


def test_phone_number_outside_the_request_enum_is_422(client):
    contact = _first(client, "contacts")
    r = client.patch(f"/api/v4/contacts/{contact['id']}.json", json={"data": {"phone_numbers": [{"name": "Carrier pigeon", "number": "1"}]}})
    assert r.status_code == 422 and r.json()["error"]["type"] == "ValidationError"


def test_task_due_at_as_a_date_as_its_description_says(client):
    task = _first(client, "tasks")
    r = client.patch(f"/api/v4/tasks/{task['id']}.json", json={"data": {"due_at": "2026-12-24"}}, params={"fields": "due_at"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["due_at"] == "2026-12-24"
    r = client.patch(f"/api/v4/tasks/{task['id']}.json", json={"data": {"due_at": "2026-12-25T10:00:00-05:00"}}, params={"fields": "due_at"})
    assert r.json()["data"]["due_at"] == "2026-12-25"


def test_a_date_that_is_not_a_date_is_still_422(client):
    task = _first(client, "tasks")
    assert client.patch(f"/api/v4/tasks/{task['id']}.json", json={"data": {"due_at": "next tuesday"}}).status_code == 422


def test_id_null_clears_an_association(client):
    category = _first(client, "document_categories")
    document = _first(client, "documents")
    path = f"/api/v4/documents/{document['id']}.json"
    r = client.patch(path, json={"data": {"document_category": {"id": category["id"]}}}, params={"fields": "document_category{id}"})
    assert r.json()["data"]["document_category"] == {"id": category["id"]}
    r = client.patch(path, json={"data": {"document_category": {"id": None}}}, params={"fields": "document_category{id}"})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["document_category"] is None
    client.patch(path, json={"data": {"document_category": {"id": category["id"]}}})
    r = client.patch(path, json={"data": {"document_category": None}}, params={"fields": "document_category{id}"})
    assert r.status_code == 200 and r.json()["data"]["document_category"] is None


def test_id_null_is_refused_where_the_spec_says_null_is_not_valid(client):
    r = client.post("/api/v4/notes.json", json={"data": {"type": "Matter", "matter": {"id": None}, "subject": "x"}})
    assert r.status_code == 422


def test_matter_note_needs_no_contact(client):
    matter = _first(client, "matters")
    r = client.post("/api/v4/notes.json", json={"data": {"type": "Matter", "matter": {"id": matter["id"]}, "subject": "Call", "detail": "d"}},
                    params={"fields": "id,type,matter{id}"})
    assert r.status_code == 201, r.text
    assert r.json()["data"]["matter"] == {"id": matter["id"]}


def test_note_needs_the_record_its_type_names(client):
    r = client.post("/api/v4/notes.json", json={"data": {"type": "Contact", "subject": "no contact"}})
    assert r.status_code == 422 and "contact" in r.json()["error"]["message"]
    r = client.post("/api/v4/notes.json", json={"data": {"type": "Matter", "subject": "no matter"}})
    assert r.status_code == 422 and "matter" in r.json()["error"]["message"]


def test_webhook_expires_at_null_means_omitted(index):
    app = create_app(Settings(spec=str(SPEC_PATH), seed=42, rate_limit=0, webhook_allow_host=["127.0.0.1"]), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", headers=AUTH) as client:
        _expires_at_null(client)


def _expires_at_null(client):
    r = client.post("/api/v4/webhooks.json", json={"data": {"url": "https://127.0.0.1:9/hook", "model": "matter", "fields": "id", "expires_at": None}},
                    params={"fields": "id,created_at,expires_at"})
    assert r.status_code == 201, r.text
    data = r.json()["data"]
    lifetime = datetime.fromisoformat(data["expires_at"]) - datetime.fromisoformat(data["created_at"])
    assert lifetime == timedelta(days=3)


def test_null_clears_an_optional_field(client):
    matter = _first(client, "matters")
    path = f"/api/v4/matters/{matter['id']}.json"
    client.patch(path, json={"data": {"location": "Room 1"}})
    r = client.patch(path, json={"data": {"location": None}}, params={"fields": "location"})
    assert r.status_code == 200 and r.json()["data"]["location"] is None


def test_null_for_a_required_field_is_422(client):
    assert client.post("/api/v4/matters.json", json={"data": {"description": None, "client": {"id": 1}}}).status_code == 422


def test_record_enum_applies_where_the_request_names_none(client):
    matter = _first(client, "matters")
    r = client.post("/api/v4/notes.json", json={"data": {"type": "Matter", "matter": {"id": matter["id"]}, "detail_text_type": "markdown"}})
    assert r.status_code == 422


@pytest.mark.parametrize("body", [
    {"number": 1e30},
    {"number": 18446744073709551615},
    {"number": -1e19},
    {"description": "fine", "not_a_field": 18446744073709551615},
    {"custom_field_values": [{"custom_field": {"id": 18446744073709551615}, "value": "x"}]},
])
def test_values_out_of_range_are_422_and_not_stored(client, body):
    before = client.get("/api/v4/matters/3.json", params={"fields": "number,description,etag"}).json()["data"]
    r = client.patch("/api/v4/matters/3.json", json={"data": body})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["type"] == "ValidationError"
    assert client.get("/api/v4/matters/3.json", params={"fields": "number,description,etag"}).json()["data"] == before


def test_out_of_range_in_a_form_body_is_422(client):
    category = _first(client, "expense_categories")
    path = f"/api/v4/expense_categories/{category['id']}.json"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for raw in ("1e999", "9" * 30, "nan"):
        r = client.patch(path, content=f"data[rate]={raw}", headers=form)
        assert r.status_code == 422, (raw, r.text)
    assert client.patch(path, content="data[rate]=12", headers=form, params={"fields": "rate"}).json()["data"]["rate"] == 12


def test_a_body_never_changes_identity_or_stamps(client):
    before = client.get("/api/v4/matters/3.json", params={"fields": "id,etag,created_at,updated_at"}).json()["data"]
    other = client.get("/api/v4/matters/4.json", params={"fields": "id,description"}).json()["data"]
    r = client.patch("/api/v4/matters/3.json", json={"data": {"id": 4, "etag": '"forged"', "created_at": "2001-01-01T00:00:00Z",
                                                              "updated_at": "2001-01-01T00:00:00Z", "description": "Still three"}},
                     params={"fields": "id,etag,created_at,updated_at,description"})
    assert r.status_code == 200, r.text
    after = r.json()["data"]
    assert after["id"] == 3 and after["description"] == "Still three"
    assert after["etag"] not in (before["etag"], '"forged"')
    assert after["created_at"] == before["created_at"]
    assert not after["updated_at"].startswith("2001")
    assert client.get("/api/v4/matters/4.json", params={"fields": "id,description"}).json()["data"] == other
    client.delete("/api/v4/matters/3.json")
    assert client.get("/api/v4/matters/4.json").status_code == 200


def test_create_ignores_a_body_id(client):
    client_id = _first(client, "contacts")["id"]
    r = client.post("/api/v4/matters.json", json={"data": {"id": 1, "description": "New", "client": {"id": client_id}}}, params={"fields": "id"})
    assert r.status_code == 201 and r.json()["data"]["id"] != 1
    assert client.get("/api/v4/matters/1.json", params={"fields": "id"}).json()["data"]["id"] == 1


def test_nested_read_only_fields_are_ignored(client):
    contact = _first(client, "contacts")
    r = client.patch(f"/api/v4/contacts/{contact['id']}.json",
                     json={"data": {"email_addresses": [{"address": "x@example.com", "name": "Work", "etag": '"forged"', "created_at": "2001-01-01"}]}},
                     params={"fields": "email_addresses{address,etag,created_at}"})
    assert r.status_code == 200, r.text
    added = [e for e in r.json()["data"]["email_addresses"] if e["address"] == "x@example.com"]
    assert added and added[0]["etag"] != '"forged"' and not str(added[0]["created_at"]).startswith("2001")


def test_a_replaced_requirement_leaves_the_schema_required_list(index):
    op = next(o for o in index.operations if o.operation_id == "Contact#create")
    assert "name" in WriteSchema(index).for_operation(op)["properties"]["data"]["required"]
    relaxed = WriteSchema(index, {"Contact": {"name": "first/last-name rule"}}).for_operation(op)
    assert "name" not in relaxed["properties"]["data"]["required"]


def test_write_enum_allowance_admits_what_a_write_schema_admits(index):
    from mockserver.spec import allowances

    enums = allowances.write_enums(index)
    assert "Mobile" in enums[("phone_numbers", "name")]
    show = next(o for o in index.operations if o.operation_id == "Contact#show")
    body = {"data": {"id": 1, "phone_numbers": [{"name": "Mobile"}, {"name": "Work"}, {"name": "Bogus"}]}}
    amended, changed = allowances.with_write_enums(body, show.responses[200], enums)
    assert changed == 1
    names = [p["name"] for p in amended["data"]["phone_numbers"]]
    assert names[1:] == ["Work", "Bogus"] and names[0] != "Mobile"
