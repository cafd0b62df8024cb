"""The dashboard in a real browser: headless Chromium (Debian's /usr/bin/chromium) driven by
Playwright against `clio-mock serve` in a subprocess.

A scripted run of API calls (a contact and a matter, a failing request, a webhook with
deliveries to a local receiver, a fault, a clock change, a token) and then each panel shows what
it just did; then faults, the clock and reset are driven from the page and checked through the
API. Screenshots of each panel land in test-artifacts/ (gitignored); the page must log no
console error (a CSP violation would be one).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import CHROMIUM, chromium, serve

if not CHROMIUM.exists():
    pytest.skip(f"headless Chromium is expected at {CHROMIUM} (Debian package 'chromium')", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the 'playwright' package is not installed")
expect = sync_api.expect

from mockserver.testing.pytest_plugin import WebhookReceiver  # noqa: E402 (after the skips)

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
UI = "/__mock__/ui"
TIMEOUT_MS = 20_000
BASE = "http://localhost:8123"  # the off-loopback test: routed to an in-process app, never connected to
SERVE_ARGS = ("--seed", "42", "--rate-limit", "0", "--webhook-allow-http", "--webhook-time-scale", "0.001")


def _wait(predicate, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Run:
    """What the scripted run did, for the panels to show."""

    url: str
    contact: dict
    matter: dict
    hook: dict
    receiver: WebhookReceiver
    signature: str
    fault: dict
    token: dict


@pytest.fixture(scope="module")
def receiver():
    r = WebhookReceiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture(scope="module")
def run(spec_path, receiver):
    """`clio-mock serve`, then the scripted run of API calls against it."""
    with serve("--spec", str(spec_path), *SERVE_ARGS) as url:
        with httpx.Client(base_url=f"{url}/api/v4", headers={"Authorization": "Bearer dev"}, timeout=10) as api:
            contact = api.post("/contacts.json", params={"fields": "id,name"},
                               json={"data": {"type": "Person", "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace"}})
            assert contact.status_code == 201, contact.text
            hook = api.post("/webhooks.json", params={"fields": "id,url,status"}, json={"data": {
                "url": receiver.url, "model": "matter", "fields": "id,display_number,description", "events": ["created", "updated"]}})
            assert hook.status_code == 201, hook.text
            receiver.wait_for(1, handshakes=True)
            _wait(lambda: api.get(f"/webhooks/{hook.json()['data']['id']}.json", params={"fields": "status"}).json()["data"]["status"] == "enabled", what="webhook enabled")
            matter = api.post("/matters.json", params={"fields": "id,display_number,description"},
                              json={"data": {"description": "Lovelace v. Babbage", "client": {"id": contact.json()["data"]["id"]}}})
            assert matter.status_code == 201, matter.text
            delivery = receiver.wait_for(1)[0]
            _wait(lambda: any(d.get("outcome") == "delivered" for d in httpx.get(f"{url}/__mock__/webhooks/deliveries").json()["data"]), what="delivery recorded")
            assert api.get("/matters/999999999.json").status_code == 404  # the failing request
            fault = httpx.post(f"{url}/__mock__/faults", json={"kind": "status", "path": "/api/v4/activities*", "status": 503}).json()
            assert api.get("/activities.json").status_code == 503
            assert httpx.post(f"{url}/__mock__/clock", json={"at": "2030-01-02T03:04:05Z"}).json()["frozen"] is True
            token = httpx.post(f"{url}/__mock__/tokens", json={}).json()
        yield Run(url, contact.json()["data"], matter.json()["data"], hook.json()["data"], receiver,
                  delivery.headers["x-hook-signature"], fault, token)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors  # a test that provokes an error takes its own out
    try:
        yield pg
        assert errors == [], f"console errors (a CSP violation?): {errors}"
    finally:
        context.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


# ---------------------------------------------------------------------------- each panel shows the run


def test_firms_panel(page, run):
    page.goto(run.url + "/")
    page.click(f'a[href="{UI}"]')
    expect(page.locator("#firms")).to_contain_text("Mock Law LLP")
    shot(page, "firms")
    page.click("#firms a")
    expect(page.locator("h1")).to_have_text("Mock Law LLP")
    expect(page.locator("#models")).to_contain_text("Matter")
    expect(page.locator("#models")).to_contain_text("Webhook")


def test_records_panel_search_and_record_json(page, run):
    page.goto(f"{run.url}{UI}/firms/1/Matter")
    expect(page.locator("#records tbody tr").first).to_be_visible()
    assert page.locator("#records tbody tr").count() > 1
    shot(page, "records-list")
    page.fill('input[name="q"]', "Lovelace v. Babbage")
    page.click('form[role="search"] button[type=submit]')
    rows = page.locator("#records tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(run.matter["display_number"])
    shot(page, "records")
    rows.first.locator("a").click()
    expect(page.locator("h1")).to_have_text(f"Matter {run.matter['id']}")
    record = page.locator("#record-json")
    expect(record).to_contain_text('"description": "Lovelace v. Babbage"')
    expect(record).to_contain_text('"name": "Ada Lovelace"')  # the client, with its fields
    page.click(f'a[href="{UI}/firms/1/Contact/{run.contact["id"]}"]')
    expect(page.locator("#record-json")).to_contain_text('"first_name": "Ada"')
    page.go_back()
    shot(page, "record")


def test_journal_panel_filters_and_goes_live(page, run):
    page.goto(f"{run.url}{UI}/journal")
    entries = page.locator("#journal-entries details.entry")
    expect(entries.filter(has_text="/api/v4/contacts.json").first).to_contain_text("201")
    expect(entries.filter(has_text="/api/v4/matters/999999999.json")).to_contain_text("404")
    expect(entries.filter(has_text="/api/v4/activities.json")).to_contain_text("503")
    posted = entries.filter(has_text="/api/v4/contacts.json").filter(has_text="POST").first
    posted.locator("summary").click()
    expect(posted.locator(".request-body")).to_contain_text('"name": "Ada Lovelace"')
    expect(posted.locator(".response-body")).to_contain_text(f'"id": {run.contact["id"]}')  # the journal keeps the answer too
    shot(page, "journal")

    page.fill('input[name="status"]', "404")
    page.click("#journal-filter button[type=submit]")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("999999999")
    page.click("text=Clear filter")

    # Live: a request made now shows up without reloading the page.
    page.evaluate("window.__still_here = true")
    before = entries.count()
    httpx.get(f"{run.url}/api/v4/users/who_am_i.json", headers={"Authorization": "Bearer dev"}, timeout=10)
    expect(entries.first).to_contain_text("/api/v4/users/who_am_i.json", timeout=10_000)
    assert entries.count() == before + 1
    assert page.evaluate("window.__still_here") is True


def test_webhooks_panel_shows_subscription_and_signed_deliveries(page, run):
    page.goto(f"{run.url}{UI}/webhooks")
    subscription = page.locator("#subscriptions tbody tr").filter(has_text=run.receiver.url)
    expect(subscription).to_contain_text("enabled")
    expect(subscription).to_contain_text("matter")
    attempts = page.locator("#deliveries details.entry")
    expect(attempts.filter(has_text="handshake")).to_have_count(1)
    created = attempts.filter(has_text="created").first
    expect(created).to_contain_text("delivered")
    created.locator("summary").click()
    expect(created.locator(".signature")).to_have_text(run.signature)
    expect(created.locator(".payload")).to_contain_text(run.matter["display_number"])
    expect(created.locator(".payload")).to_contain_text('"event": "created"')
    shot(page, "webhooks")


def test_faults_and_clock_panel_shows_the_run(page, run):
    page.goto(f"{run.url}{UI}/faults")
    fault = page.locator("#faults tbody tr").first
    expect(fault).to_contain_text("/api/v4/activities*")
    expect(fault).to_contain_text("503")
    expect(page.locator("#clock-state")).to_contain_text("frozen")
    expect(page.locator("#clock-now")).to_contain_text("2030-01-0")
    shot(page, "faults")


def test_oauth_panel_shows_hints_only(page, run):
    page.goto(f"{run.url}{UI}/oauth")
    expect(page.locator("#apps")).to_contain_text("clio-mock-app-key")
    expect(page.locator("#tokens")).to_contain_text(run.token["access_token"][:4])
    content = page.content()
    assert run.token["access_token"] not in content and run.token["refresh_token"] not in content
    shot(page, "oauth")


# ---------------------------------------------------------------------------- writes from the page


@pytest.fixture
def scratch(spec_path):
    """A server of its own for the tests that change state from the page."""
    with serve("--spec", str(spec_path), *SERVE_ARGS) as url:
        yield url


def test_set_and_clear_a_fault_and_the_clock_from_the_page(page, scratch):
    page.goto(f"{scratch}{UI}/faults")
    form = page.locator("#add-fault")
    form.locator('select[name="kind"]').select_option("status")
    form.locator('input[name="path"]').fill("/api/v4/practice_areas*")
    form.locator('input[name="status"]').fill("418")
    form.locator('input[name="count"]').fill("5")
    form.locator("button[type=submit]").click()
    expect(page.locator("#faults tbody tr").first).to_contain_text("/api/v4/practice_areas*")
    expect(page.locator("#flash")).to_have_text("Fault added")
    (added,) = httpx.get(f"{scratch}/__mock__/faults").json()["data"]
    assert (added["path"], added["status"], added["count"]) == ("/api/v4/practice_areas*", 418, 5)
    areas = f"{scratch}/api/v4/practice_areas.json"
    assert httpx.get(areas, headers={"Authorization": "Bearer dev"}).status_code == 418
    page.click("#clear-faults")
    expect(page.locator("#faults")).to_contain_text("No faults")
    assert httpx.get(f"{scratch}/__mock__/faults").json()["data"] == []
    assert httpx.get(areas, headers={"Authorization": "Bearer dev"}).status_code == 200

    page.fill('#clock-at input[name="at"]', "2031-06-01T12:00:00Z")
    page.click("#clock-at button")
    expect(page.locator("#clock-state")).to_contain_text("frozen")
    clock = httpx.get(f"{scratch}/__mock__/clock").json()
    assert clock["frozen"] is True and clock["now"].startswith("2031-06-01")
    page.click("#clock-reset")
    expect(page.locator("#clock-state")).to_contain_text("real time")
    assert httpx.get(f"{scratch}/__mock__/clock").json()["frozen"] is False

    # A value the API refuses (past the browser's own checks): its error is shown, nothing is added.
    page.locator('#add-fault input[name="probability"]').evaluate("el => el.removeAttribute('max')")
    page.fill('#add-fault input[name="probability"]', "5")
    page.click("#add-fault button[type=submit]")
    expect(page.locator("#flash")).to_contain_text("HTTP 400: probability must be between 0 and 1")
    page.console_errors.remove("Failed to load resource: the server responded with a status of 400 (Bad Request)")
    assert httpx.get(f"{scratch}/__mock__/faults").json()["data"] == []


def test_reset_from_the_page(page, scratch):
    made = httpx.post(f"{scratch}/api/v4/contacts.json", headers={"Authorization": "Bearer dev"}, timeout=10,
                      json={"data": {"type": "Company", "name": "Gone Soon Ltd"}}).json()["data"]
    page.goto(f"{scratch}{UI}/journal")
    expect(page.locator("#journal-entries")).to_contain_text("/api/v4/contacts.json")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("header button:has-text('Reset')")
    expect(page.locator("#flash")).to_have_text("Reset done")
    expect(page.locator("#journal-empty")).to_be_visible()
    gone = httpx.get(f"{scratch}/api/v4/contacts/{made['id']}.json", headers={"Authorization": "Bearer dev"}, timeout=10)
    assert gone.status_code == 404


# ---------------------------------------------------------------------------- off loopback


def test_sign_in_off_loopback_then_write_with_the_cookie(browser, index):
    """A mock that believes it is bound to every address, served in-process: the browser's
    requests to BASE are answered by the app through Playwright's routing (no connection is made;
    a loopback name, so Host and Origin checks see a name the mock always answers to)."""
    from starlette.testclient import TestClient

    from mockserver.app import create_app
    from mockserver.config import Settings

    app = create_app(Settings(seed=42, rate_limit=0, host="0.0.0.0", admin_token="s3cret-token"), index=index)
    with TestClient(app, base_url=BASE, follow_redirects=False) as client:

        def answer(route):
            request = route.request
            client.cookies.clear()  # the browser's own Cookie header is the only one that counts
            headers = {k: v for k, v in request.all_headers().items() if not k.startswith(":")}
            response = client.request(request.method, request.url, headers=headers, content=request.post_data_buffer)
            route.fulfill(status=response.status_code, body=response.content,
                          headers={k: v for k, v in response.headers.items() if k not in ("content-length", "content-encoding")})

        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(TIMEOUT_MS)
        context.route(f"{BASE}/**", answer)
        page = context.new_page()
        try:
            response = page.goto(f"{BASE}{UI}/faults")
            assert response is not None and response.status == 401
            expect(page.locator("h1")).to_have_text("Sign in to the dashboard")
            assert "Mock Law LLP" not in page.content()
            page.fill('input[name="token"]', "not-it")
            page.click("button[type=submit]")
            expect(page.locator(".error-text")).to_have_text("That is not the admin token.")
            shot(page, "login")
            page.fill('input[name="token"]', "s3cret-token")
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("Faults and clock")
            assert page.url == f"{BASE}{UI}/faults"
            (cookie,) = context.cookies()
            assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict" and cookie["value"] != "s3cret-token"
            assert page.evaluate("document.cookie") == ""  # out of reach of scripts
            # The page's write goes through the control API on the cookie.
            page.fill('#add-fault input[name="path"]', "/api/v4/tasks*")
            page.click("#add-fault button[type=submit]")
            expect(page.locator("#faults tbody tr").first).to_contain_text("/api/v4/tasks*")
            assert [f.path for f in app.state.faults.active] == ["/api/v4/tasks*"]
            page.click("header button:has-text('Sign out')")
            expect(page.locator("h1")).to_have_text("Sign in to the dashboard")
            assert context.cookies() == []
        finally:
            context.close()
