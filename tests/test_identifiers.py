"""Identifiers as the spec describes them: composite custom field value ids, string ids, each
usable where the spec takes it."""

from __future__ import annotations

import re

COMPOSITE = re.compile(r"^([a-z_]+)-(\d+)$")


def _matter_values(client, matter_id: int) -> list[dict]:
    r = client.get(f"/api/v4/matters/{matter_id}.json", params={"fields": "custom_field_values{id,value,field_type,custom_field}"})
    return r.json()["data"]["custom_field_values"]


def _field(client, parent_type: str = "Matter") -> dict:
    fields = client.get("/api/v4/custom_fields.json", params={"fields": "id,field_type,parent_type", "limit": 200}).json()["data"]
    return next(f for f in fields if f["parent_type"] == parent_type)


def test_seeded_custom_field_values_have_composite_ids_of_their_field_type(app, client):
    account = app.state.store.accounts[1]
    fields = {f["id"]: f["field_type"] for f in account.table("CustomField")}
    seen = 0
    for matter in client.get("/api/v4/matters.json", params={"fields": "custom_field_values{id,custom_field}", "limit": 50}).json()["data"]:
        for value in matter["custom_field_values"]:
            found = COMPOSITE.match(value["id"])
            assert found, value
            assert found.group(1) == fields[value["custom_field"]["id"]]
            seen += 1
    assert seen


def test_created_value_gets_a_composite_id_and_is_updated_and_destroyed_by_it(client):
    field = _field(client)
    path = "/api/v4/matters/2.json"
    before = _matter_values(client, 2)
    r = client.patch(path, json={"data": {"custom_field_values": [{"custom_field": {"id": field["id"]}, "value": "first"}]}})
    assert r.status_code == 200, r.text
    created = [v for v in _matter_values(client, 2) if v not in before]
    assert len(created) == 1 and created[0]["id"] == f"{field['field_type']}-{COMPOSITE.match(created[0]['id']).group(2)}"
    value_id = created[0]["id"]
    r = client.patch(path, json={"data": {"custom_field_values": [{"id": value_id, "value": "second"}]}})
    assert r.status_code == 200, r.text
    after = _matter_values(client, 2)
    assert len(after) == len(before) + 1
    assert next(v for v in after if v["id"] == value_id)["value"] == "second"
    r = client.patch(path, json={"data": {"custom_field_values": [{"id": value_id, "_destroy": True}]}})
    assert r.status_code == 200
    assert value_id not in [v["id"] for v in _matter_values(client, 2)]


def test_the_number_of_a_composite_id_names_the_value_too(client):
    value = _matter_values(client, 1)[0]
    number = int(COMPOSITE.match(value["id"]).group(2))
    r = client.patch("/api/v4/matters/1.json", json={"data": {"custom_field_values": [{"id": number, "value": "by number"}]}})
    assert r.status_code == 200, r.text
    assert next(v for v in _matter_values(client, 1) if v["id"] == value["id"])["value"] == "by number"


def test_composite_ids_in_a_form_body(client):
    value = _matter_values(client, 1)[0]
    r = client.patch("/api/v4/matters/1.json", content=f"data[custom_field_values][][id]={value['id']}&data[custom_field_values][][value]=via+form",
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text
    assert next(v for v in _matter_values(client, 1) if v["id"] == value["id"])["value"] == "via form"


def test_string_ids_where_the_spec_types_them_as_strings(client):
    entries = client.get("/api/v4/calendar_entries.json", params={"limit": 3}).json()["data"]
    assert all(isinstance(e["id"], str) for e in entries)
    one = entries[1]["id"]
    assert client.get(f"/api/v4/calendar_entries/{one}.json").json()["data"]["id"] == one
    listed = client.get("/api/v4/calendar_entries.json", params={"ids[]": one}).json()["data"]
    assert [e["id"] for e in listed] == [one]
