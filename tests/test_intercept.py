"""In-process interception: requests to Clio's hosts reach the mock unchanged, other hosts pass or are refused."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import httpx
import pytest
import requests

import mockserver
from mockserver.testing.intercept import Interceptor, clio_hosts

AUTH = {"Authorization": "Bearer dev"}
WHO = "https://app.clio.com/api/v4/users/who_am_i.json"
CONTACT = {"data": {"type": "Person", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"}}


@pytest.fixture
def intercepted(app):
    with Interceptor(app=app) as interceptor:
        yield interceptor


def test_the_hosts_are_the_specs_servers(index):
    assert clio_hosts(index) == ["app.clio.com", "eu.app.clio.com", "ca.app.clio.com", "au.app.clio.com"]


def test_settings_are_checked():
    with pytest.raises(ValueError, match="regions"):
        mockserver.intercept(regions="merged")
    with pytest.raises(ValueError, match="other_hosts"):
        mockserver.intercept(other_hosts="drop")


def test_httpx_client_made_before_the_switch_is_intercepted(app):
    client = httpx.Client(headers=AUTH)
    real = httpx.HTTPTransport.handle_request
    with Interceptor(app=app) as clio:
        assert client.get(WHO).status_code == 200
        assert [e.path for e in clio.requests("GET")] == ["/api/v4/users/who_am_i.json"]
    assert httpx.HTTPTransport.handle_request is real  # switched off again


def test_requests_create_read_and_follow_the_download_redirect(intercepted):
    created = requests.post("https://app.clio.com/api/v4/contacts.json?fields=id,name", json=CONTACT, headers=AUTH)
    assert created.status_code == 201
    assert intercepted.state.store.accounts[1].table("Contact").get(created.json()["data"]["id"]) is not None
    download = requests.get("https://app.clio.com/api/v4/documents/1/download.json", headers=AUTH)
    assert [r.status_code for r in download.history] == [303]
    assert download.url.startswith("https://app.clio.com/__mock__/files/")
    assert download.content.startswith(b"clio-mock file content")


def test_async_httpx_client(intercepted):
    async def main():
        async with httpx.AsyncClient(headers=AUTH) as client:
            return await client.get(WHO), await client.get("https://app.clio.com/api/v4/matters.json", params={"limit": 2})

    who, page = asyncio.run(main())
    assert who.status_code == 200
    assert page.json()["meta"]["paging"]["next"].startswith("https://app.clio.com/api/v4/matters.json?")


def test_oauth_redirect_comes_back_to_the_client(intercepted):
    intercepted.state.oauth.config.auto_approve = True
    response = httpx.get("https://app.clio.com/oauth/authorize", params={
        "client_id": "clio-mock-app-key", "response_type": "code", "redirect_uri": "http://127.0.0.1:3000/cb", "state": "xyz"})
    assert response.status_code == 302 and response.headers["location"].startswith("http://127.0.0.1:3000/cb?code=")


def test_regions_are_separate_by_default(intercepted):
    token = intercepted.token()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert requests.get(WHO, headers=bearer).status_code == 200
    assert requests.get("https://eu.app.clio.com/api/v4/users/who_am_i.json", headers=bearer).status_code == 401
    created = requests.post("https://eu.app.clio.com/api/v4/contacts.json", json=CONTACT, headers=AUTH).json()["data"]
    assert intercepted.app_for("eu.app.clio.com").state.store.accounts[1].table("Contact").get(created["id"]) is not None
    assert intercepted.app_for("eu.app.clio.com") is not intercepted.app


def test_shared_regions_are_one_mock(app):
    with Interceptor(app=app, regions="shared") as clio:
        token = clio.token()["access_token"]
        assert requests.get("https://au.app.clio.com/api/v4/users/who_am_i.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        assert clio.app_for("au.app.clio.com") is clio.app


def test_other_hosts_pass_through_by_default(intercepted, clio_mock):
    assert httpx.get(f"{clio_mock.url}/__mock__/health").status_code == 200
    assert requests.get(f"{clio_mock.url}/__mock__/health").status_code == 200
    assert intercepted.requests() == []  # the live mock answered, not the intercepted one


def test_another_mocking_library_keeps_the_other_hosts(app):
    """Started before the switch, a ``responses`` mock still answers the hosts it mocks: other
    hosts are handed to whatever ``HTTPAdapter.send`` was when interception began."""
    responses = pytest.importorskip("responses")
    with responses.RequestsMock() as mocked:
        mocked.get("https://api.example.test/ping", json={"pong": True})
        with Interceptor(app=app):
            assert requests.get("https://api.example.test/ping").json() == {"pong": True}
            assert requests.get(WHO, headers=AUTH).status_code == 200


def test_other_clio_hosts_are_never_sent_to_clio(intercepted):
    with pytest.raises(httpx.ConnectError, match="api.clio.com"):
        httpx.get("https://api.clio.com/v1/anything")
    with pytest.raises(requests.ConnectionError, match="refused rather than sent to Clio"):
        requests.get("https://developers.clio.com/")


def test_refuse_other_hosts_with_the_clients_own_error(app, clio_mock):
    with Interceptor(app=app, other_hosts="refuse", allow=()):
        with pytest.raises(httpx.ConnectError, match="refused"):
            httpx.get(f"{clio_mock.url}/__mock__/health")
        with pytest.raises(requests.ConnectionError, match="refused"):
            requests.get(f"{clio_mock.url}/__mock__/health")

        async def main():
            async with httpx.AsyncClient() as client:
                await client.get("http://example.test/")

        with pytest.raises(httpx.ConnectError):
            asyncio.run(main())
        assert requests.get(WHO, headers=AUTH).status_code == 200  # Clio's hosts still answer


def test_refusing_still_allows_loopback_by_default(app, clio_mock):
    with Interceptor(app=app, other_hosts="refuse"):
        assert httpx.get(f"{clio_mock.url}/__mock__/health").status_code == 200


def test_builds_its_own_mock_from_settings(spec_path):
    from mockserver.config import Settings

    with mockserver.intercept(Settings(spec=str(spec_path), rate_limit=0), seed=7) as clio:  # keywords override
        assert requests.get(WHO, headers=AUTH).status_code == 200
        assert clio.state.settings.seed == 7
    assert [e.path for e in clio.requests()] == ["/api/v4/users/who_am_i.json"]  # still readable afterwards


def test_as_a_decorator_sync_and_async(app):
    interceptor = Interceptor(app=app)

    @interceptor
    def sync_call() -> int:
        return requests.get(WHO, headers=AUTH).status_code

    @interceptor
    async def async_call() -> int:
        async with httpx.AsyncClient(headers=AUTH) as client:
            return (await client.get(WHO)).status_code

    real = requests.adapters.HTTPAdapter.send, httpx.AsyncHTTPTransport.handle_async_request
    assert sync_call() == 200
    assert asyncio.run(async_call()) == 200
    assert (requests.adapters.HTTPAdapter.send, httpx.AsyncHTTPTransport.handle_async_request) == real  # off between calls


def test_clio_mock_intercept_shares_the_fixtures_state(clio_mock, clio_records):
    matter = clio_records.matter(description="Shared through interception")
    with clio_mock.intercept():
        found = requests.get(f"https://app.clio.com/api/v4/matters/{matter['id']}.json", params={"fields": "description"}, headers=AUTH)
    assert found.json()["data"]["description"] == "Shared through interception"
    assert clio_mock.requests("GET", "/api/v4/matters/*")


def test_clio_intercept_fixture(clio_intercept):
    assert httpx.get(WHO, headers=AUTH).status_code == 200
    assert len(clio_intercept.requests("GET")) == 1


@pytest.mark.clio_intercept(regions="shared", seed=43)
def test_clio_intercept_marker_needs_no_fixture(request):
    assert requests.get("https://ca.app.clio.com/api/v4/users/who_am_i.json", headers=AUTH).status_code == 200
    assert request.getfixturevalue("clio_intercept").state.settings.seed == 43


def test_authlib_session_refreshes_through_interception(clio_intercept):
    """authlib's requests OAuth2Session: a real OAuth client library, unchanged."""
    oauth2 = pytest.importorskip("authlib.integrations.requests_client")
    token = clio_intercept.token()
    session = oauth2.OAuth2Session("clio-mock-app-key", "clio-mock-app-secret", token=token)
    refreshed = session.refresh_token("https://app.clio.com/oauth/token", refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    assert session.get(WHO).status_code == 200


def test_importing_mockserver_stays_cheap():
    code = "import sys, mockserver; print('httpx' in sys.modules, 'mockserver.app' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def _readme_python_blocks(heading: str) -> list[str]:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split(heading, 1)[1].split("\n### ", 1)[0]
    return [block.split("```", 1)[0] for block in section.split("```python\n")[1:]]


def test_the_readmes_in_process_example_runs(monkeypatch):
    from pathlib import Path

    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # the example's spec path is the README's
    blocks = _readme_python_blocks("### In-process")
    assert len(blocks) == 2
    exec(compile(blocks[0], "README.md", "exec"), {})


def test_the_readmes_third_party_example_passes(clio_intercept):
    pytest.importorskip("clio_manage_python_client")
    namespace: dict = {}
    exec(compile(_readme_python_blocks("### In-process")[1], "README.md", "exec"), namespace)
    namespace["test_third_party_client"](clio_intercept)


def test_works_without_requests_installed(spec_path):
    """requests is optional: without it, interception still covers httpx."""
    code = (
        "import sys; sys.modules['requests'] = None\n"  # import requests -> ImportError
        "import httpx, mockserver\n"
        f"with mockserver.intercept(spec={str(spec_path)!r}, rate_limit=0):\n"
        "    print(httpx.get('https://app.clio.com/api/v4/users/who_am_i.json', headers={'Authorization': 'Bearer dev'}).status_code)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == "200"
