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


def test_journal_keeps_headers_masked_and_the_answer(client):
    client.delete("/__mock__/journal")
    client.get("/api/v4/matters.json", params={"fields": "id,etag", "limit": 1},
               headers={"Authorization": "Bearer secret-token-value", "Cookie": "session=very-secret", "X-Trace": "t1"})
    entry = client.get("/__mock__/journal").json()["data"][0]
    assert entry["request_headers"]["x-trace"] == "t1"
    assert entry["request_headers"]["authorization"] == "Bearer secr…"
    assert entry["request_headers"]["cookie"] == "sess…" or "very-secret" not in entry["request_headers"]["cookie"]
    assert entry["status"] == entry["response_status"] == 401  # an unknown token
    assert entry["response_body"]["error"]  # Clio's OAuth-style 401 body
    assert entry["response_headers"]["content-type"].startswith("application/json")
    assert entry["source"] == "api" and entry["duration_ms"] > 0
    ok = client.get("/api/v4/matters.json", params={"fields": "id,etag", "limit": 1})
    entry = client.get("/__mock__/journal", params={"limit": 1}).json()["data"][0]
    assert entry["response_status"] == 200 and entry["response_body"] == ok.json()
    assert entry["response_headers"]["x-request-id"] == ok.headers["x-request-id"]


def test_journal_records_oauth_calls_without_their_secrets(client):
    client.delete("/__mock__/journal")
    r = client.post("/oauth/token", data={"client_id": "clio-mock-app-key", "client_secret": "clio-mock-app-secret",
                                           "grant_type": "authorization_code", "code": "not-a-real-code-123", "redirect_uri": "http://127.0.0.1/cb"})
    assert r.status_code == 400
    entries = client.get("/__mock__/journal", params={"source": "oauth"}).json()["data"]
    assert [(e["method"], e["path"], e["status"], e["source"]) for e in entries] == [("POST", "/oauth/token", 400, "oauth")]
    text = client.get("/__mock__/journal").text
    assert "clio-mock-app-secret" not in text and "not-a-real-code-123" not in text
    assert entries[0]["response_body"]["error"] == "invalid_grant"


def test_oauth_codes_in_redirects_are_masked(client):
    from urllib.parse import parse_qs, urlparse

    client.post("/__mock__/apps", json={"name": "Auto", "client_id": "auto-app", "client_secret": "s3cret-value",
                                        "redirect_uris": ["http://127.0.0.1:3000/cb"], "auto_approve": True})
    client.delete("/__mock__/journal")
    r = client.get("/oauth/authorize", params={"client_id": "auto-app", "response_type": "code", "redirect_uri": "http://127.0.0.1:3000/cb"},
                   follow_redirects=False)
    assert r.status_code in (302, 303)
    code = parse_qs(urlparse(r.headers["location"]).query)["code"][0]
    entry = client.get("/__mock__/journal", params={"path": "/oauth/authorize"}).json()["data"][-1]
    assert code not in client.get("/__mock__/journal").text
    assert "code=" in entry["response_headers"]["location"]


def test_limit_and_status_filters(client):
    client.delete("/__mock__/journal")
    for _ in range(3):
        client.get("/api/v4/matters.json")
    client.get("/api/v4/matters/999999.json")
    client.get("/api/v4/no_such_things.json")
    newest = client.get("/__mock__/journal", params={"limit": 2}).json()["data"]
    assert [e["status"] for e in newest] == [404, 404]
    assert [e["path"] for e in client.get("/__mock__/journal", params={"status": "200"}).json()["data"]] == ["/api/v4/matters.json"] * 3
    assert len(client.get("/__mock__/journal", params={"status": "4xx"}).json()["data"]) == 2
    assert len(client.get("/__mock__/journal", params={"status": "2xx,4xx", "limit": 4}).json()["data"]) == 4
    bad = client.get("/__mock__/journal", params={"status": "teapot"})
    assert bad.status_code == 400 and "status" in bad.json()["error"]["message"]
    assert client.get("/__mock__/journal", params={"limit": "0"}).status_code == 400
