"""OAuth redirect URIs match on parsed scheme, host, port and path (RFC 9700 4.1.3), the approval
form carries a CSRF token bound to its request, and revocations after a code replay persist."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.testclient import TestClient

from mockserver.app import build_state, create_app
from mockserver.clio.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URIS, redirect_matches
from mockserver.config import Settings

ATTACKS = [
    "http://127.0.0.1:80@evil.example/cb", "http://localhost:1@evil.example/", "http://localhost:3000\\@evil.example",
    "http://127.0.0.1:3000\\evil.example/cb", "http://user:pw@127.0.0.1:3000/cb", "http://127.0.0.1.evil.example:3000/cb",
    "http://localhost.evil.example/", "https://127.0.0.1:3000/cb", "http://127.0.0.1:3000/cb#frag", "http://127.0.0.1:99999/cb",
    "http://127.0.0.1:3000/c b", "http://127.0.0.1:3000/cb\r\nX: y", "javascript://127.0.0.1:3000/%0aalert(1)", "//127.0.0.1:3000/cb",
    "http://[::1]:3000/cb", "http://127.0.0.2:3000/cb", "",
]


@pytest.mark.parametrize("uri", ATTACKS)
def test_default_patterns_refuse_tricks(uri):
    assert not any(redirect_matches(uri, p) for p in DEFAULT_REDIRECT_URIS)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:3000/callback", "http://127.0.0.1/", "http://localhost:8765/oauth/cb?x=1", "http://LOCALHOST:1/a", "http://127.0.0.1:65535"])
def test_default_patterns_allow_any_port_and_path_on_loopback(uri):
    assert any(redirect_matches(uri, p) for p in DEFAULT_REDIRECT_URIS)


def test_registered_uris_match_exactly():
    assert redirect_matches("https://app.example/cb", "https://app.example/cb")
    assert redirect_matches("https://app.example:443/cb", "https://app.example/cb")
    assert not redirect_matches("https://app.example/cb/../x", "https://app.example/cb")
    assert not redirect_matches("https://app.example/cbx", "https://app.example/cb")
    assert not redirect_matches("https://app.example/cb?next=evil", "https://app.example/cb")
    assert not redirect_matches("https://app.example:8443/cb", "https://app.example/cb")
    assert redirect_matches("http://127.0.0.1:5/cb", "http://127.0.0.1:*/cb")
    assert not redirect_matches("http://127.0.0.1:5/other", "http://127.0.0.1:*/cb")


def _page(client, redirect, state="s1"):
    return client.get("/oauth/authorize", params={"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": redirect, "state": state})


def _token(page) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)


@pytest.fixture
def mock(index):
    app = create_app(Settings(seed=42, rate_limit=0, oauth_redirect_origin=["http://app:3000"]), index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        yield app, client


@pytest.mark.parametrize("uri", ATTACKS[:4])
def test_authorize_refuses_tricks_with_an_error_page(mock, uri):
    _, client = mock
    r = _page(client, uri)
    assert r.status_code == 400 and "location" not in r.headers


def test_named_extra_origin_for_containers(mock):
    _, client = mock
    assert _page(client, "http://app:3000/cb").status_code == 200
    for uri in ("http://app:3001/cb", "https://app:3000/cb", "http://app.evil:3000/cb", "http://x@app:3000/cb"):
        assert _page(client, uri).status_code == 400, uri


def _decide(client, form):
    return client.post("/oauth/authorize", data={"client_id": DEFAULT_CLIENT_ID, "decision": "allow", **form})


def test_approval_needs_the_pages_token(mock):
    _, client = mock
    redirect = "http://127.0.0.1:9999/cb"
    page = _page(client, redirect)
    assert _decide(client, {"redirect_uri": redirect, "state": "s1"}).status_code == 403  # cross-site POST: no token
    assert _decide(client, {"redirect_uri": redirect, "state": "s1", "form_token": "1.abc"}).status_code == 403
    # bound to the request: another state or redirect with this page's token gets no code
    assert _decide(client, {"redirect_uri": redirect, "state": "other", "form_token": _token(page)}).status_code == 403
    assert _decide(client, {"redirect_uri": "http://127.0.0.1:9999/evil", "state": "s1", "form_token": _token(page)}).status_code == 403
    ok = _decide(client, {"redirect_uri": redirect, "state": "s1", "form_token": _token(page)})
    assert ok.status_code == 302 and "code=" in ok.headers["location"]


def test_approval_post_checks_origin_and_host(mock):
    _, client = mock
    redirect = "http://127.0.0.1:9999/cb"
    form = {"redirect_uri": redirect, "state": "s1", "form_token": _token(_page(client, redirect))}
    foreign = client.post("/oauth/authorize", data={"client_id": DEFAULT_CLIENT_ID, "decision": "allow", **form}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403 and foreign.json()["error"]["type"] == "Forbidden"
    rebound = client.post("/oauth/authorize", data={"client_id": DEFAULT_CLIENT_ID, "decision": "allow", **form}, headers={"Host": "evil.example:8000"})
    assert rebound.status_code == 403
    same = client.post("/oauth/authorize", data={"client_id": DEFAULT_CLIENT_ID, "decision": "allow", **form}, headers={"Origin": "http://127.0.0.1:8000"})
    assert same.status_code == 302


def test_replay_revocation_survives_a_restart(index, tmp_path):
    settings = Settings(seed=3, data=str(tmp_path / "s.sqlite"), index_cache=False, rate_limit=0)
    redirect = "http://127.0.0.1:9999/cb"
    creds = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET, "grant_type": "authorization_code", "redirect_uri": redirect}
    app = create_app(settings, index=index)
    with TestClient(app, base_url="http://127.0.0.1:8000", follow_redirects=False) as client:
        page = _page(client, redirect)
        r = _decide(client, {"redirect_uri": redirect, "state": "s1", "form_token": _token(page)})
        code = parse_qs(urlsplit(r.headers["location"]).query)["code"][0]
        tokens = client.post("/oauth/token", data={**creds, "code": code}).json()
        bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert client.get("/api/v4/users/who_am_i.json", headers=bearer).status_code == 200
        assert client.post("/oauth/token", data={**creds, "code": code}).json()["error"] == "invalid_grant"  # the replay
        assert client.get("/api/v4/users/who_am_i.json", headers=bearer).status_code == 401
    app.state.store.close()
    again = build_state(settings, index)
    with pytest.raises(Exception):
        again.oauth.authenticate(bearer["Authorization"], again.clock.time())
    assert again.oauth.grants[max(again.oauth.grants)].revoked
    again.store.close()
