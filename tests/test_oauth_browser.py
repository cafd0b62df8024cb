"""The OAuth approval page in a real browser: headless Chromium (Debian's /usr/bin/chromium)
driven by Playwright against `clio-mock serve` in a subprocess.

Covers what a person does: pick a user to act as, click Allow or Deny, and land on the
app's redirect URI (a tiny callback server here) or on the mock's own out-of-band page.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from conftest import CHROMIUM, chromium, free_port, serve

if not CHROMIUM.exists():
    pytest.skip(f"headless Chromium is expected at {CHROMIUM} (Debian package 'chromium')", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the 'playwright' package is not installed")

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"
CLIENT_ID = "clio-mock-app-key"
CLIENT_SECRET = "clio-mock-app-secret"
TIMEOUT_MS = 20_000


# ---------------------------------------------------------------------------- servers


@pytest.fixture(scope="module")
def mock_url(spec_path):
    """`clio-mock serve` on a free loopback port, always terminated."""
    with serve("--spec", str(spec_path), "--seed", "42") as url:
        yield url


class _Callback(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        body = b"ok"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def callback_url():
    """A client app's redirect URI: a small HTTP server answering 200 "ok"."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Callback)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/callback"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------------------- browser


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 700})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def authorize_url(mock_url: str, redirect_uri: str) -> str:
    query = {"client_id": CLIENT_ID, "response_type": "code", "redirect_uri": redirect_uri,
             "state": "xyz", "redirect_on_decline": "true"}
    return f"{mock_url}/oauth/authorize?{urlencode(query)}"


def open_approval_page(page, mock_url: str, redirect_uri: str):
    response = page.goto(authorize_url(mock_url, redirect_uri))
    assert response is not None and response.status == 200, response and response.text()
    assert page.title() == "Authorize clio-mock default app"
    return page


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


# ---------------------------------------------------------------------------- tests


def test_allow_redirects_with_code_for_the_chosen_user(page, mock_url, callback_url):
    open_approval_page(page, mock_url, callback_url)
    options = page.locator("#user option")
    assert options.count() >= 2, "the approval page should offer more than one user to act as"
    chosen = options.nth(1).get_attribute("value")
    label = options.nth(1).inner_text()
    page.select_option("#user", chosen)
    assert page.input_value("#user") == chosen

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "oauth-approval.png"), full_page=True)

    with page.expect_navigation(url=f"{callback_url}?**"):
        page.click("#allow")
    assert page.url.startswith(callback_url + "?")
    assert page.locator("body").inner_text().strip() == "ok"
    query = query_of(page.url)
    assert query["state"] == ["xyz"]
    assert "error" not in query
    (code,) = query["code"]

    token = httpx.post(f"{mock_url}/oauth/token", data={
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "authorization_code",
        "code": code, "redirect_uri": callback_url,
    }, timeout=10)
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]

    me = httpx.get(f"{mock_url}/api/v4/users/who_am_i.json", params={"fields": "id,name"},
                   headers={"Authorization": f"Bearer {access}"}, timeout=10)
    assert me.status_code == 200, me.text
    user_id = int(chosen.split(":", 1)[1])
    assert me.json()["data"]["id"] == user_id
    assert me.json()["data"]["name"] in label


def test_deny_redirects_with_access_denied(page, mock_url, callback_url):
    open_approval_page(page, mock_url, callback_url)
    with page.expect_navigation(url=f"{callback_url}?**"):
        page.click("#deny")
    query = query_of(page.url)
    assert query == {"error": ["access_denied"], "state": ["xyz"]}


def test_out_of_band_allow_shows_code_in_title(page, mock_url):
    approval = f"{mock_url}/oauth/approval"
    open_approval_page(page, mock_url, approval)
    with page.expect_navigation(url=f"{approval}?**"):
        page.click("#allow")
    title = page.title()
    assert title.startswith("Success code="), title
    code = title.removeprefix("Success code=")
    assert code and query_of(page.url)["code"] == [code]

    token = httpx.post(f"{mock_url}/oauth/token", data={
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "authorization_code",
        "code": code, "redirect_uri": approval,
    }, timeout=10)
    assert token.status_code == 200, token.text
    assert token.json()["access_token"]


def test_out_of_band_deny_shows_failure_in_title(page, mock_url):
    approval = f"{mock_url}/oauth/approval"
    open_approval_page(page, mock_url, approval)
    with page.expect_navigation(url=f"{approval}?**"):
        page.click("#deny")
    assert page.title() == "Failure error=access_denied"
