"""The example webhook handler against deliveries from clio-mock (plugin fixtures only)."""

from __future__ import annotations

import httpx
from webhook_handler import handle


def test_handler_accepts_real_deliveries_and_rejects_forgeries(clio_mock, clio_auth_headers, clio_webhook_receiver, clio_records):
    api = httpx.Client(base_url=clio_mock.api_url, headers=clio_auth_headers)
    hook = api.post("/webhooks.json", params={"fields": "id,shared_secret"}, json={"data": {
        "url": clio_webhook_receiver.url, "model": "matter", "fields": "id,display_number,status", "events": ["created"]}}).json()["data"]
    clio_mock.settle_webhooks()  # the handshake ran: the receiver echoed X-Hook-Secret, so it is enabled
    matter = clio_records.matter(description="Webhook demo")
    delivery = clio_webhook_receiver.wait_for(1)[0]
    event = handle(hook["shared_secret"], delivery.raw, delivery.headers)
    assert event == {"event": "created", "record": {"id": matter["id"], "display_number": matter["display_number"], "status": "Open"}}
    assert handle("some-other-secret", delivery.raw, delivery.headers) is None
    assert handle(hook["shared_secret"], delivery.raw.replace(b"Open", b"Closed"), delivery.headers) is None
