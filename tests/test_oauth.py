"""Clio's OAuth server: authorize -> code -> token -> refresh -> deauthorize, and its errors."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.clio.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from mockserver.config import Settings

REDIRECT = "http://127.0.0.1:9999/callback"
CREDS = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}


@pytest.fixture
def mock(index):
    app = create_app(Settings(seed=42, rate_limit=0, token_lifetime=60, code_lifetime=30, accounts=2), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        yield app, client


def _authorize(client, decision="allow", user=None, **extra):
    params = {"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": REDIRECT, "state": "s1", **extra}
    page = client.get("/oauth/authorize", params=params)
    assert page.status_code == 200 and "<title>Authorize" in page.text
    form = {k: params.get(k, "") for k in ("client_id", "redirect_uri", "state", "redirect_on_decline")}
    form["form_token"] = form_token(page.text)
    return client.post("/oauth/authorize", data={**form, "decision": decision, **({"user": user} if user else {})})


def form_token(page: str) -> str:
    """The approval page's CSRF token (its hidden ``form_token`` field)."""
    return re.search(r'name="form_token" value="([^"]+)"', page).group(1)


def _code(response) -> str:
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


def _token(client, code, redirect=REDIRECT):
    return client.post("/oauth/token", data={**CREDS, "grant_type": "authorization_code", "code": code, "redirect_uri": redirect})


