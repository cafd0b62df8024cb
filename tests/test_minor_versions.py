"""Minor versions that change behaviour (BEHAVIOR.md section 9; mockserver/clio/versions.py)."""

from __future__ import annotations

import pytest


def v(version):
    return {"X-API-VERSION": version}


@pytest.fixture
def entry(client):
    r = client.post("/api/v4/activities.json", params={"fields": "id"},
                    json={"data": {"type": "TimeEntry", "date": "2026-01-02", "quantity": 5400, "price": 100}})
    return r.json()["data"]


def test_quantity_is_in_hours_up_to_4_0_3(client, entry):
    fields = {"fields": "quantity,rounded_quantity,total"}
    old = client.get(f"/api/v4/activities/{entry['id']}.json", params=fields, headers=v("4.0.3")).json()["data"]
    new = client.get(f"/api/v4/activities/{entry['id']}.json", params=fields, headers=v("4.0.4")).json()["data"]
    assert old == {"quantity": 1.5, "rounded_quantity": 1.5, "total": 150.0}
    assert new == {"quantity": 5400.0, "rounded_quantity": 5400.0, "total": 150.0}


def test_quantity_written_in_hours_up_to_4_0_3(client):
    r = client.post("/api/v4/activities.json", params={"fields": "id,quantity,total"}, headers=v("4.0.2"),
                    json={"data": {"type": "TimeEntry", "date": "2026-01-02", "quantity": 2, "price": 100}})
    assert r.json()["data"]["quantity"] == 2.0 and r.json()["data"]["total"] == 200.0
    stored = client.get(f"/api/v4/activities/{r.json()['data']['id']}.json", params={"fields": "quantity"}).json()["data"]
    assert stored["quantity"] == 7200.0  # seconds at the default version


def test_nested_activities_follow_the_version(client, app):
    task = next(t for t in app.state.store.accounts[1].table("Task"))
    activity = next(a for a in app.state.store.accounts[1].table("Activity") if a["type"] == "TimeEntry")
    task["time_entries"] = [activity["id"]]
    shown = client.get(f"/api/v4/tasks/{task['id']}.json", params={"fields": "time_entries{quantity}"}, headers=v("4.0.3")).json()["data"]
    assert shown["time_entries"][0]["quantity"] == round(activity["quantity"] / 3600, 4)


def test_bills_have_matter_balances_up_to_4_0_4(client):
    old = client.get("/api/v4/bills.json", params={"fields": "id,matter_balances", "limit": 1}, headers=v("4.0.4"))
    assert old.status_code == 200 and "matter_balances" in old.json()["data"][0]
    new = client.get("/api/v4/bills.json", params={"fields": "id,matter_balances", "limit": 1}, headers=v("4.0.5"))
    assert new.status_code == 400 and new.json()["error"]["type"] == "InvalidFields"


def test_document_versions_field_up_to_4_0_5(client, app):
    document = next(iter(app.state.store.accounts[1].table("Document")))
    versions = [x["id"] for x in app.state.store.accounts[1].table("DocumentVersion") if x.get("document_id") == document["id"]]
    old = client.get(f"/api/v4/documents/{document['id']}.json", params={"fields": "name,document_versions{id}"}, headers=v("4.0.5"))
    assert old.status_code == 200
    assert old.json()["data"] == {"name": document["name"], "document_versions": [{"id": i} for i in versions]}
    new = client.get(f"/api/v4/documents/{document['id']}.json", params={"fields": "name,document_versions"}, headers=v("4.0.6"))
    assert new.status_code == 400
    assert new.json()["error"] == {"type": "InvalidFields", "message": "document_versions is not a valid field"}


def test_contact_phone_numbers_capped_at_200_from_4_0_11(client):
    phones = [{"number": f"555-{i:04d}", "name": "Work"} for i in range(201)]
    body = {"data": {"type": "Person", "first_name": "Many", "phone_numbers": phones}}
    capped = client.post("/api/v4/contacts.json", json=body, headers=v("4.0.11"))
    assert capped.status_code == 422 and "200" in capped.json()["error"]["message"]
    assert client.post("/api/v4/contacts.json", json=body, headers=v("4.0.10")).status_code == 201


def test_contact_association_limits_from_4_0_13(client):
    addresses = [{"street": f"{i} Main St", "name": "Work"} for i in range(201)]
    body = {"data": {"type": "Person", "first_name": "Many", "addresses": addresses}}
    assert client.post("/api/v4/contacts.json", json=body).status_code == 422  # the default is 4.0.13
    assert client.post("/api/v4/contacts.json", json=body, headers=v("4.0.12")).status_code == 201


def test_every_version_rule_cites_a_source():
    from mockserver.clio.versions import RULES

    assert all("BEHAVIOR.md 9" in rule.source for rule in RULES)
