"""Clio's custom actions and nested collections through the generic engine."""


def test_who_am_i_returns_the_tokens_user(client):
    me = client.get("/api/v4/users/who_am_i.json", params={"fields": "id,name,email"}).json()["data"]
    assert client.get(f"/api/v4/users/{me['id']}.json", params={"fields": "id,name,email"}).json()["data"] == me


def test_download_redirects_to_served_content(client):
    doc = client.get("/api/v4/documents.json", params={"limit": 1}).json()["data"][0]
    r = client.get(f"/api/v4/documents/{doc['id']}/download.json", follow_redirects=False)
    assert r.status_code == 303
    content = client.get(r.headers["location"])
    assert content.status_code == 200 and content.content
    assert client.get("/api/v4/documents/999999/download.json", follow_redirects=False).status_code == 404


def test_timer_is_a_singleton(client):
    assert client.get("/api/v4/timer.json").status_code == 404
    activity = client.get("/api/v4/activities.json", params={"limit": 2}).json()["data"]
    first = client.post("/api/v4/timer.json", json={"data": {"activity": {"id": activity[0]["id"]}}})
    assert first.status_code == 201
    second = client.post("/api/v4/timer.json", json={"data": {"activity": {"id": activity[1]["id"]}}}, params={"fields": "id,activity{id}"})
    shown = client.get("/api/v4/timer.json", params={"fields": "id,activity{id}"}).json()["data"]
    assert shown == second.json()["data"]
    assert client.delete("/api/v4/timer.json").status_code == 204
    assert client.get("/api/v4/timer.json").status_code == 404


def test_copy_copies(client):
    doc = client.get("/api/v4/documents.json", params={"limit": 1, "fields": "id,name"}).json()["data"][0]
    folder = client.get("/api/v4/folders.json", params={"limit": 1}).json()["data"][0]
    body = {"data": {"parent": {"id": folder["id"], "type": "Folder"}}}
    r = client.post(f"/api/v4/documents/{doc['id']}/copy.json", json=body, params={"fields": "id,name"})
    assert r.status_code == 201
    assert r.json()["data"]["name"] == doc["name"] and r.json()["data"]["id"] != doc["id"]


def test_billable_matter_ids_are_matter_ids(client):
    ids = client.get("/api/v4/billable_matters/ids.json").json()["data"]
    matters = {m["id"] for m in client.get("/api/v4/matters.json", params={"limit": 200}).json()["data"]}
    assert ids and all(isinstance(i, int) for i in ids) and set(ids) <= matters


def test_contact_email_addresses_reflect_the_parent(client):
    contact = client.get("/api/v4/contacts.json", params={"limit": 1, "fields": "id,email_addresses{id,address}"}).json()["data"][0]
    nested = client.get(f"/api/v4/contacts/{contact['id']}/email_addresses.json", params={"fields": "id,address"}).json()["data"]
    assert nested == contact["email_addresses"]
    assert client.get("/api/v4/contacts/999999/email_addresses.json").status_code == 404


def test_matter_client_and_contacts(client):
    matter = client.get("/api/v4/matters.json", params={"limit": 1, "fields": "id,client{id,name}"}).json()["data"][0]
    shown = client.get(f"/api/v4/matters/{matter['id']}/client.json", params={"fields": "id,name"}).json()["data"]
    assert shown == matter["client"]
    contacts = client.get(f"/api/v4/matters/{matter['id']}/contacts.json", params={"fields": "id,is_client,matter_id"}).json()["data"]
    assert {"id": matter["client"]["id"], "is_client": True, "matter_id": matter["id"]} in contacts


def test_document_versions_nested_under_document(client):
    version = client.get("/api/v4/documents.json", params={"limit": 1}).json()["data"][0]
    rows = client.get(f"/api/v4/documents/{version['id']}/versions.json", params={"fields": "id,document_id", "limit": 200}).json()["data"]
    assert all(r["document_id"] == version["id"] for r in rows)


def test_failed_timer_start_keeps_the_running_timer(client):
    activity = client.get("/api/v4/activities.json", params={"limit": 1}).json()["data"][0]
    client.post("/api/v4/timer.json", json={"data": {"activity": {"id": activity["id"]}}})
    running = client.get("/api/v4/timer.json").json()["data"]
    assert client.post("/api/v4/timer.json", json={"data": {"activity": {"id": 987654321}}}).status_code == 404
    assert client.get("/api/v4/timer.json").json()["data"] == running
