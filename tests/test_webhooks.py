"""Webhooks end to end over real HTTP: validation, handshake, delivery, signature, retry,
disable on 410, expiry. Uses the plugin's live mock and webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import time

import httpx
import pytest


@pytest.fixture
def api(clio_mock, clio_auth_headers):
    with httpx.Client(base_url=clio_mock.api_url, headers=clio_auth_headers, timeout=10) as client:
        yield client


def _webhook(api, url, **data):
    body = {"data": {"url": url, "model": "contact", "fields": "id,etag,name", "events": ["created", "updated", "deleted"], **data}}
    r = api.post("/webhooks.json", json=body, params={"fields": "id,status,shared_secret,expires_at,created_at,events"})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def _enabled(api, clio_webhook_receiver):
    hook = _webhook(api, clio_webhook_receiver.url)
    clio_webhook_receiver.wait_for(1, handshakes=True)
    _wait(lambda: api.get(f"/webhooks/{hook['id']}.json", params={"fields": "status"}).json()["data"]["status"] == "enabled")
    return hook


def _wait(predicate, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_validation(api):
    assert api.post("/webhooks.json", json={"data": {"url": "http://example.com/x", "model": "contact", "fields": "id"}}).status_code == 422
    assert api.post("/webhooks.json", json={"data": {"url": "https://127.0.0.1:9/x", "model": "contact", "fields": "id", "events": ["matter_opened"]}}).status_code == 422
    assert api.post("/webhooks.json", json={"data": {"url": "https://127.0.0.1:9/x", "model": "contact", "fields": "id," * 400}}).status_code == 422
    assert api.post("/webhooks.json", json={"data": {"url": "https://127.0.0.1:9/x", "model": "contact", "fields": "id,bogus"}}).status_code == 400
    far = "2099-01-01T00:00:00Z"
    assert api.post("/webhooks.json", json={"data": {"url": "https://127.0.0.1:9/x", "model": "contact", "fields": "id", "expires_at": far}}).status_code == 422


def test_defaults_pending_and_three_day_expiry(api):
    hook = _webhook(api, "https://127.0.0.1:9/hook")
    from datetime import datetime, timedelta

    assert hook["status"] == "pending" and len(hook["shared_secret"]) >= 16
    assert datetime.fromisoformat(hook["expires_at"]) - datetime.fromisoformat(hook["created_at"]) == timedelta(days=3)


def test_handshake_echo_enables_and_delivery_is_signed(api, clio_webhook_receiver):
    hook = _enabled(api, clio_webhook_receiver)
    handshake = clio_webhook_receiver.handshakes[0]
    assert handshake.headers["x-hook-secret"] == hook["shared_secret"]
    created = api.post("/contacts.json", json={"data": {"type": "Company", "name": "Hooked Ltd"}}).json()["data"]
    delivery = clio_webhook_receiver.wait_for(1)[0]
    assert delivery.json == {"data": {"id": created["id"], "etag": created["etag"], "name": "Hooked Ltd"}, "meta": {"event": "created", "webhook_id": hook["id"]}}
    expected = hmac.new(hook["shared_secret"].encode(), delivery.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.headers["x-hook-signature"], expected)


def test_unactivated_webhook_delivers_nothing_until_activate(api, clio_webhook_receiver):
    clio_webhook_receiver.echo_secret = False
    hook = _webhook(api, clio_webhook_receiver.url)
    clio_webhook_receiver.wait_for(1, handshakes=True)
    api.post("/contacts.json", json={"data": {"type": "Company", "name": "Quiet Co"}})
    time.sleep(0.3)
    assert clio_webhook_receiver.deliveries == []
    assert api.put(f"/webhooks/{hook['id']}/activate", headers={"X-Hook-Secret": "wrong"}).status_code == 422
    activated = api.put(f"/webhooks/{hook['id']}/activate.json", headers={"X-Hook-Secret": hook["shared_secret"]}, params={"fields": "status"})
    assert activated.json()["data"]["status"] == "enabled"
    api.post("/contacts.json", json={"data": {"type": "Company", "name": "Loud Co"}})
    assert clio_webhook_receiver.wait_for(1)[0].json["data"]["name"] == "Loud Co"


def test_updated_fires_on_watched_fields_and_deleted(api, clio_webhook_receiver):
    _enabled(api, clio_webhook_receiver)
    contact = api.post("/contacts.json", json={"data": {"type": "Company", "name": "Watch Co"}}).json()["data"]
    api.patch(f"/contacts/{contact['id']}.json", json={"data": {"title": "unwatched change"}})  # etag is watched: fires
    api.patch(f"/contacts/{contact['id']}.json", json={"data": {"name": "Watch Co 2"}})
    api.delete(f"/contacts/{contact['id']}.json")
    events = [d.json["meta"]["event"] for d in clio_webhook_receiver.wait_for(4)]
    assert events == ["created", "updated", "updated", "deleted"]


def test_unwatched_change_after_first_update_is_silent(api, clio_webhook_receiver):
    hook = _webhook(api, clio_webhook_receiver.url, fields="id,name")
    clio_webhook_receiver.wait_for(1, handshakes=True)
    _wait(lambda: api.get(f"/webhooks/{hook['id']}.json", params={"fields": "status"}).json()["data"]["status"] == "enabled")
    contact = api.post("/contacts.json", json={"data": {"type": "Company", "name": "Quiet Watch"}}).json()["data"]
    api.patch(f"/contacts/{contact['id']}.json", json={"data": {"title": "not watched"}})
    api.patch(f"/contacts/{contact['id']}.json", json={"data": {"name": "Renamed"}})
    got = clio_webhook_receiver.wait_for(2)
    time.sleep(0.2)
    assert [(d.json["meta"]["event"], d.json["data"]["name"]) for d in clio_webhook_receiver.deliveries] == [("created", "Quiet Watch"), ("updated", "Renamed")]
    assert len(got) == 2


def test_matter_status_events(api, clio_webhook_receiver, clio_records):
    hook = _webhook(api, clio_webhook_receiver.url, model="matter", fields="id,status", events=["matter_closed"])
    clio_webhook_receiver.wait_for(1, handshakes=True)
    _wait(lambda: api.get(f"/webhooks/{hook['id']}.json", params={"fields": "status"}).json()["data"]["status"] == "enabled")
    matter = clio_records.matter(status="open")
    api.patch(f"/matters/{matter['id']}.json", json={"data": {"status": "closed"}})
    delivery = clio_webhook_receiver.wait_for(1)[0]
    assert delivery.json["meta"]["event"] == "matter_closed" and delivery.json["data"]["status"] == "Closed"


def test_failures_are_retried_with_backoff(clio_mock, api, clio_webhook_receiver):
    hook = _enabled(api, clio_webhook_receiver)
    clio_webhook_receiver.status = 500
    api.post("/contacts.json", json={"data": {"type": "Company", "name": "Retry Co"}})
    clio_webhook_receiver.wait_for(3, timeout=10)
    clio_webhook_receiver.status = 200
    clio_webhook_receiver.wait_for(4, timeout=10)
    history = httpx.get(f"{clio_mock.url}/__mock__/webhooks/deliveries", params={"webhook_id": hook["id"]}).json()["data"]
    attempts = [h for h in history if h["event"] == "created"]
    assert [h["outcome"] for h in attempts] == ["failed", "failed", "failed", "delivered"]
    gaps = [h["retry_in_seconds"] for h in attempts[:3]]
    assert gaps[1] == 2 * gaps[0] and gaps[2] == 2 * gaps[1]  # Clio's doubling schedule, scaled


def test_410_disables(api, clio_webhook_receiver):
    hook = _enabled(api, clio_webhook_receiver)
    clio_webhook_receiver.status = 410
    api.post("/contacts.json", json={"data": {"type": "Company", "name": "Gone Co"}})
    clio_webhook_receiver.wait_for(1)
    _wait(lambda: api.get(f"/webhooks/{hook['id']}.json", params={"fields": "status"}).json()["data"]["status"] == "suspended")
    api.post("/contacts.json", json={"data": {"type": "Company", "name": "After Gone"}})
    time.sleep(0.3)
    assert len(clio_webhook_receiver.deliveries) == 1


def test_expired_webhooks_stop(clio_mock, api, clio_webhook_receiver):
    _enabled(api, clio_webhook_receiver)
    clio_mock.advance(3 * 86400 + 1)
    api.post("/contacts.json", json={"data": {"type": "Company", "name": "Too Late"}})
    time.sleep(0.3)
    assert clio_webhook_receiver.deliveries == []


def test_scenario_and_factory_writes_fire_too(api, clio_webhook_receiver, clio_records):
    _enabled(api, clio_webhook_receiver)
    clio_records.contact(first_name="Factory", last_name="Made")
    assert clio_webhook_receiver.wait_for(1)[0].json["data"]["name"] == "Factory Made"


def test_delivery_never_holds_up_the_request(api, clio_webhook_receiver):
    _enabled(api, clio_webhook_receiver)
    clio_webhook_receiver.delay = 1.0  # a receiver that takes a second to answer
    r = api.post("/contacts.json", json={"data": {"type": "Company", "name": "Fast Co"}})
    assert r.status_code == 201 and clio_webhook_receiver.deliveries == []  # answered before the receiver did
    assert clio_webhook_receiver.wait_for(1)[0].json["data"]["name"] == "Fast Co"
