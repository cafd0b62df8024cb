"""The control API: reset, firms, apps and tokens, and the admin-token rule off loopback."""

from __future__ import annotations

from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import Settings


def test_reset_forgets_writes(client):
    created = client.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Temp Co"}}).json()["data"]
    assert client.post("/__mock__/reset").status_code == 200
    assert client.get(f"/api/v4/contacts/{created['id']}.json").status_code == 404


def test_reseed_changes_the_data(client):
    before = client.get("/api/v4/contacts.json", params={"fields": "name", "limit": 3}).json()["data"]
    client.post("/__mock__/reseed", json={"seed": 7, "counts": {"Contact": 5}})
    after = client.get("/api/v4/contacts.json", params={"fields": "name", "limit": 200}).json()["data"]
    assert len(after) == 5 and after[:3] != before


def test_new_firm_and_a_token_for_it(client):
    firm = client.post("/__mock__/accounts", json={"name": "Second Firm LLP", "counts": {"Matter": 4, "User": 2}}).json()
    assert firm["name"] == "Second Firm LLP" and len(firm["users"]) == 2
    token = client.post("/__mock__/tokens", json={"account_id": firm["id"], "user_id": firm["users"][1]["id"]}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert len(client.get("/api/v4/matters.json", headers=headers).json()["data"]) == 4
    assert client.get("/api/v4/users/who_am_i.json", headers=headers).json()["data"]["id"] == firm["users"][1]["id"]
    assert firm["id"] in [a["id"] for a in client.get("/__mock__/accounts").json()["data"]]
    assert client.delete(f"/__mock__/accounts/{firm['id']}").status_code == 204
    assert client.get("/api/v4/matters.json", headers=headers).status_code == 401


def test_apps_created_and_listed_without_secrets(client):
    made = client.post("/__mock__/apps", json={"name": "Sync", "redirect_uris": ["http://127.0.0.1:*"], "permissions": {"matters": "read"}}).json()
    assert made["client_secret"]
    listed = client.get("/__mock__/apps").json()["data"]
    assert any(a["client_id"] == made["client_id"] for a in listed)
    assert made["client_secret"] not in str(listed)


def test_bad_control_input_is_400(client):
    assert client.post("/__mock__/faults", json={"kind": "explode"}).status_code == 400
    assert client.post("/__mock__/faults", content=b"{nope", headers={"Content-Type": "application/json"}).status_code == 400
    assert client.post("/__mock__/apps", json={}).status_code == 400


def test_admin_token_required_off_loopback(index):
    app = create_app(Settings(seed=1, host="0.0.0.0", admin_token="s3cret"), index=index)
    with TestClient(app) as c:
        assert c.post("/__mock__/reset").status_code == 401
        assert c.post("/__mock__/reset", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.post("/__mock__/reset", headers={"Authorization": "Bearer s3cret"}).status_code == 200
