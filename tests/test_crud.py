"""Create, read back, update and delete through the generic engine, in three body encodings."""

import orjson


def _create_contact(client, **data):
    body = {"data": {"type": "Person", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace", **data}}
    return client.post("/api/v4/contacts.json", json=body, params={"fields": "id,etag,name,first_name,last_name,type"})


def test_contact_lifecycle(client):
    created = _create_contact(client)
    assert created.status_code == 201
    contact = created.json()["data"]
    assert contact["name"] == "Ada Lovelace" and isinstance(contact["id"], int)

    shown = client.get(f"/api/v4/contacts/{contact['id']}.json", params={"fields": "id,name"})
    assert shown.json()["data"] == {"id": contact["id"], "name": "Ada Lovelace"}

    patched = client.patch(f"/api/v4/contacts/{contact['id']}.json", json={"data": {"last_name": "King"}}, params={"fields": "id,etag,name,updated_at"})
    assert patched.status_code == 200
    assert patched.json()["data"]["name"] == "Ada King"
    assert patched.json()["data"]["etag"] != contact["etag"]

    assert client.delete(f"/api/v4/contacts/{contact['id']}.json").status_code == 204
    gone = client.get(f"/api/v4/contacts/{contact['id']}.json")
    assert gone.status_code == 404
    assert gone.json()["error"]["type"]


def test_create_answers_422_naming_the_bad_field(client):
    r = client.post("/api/v4/matters.json", json={"data": {"description": "x", "client": {"id": "not-a-number"}}})
    assert r.status_code == 422
    assert "client.id" in r.json()["error"]["message"]


def test_missing_data_envelope_is_422(client):
    r = client.post("/api/v4/contacts.json", json={"name": "no envelope"})
    assert r.status_code == 422
    assert "data" in r.json()["error"]["message"]


def test_malformed_json_is_400_and_store_intact(client):
    before = client.get("/api/v4/contacts.json", params={"limit": 200}).json()["data"]
    r = client.post("/api/v4/contacts.json", content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    after = client.get("/api/v4/contacts.json", params={"limit": 200}).json()["data"]
    assert before == after


def test_matter_create_links_client_and_normalises_status(client):
    client_id = client.get("/api/v4/contacts.json", params={"limit": 1}).json()["data"][0]["id"]
    r = client.post(
        "/api/v4/matters.json",
        json={"data": {"description": "Estate of Smith", "status": "open", "client": {"id": client_id}}},
        params={"fields": "id,status,client_id,client{id,name}"},
    )
    assert r.status_code == 201
    matter = r.json()["data"]
    assert matter["status"] == "Open"
    assert matter["client"]["id"] == client_id == matter["client_id"]


def test_association_to_missing_record_is_404(client):
    r = client.post("/api/v4/matters.json", json={"data": {"description": "x", "client": {"id": 987654}}})
    assert r.status_code == 404


def test_form_urlencoded_body(client):
    r = client.post(
        "/api/v4/contacts.json",
        content=b"data[type]=Person&data[name]=Grace+Hopper&data[first_name]=Grace&data[last_name]=Hopper",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        params={"fields": "id,name"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["name"] == "Grace Hopper"


def test_multipart_body_and_odd_field_names(client):
    r = client.post(
        "/api/v4/contacts.json",
        files={"data[first_name]": (None, "Alan"), "data[last_name]": (None, "Turing"), "a;b": (None, "x"), "data[type]": (None, "Person"), "data[name]": (None, "Alan Turing")},
        params={"fields": "id,name"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["data"]["name"] == "Alan Turing"


def test_nested_attributes_create_update_destroy(client):
    r = _create_contact(client, email_addresses=[{"address": "ada@example.com", "name": "Work", "primary": True}])
    cid = r.json()["data"]["id"]
    shown = client.get(f"/api/v4/contacts/{cid}.json", params={"fields": "id,email_addresses{id,address}"}).json()["data"]
    assert [e["address"] for e in shown["email_addresses"]] == ["ada@example.com"]
    eid = shown["email_addresses"][0]["id"]
    client.patch(f"/api/v4/contacts/{cid}.json", json={"data": {"email_addresses": [{"id": eid, "address": "ada@new.example"}, {"address": "home@example.com", "name": "Home"}]}})
    shown = client.get(f"/api/v4/contacts/{cid}.json", params={"fields": "email_addresses{id,address}"}).json()["data"]
    assert [e["address"] for e in shown["email_addresses"]] == ["ada@new.example", "home@example.com"]
    client.patch(f"/api/v4/contacts/{cid}.json", json={"data": {"email_addresses": [{"id": eid, "_destroy": True}]}})
    shown = client.get(f"/api/v4/contacts/{cid}.json", params={"fields": "email_addresses{address}"}).json()["data"]
    assert [e["address"] for e in shown["email_addresses"]] == ["home@example.com"]


def test_renamed_contact_shows_in_matter_client(client):
    matter = client.get("/api/v4/matters.json", params={"limit": 1, "fields": "id,client{id}"}).json()["data"][0]
    client.patch(f"/api/v4/contacts/{matter['client']['id']}.json", json={"data": {"type": "Company", "name": "Renamed Holdings Inc."}})
    again = client.get(f"/api/v4/matters/{matter['id']}.json", params={"fields": "client{name}"}).json()["data"]
    assert again["client"]["name"] == "Renamed Holdings Inc."


def test_body_is_utf8_json(client):
    r = _create_contact(client, first_name="Zoë")
    assert orjson.loads(r.content)["data"]["first_name"] == "Zoë"


def test_scalar_twin_sets_the_association(client):
    client_id = client.get("/api/v4/contacts.json", params={"limit": 1}).json()["data"][0]["id"]
    r = client.post("/api/v4/matters.json", json={"data": {"description": "Via client_id", "client": {"id": client_id}, "client_id": client_id}}, params={"fields": "client_id,client{id}"})
    assert r.json()["data"] == {"client_id": client_id, "client": {"id": client_id}}
    other = client.get("/api/v4/contacts.json", params={"limit": 2}).json()["data"][1]["id"]
    matter_id = client.get("/api/v4/matters.json", params={"limit": 1}).json()["data"][0]["id"]
    patched = client.patch(f"/api/v4/matters/{matter_id}.json", json={"data": {"client_id": other}}, params={"fields": "client_id,client{id}"})
    assert patched.json()["data"] == {"client_id": other, "client": {"id": other}}
