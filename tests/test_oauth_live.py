"""authorize -> token -> API -> refresh -> deauthorize -> 401, over real HTTP against a live server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
from conftest import serve

from mockserver.clio.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET


def test_end_to_end_over_http(spec_path):
    with serve("--spec", str(spec_path)) as url:
        redirect = "http://127.0.0.1:8765/callback"
        with httpx.Client(base_url=url, timeout=10) as c:
            page = c.get("/oauth/authorize", params={"client_id": DEFAULT_CLIENT_ID, "response_type": "code", "redirect_uri": redirect, "state": "abc"})
            assert page.status_code == 200 and 'id="allow"' in page.text
            token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
            decided = c.post("/oauth/authorize", data={"client_id": DEFAULT_CLIENT_ID, "redirect_uri": redirect, "state": "abc", "decision": "allow", "form_token": token})
            assert decided.status_code == 302
            query = parse_qs(urlsplit(decided.headers["location"]).query)
            assert query["state"] == ["abc"]
            creds = {"client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET}
            tokens = c.post("/oauth/token", data={**creds, "grant_type": "authorization_code", "code": query["code"][0], "redirect_uri": redirect}).json()
            bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
            r = c.get("/api/v4/matters.json", headers=bearer, params={"limit": 2})
            assert r.status_code == 200 and int(r.headers["x-ratelimit-limit"]) == 50
            assert c.post("/api/v4/contacts.json", headers=bearer, json={"data": {"type": "Company", "name": "Flow LLP"}}).status_code == 201
            refreshed = c.post("/oauth/token", data={**creds, "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}).json()
            bearer = {"Authorization": f"Bearer {refreshed['access_token']}"}
            assert c.get("/api/v4/users/who_am_i.json", headers=bearer).status_code == 200
            out = c.post("/oauth/deauthorize", headers=bearer, data={"token": refreshed["access_token"]})
            assert out.status_code == 200 and out.content == b""
            gone = c.get("/api/v4/matters.json", headers=bearer)
            assert gone.status_code == 401 and gone.json()["error"] == "invalid_token"