def test_full_flow(mock):
    app, client = mock
    user_id = app.state.store.accounts[1].table("User").ids[1]
    tokens = _token(client, _code(_authorize(client, user=f"1:{user_id}"))).json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 60 and tokens["refresh_token"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/api/v4/users/who_am_i.json", headers=bearer).json()["data"]["id"] == user_id

    refreshed = client.post("/oauth/token", data={**CREDS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
    assert "refresh_token" not in refreshed and refreshed["access_token"] != tokens["access_token"]
    again = client.post("/oauth/token", data={**CREDS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert again.status_code == 200  # refresh tokens are reusable, not rotated

    new_bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
    assert client.post("/oauth/deauthorize", data={"token": refreshed["access_token"]}, headers=new_bearer).content == b""
    for headers in (bearer, new_bearer):
        r = client.get("/api/v4/matters.json", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_token"
    dead = client.post("/oauth/token", data={**CREDS, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert dead.status_code == 400 and dead.json()["error"] == "invalid_grant"


def test_codes_are_single_use_and_bound(mock):
    _, client = mock
    code = _code(_authorize(client))
    assert _token(client, code, "http://127.0.0.1:9999/other").json()["error"] == "invalid_grant"
    first = _token(client, code)
    assert first.status_code == 200
    replay = _token(client, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # the replay revokes what the code produced
    assert client.get("/api/v4/matters.json", headers={"Authorization": f"Bearer {first.json()['access_token']}"}).status_code == 401


def test_codes_expire(mock):
    app, client = mock
    code = _code(_authorize(client))
    app.state.clock.offset += __import__("datetime").timedelta(seconds=31)
    assert _token(client, code).json() == {"error": "invalid_grant", "error_description": "The authorization code has expired."}


def test_access_tokens_expire(mock):
    app, client = mock
    token = _token(client, _code(_authorize(client))).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v4/matters.json", headers=bearer).status_code == 200
    app.state.clock.offset += __import__("datetime").timedelta(seconds=61)
    assert client.get("/api/v4/matters.json", headers=bearer).status_code == 401


def test_client_auth_errors(mock):
    _, client = mock
    code = _code(_authorize(client))
    bad = client.post("/oauth/token", data={**CREDS, "client_secret": "wrong", "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"
    assert client.post("/oauth/token", data={**CREDS, "grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert client.post("/oauth/token", data=CREDS).json()["error"] == "invalid_request"


def test_http_basic_client_auth_and_json_body(mock):
    _, client = mock
    code = _code(_authorize(client))
    r = client.post("/oauth/token", json={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}, auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    assert r.status_code == 200 and r.json()["access_token"]


def test_decline_redirects_with_access_denied(mock):
    _, client = mock
    r = _authorize(client, decision="deny", redirect_on_decline="true")
    assert r.status_code == 302
    assert parse_qs(urlsplit(r.headers["location"]).query) == {"error": ["access_denied"], "state": ["s1"]}
    stay = _authorize(client, decision="deny")
    assert stay.status_code == 200 and "<title>Failure error=access_denied</title>" in stay.text


def test_unknown_client_or_redirect_is_an_error_page_not_a_redirect(mock):
    _, client = mock
    r = client.get("/oauth/authorize", params={"client_id": "nope", "response_type": "code", "redirect_uri": REDIRECT})
    assert r.status_code == 400 and "location" not in r.headers
    r = client.get("/oauth/authorize", params={"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": "https://evil.example/cb"})
    assert r.status_code == 400 and "location" not in r.headers


def test_out_of_band_approval_title(mock):
    _, client = mock
    oob = "http://127.0.0.1:8000/oauth/approval"
    params = {"client_id": DEFAULT_CLIENT_ID, "redirect_uri": oob, "state": "s1"}
    page = client.get("/oauth/authorize", params={**params, "response_type": "code"})
    params["form_token"] = form_token(page.text)
    r = client.post("/oauth/authorize", data={**params, "decision": "allow"})
    landing = client.get(r.headers["location"])
    assert "<title>Success code=" in landing.text
    r = client.post("/oauth/authorize", data={**params, "decision": "deny"})
    assert "<title>Failure error=access_denied</title>" in client.get(r.headers["location"]).text


def test_auto_approve_app(mock):
    app, client = mock
    auto = app.state.oauth.create_app("CI bot", ["http://127.0.0.1:*"], {"*": "write"}, auto_approve=True)
    r = client.get("/oauth/authorize", params={"client_id": auto.client_id, "response_type": "code", "redirect_uri": REDIRECT, "state": "s1"})
    code = _code(r)
    tok = client.post("/oauth/token", data={"client_id": auto.client_id, "client_secret": auto.client_secret, "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
    assert tok.status_code == 200
    assert len(auto.client_secret) >= 32


def test_bad_tokens_are_401_with_oauth_body(mock):
    _, client = mock
    r = client.get("/api/v4/matters.json", headers={"Authorization": "Bearer not-a-real-token"})
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_token", "error_description": "The access token provided is expired, revoked, malformed or invalid for other reasons."}
    missing = client.get("/api/v4/matters.json")
    assert missing.status_code == 401 and set(missing.json()["error"]) == {"type", "message"}


def test_listing_never_shows_secrets_or_tokens(mock):
    app, client = mock
    token = _token(client, _code(_authorize(client))).json()["access_token"]
    text = str(app.state.oauth.listing())
    assert token not in text and DEFAULT_CLIENT_SECRET not in text


def test_apps_declared_in_a_file(index, tmp_path):
    path = tmp_path / "apps.yaml"
    path.write_text("apps:\n  - name: Matter Sync\n    client_id: matter-sync\n    client_secret: s3cret\n    redirect_uris: ['http://127.0.0.1:*/cb']\n    permissions: {matters: read}\n    auto_approve: true\n")
    app = create_app(Settings(seed=42, rate_limit=0, apps=str(path)), index=index)
    declared = app.state.oauth.app("matter-sync")
    assert declared.permissions == {"matters": "read"} and declared.auto_approve
    with TestClient(app, follow_redirects=False) as client:
        r = client.get("/oauth/authorize", params={"client_id": "matter-sync", "response_type": "code", "redirect_uri": "http://127.0.0.1:5/cb"})
        assert r.status_code == 302 and "code=" in r.headers["location"]


def test_bad_apps_file_names_file_and_place(index, tmp_path):
    from mockserver.engine.errors import ClioError

    path = tmp_path / "apps.yaml"
    path.write_text("apps:\n  - name: X\n    redirect_uris: []\n    permissions: {matters: admin}\n")
    with pytest.raises(ClioError, match=r"apps\.yaml: apps\[0\]\.permissions"):
        create_app(Settings(apps=str(path)), index=index)
