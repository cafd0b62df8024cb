"""The request journal: what the code under test sent, for assertions."""


def test_journal_records_requests_with_bodies_and_statuses(client):
    client.delete("/__mock__/journal")
    client.get("/api/v4/matters.json", params={"limit": 2})
    client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Journal Co"}})
    client.get("/api/v4/matters/999999.json")
    entries = client.get("/__mock__/journal").json()["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", "/api/v4/matters.json", 200), ("POST", "/api/v4/contacts.json", 201), ("GET", "/api/v4/matters/999999.json", 404),
    ]
    assert entries[0]["query"] == "limit=2"
    assert entries[1]["body"] == {"data": {"type": "Company", "name": "Journal Co"}}
    assert entries[1]["token_hint"] == "dev"[:4] + "…" or entries[1]["token_hint"].endswith("…")


def test_journal_filters_and_never_holds_tokens(client):
    client.delete("/__mock__/journal")
    client.get("/api/v4/contacts.json")
    client.get("/api/v4/matters.json")
    only = client.get("/__mock__/journal", params={"path": "/api/v4/matters*", "method": "GET"}).json()["data"]
    assert [e["path"] for e in only] == ["/api/v4/matters.json"]
    since = only[0]["id"]
    client.get("/api/v4/users.json")
    assert [e["path"] for e in client.get("/__mock__/journal", params={"since": since}).json()["data"]] == ["/api/v4/users.json"]
    token = client.post("/__mock__/tokens", json={}).json()["access_token"]
    client.get("/api/v4/users.json", headers={"Authorization": f"Bearer {token}"})
    assert token not in client.get("/__mock__/journal").text
