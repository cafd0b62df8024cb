"""The clock: freeze and advance, so expiry and updated_since are testable without waiting."""


def test_freeze_and_advance(client):
    frozen = client.post("/__mock__/clock", json={"at": "2027-03-01T12:00:00Z"}).json()
    assert frozen["frozen"] and frozen["now"].startswith("2027-03-01T07:00:00")  # shown in the firm's offset
    created = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Clock Co"}}, params={"fields": "id,created_at"}).json()["data"]
    assert created["created_at"] == "2027-03-01T07:00:00-05:00"
    client.post("/__mock__/clock", json={"advance": 3600})
    updated = client.patch(f"/api/v4/contacts/{created['id']}.json", json={"data": {"name": "Clock Co 2"}}, params={"fields": "updated_at"}).json()["data"]
    assert updated["updated_at"] == "2027-03-01T08:00:00-05:00"
    since = client.get("/api/v4/contacts.json", params={"updated_since": "2027-03-01T12:30:00Z"}).json()["data"]
    assert [c["id"] for c in since] == [created["id"]]


def test_advancing_expires_tokens(client):
    token = client.post("/__mock__/tokens", json={}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v4/matters.json", headers=headers).status_code == 200
    client.post("/__mock__/clock", json={"advance": token["expires_in"] + 1})
    assert client.get("/api/v4/matters.json", headers=headers).status_code == 401
    client.post("/__mock__/clock", json={"freeze": False})
    assert client.get("/api/v4/matters.json", headers=headers).status_code == 200
