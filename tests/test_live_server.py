"""The README flow over real HTTP: `clio-mock serve` in a subprocess on a loopback port."""

from __future__ import annotations

import httpx
import pytest
from conftest import serve


@pytest.fixture(scope="module")
def live_url(spec_path):
    with serve("--spec", str(spec_path), "--seed", "42") as url:
        yield url


def test_readme_flow(live_url):
    auth = {"Authorization": "Bearer dev"}
    with httpx.Client(base_url=live_url, headers=auth, timeout=10) as c:
        r = c.get("/api/v4/matters.json", params={"fields": "id,display_number,client{id,name}", "limit": 5})
        assert r.status_code == 200 and len(r.json()["data"]) == 5
        assert r.json()["meta"]["paging"]["next"].startswith(f"{live_url}/api/v4/matters.json?")
        created = c.post("/api/v4/contacts.json", json={"data": {"type": "Company", "name": "Acme LLP"}}, params={"fields": "id,name"})
        assert created.status_code == 201
        cid = created.json()["data"]["id"]
        assert c.get(f"/api/v4/contacts/{cid}").json()["data"]["id"] == cid
        assert c.patch(f"/api/v4/contacts/{cid}.json", json={"data": {"name": "Acme LLC"}}, params={"fields": "name"}).json()["data"]["name"] == "Acme LLC"
        assert c.delete(f"/api/v4/contacts/{cid}.json").status_code == 204
        assert c.get(f"/api/v4/contacts/{cid}.json").status_code == 404
        assert httpx.get(f"{live_url}/api/v4/matters.json").status_code == 401
