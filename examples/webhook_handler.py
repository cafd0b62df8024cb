"""How an integration should accept a Clio webhook: verify the signature, then trust the body."""

from __future__ import annotations

import hashlib
import hmac
import json


def verify_signature(shared_secret: str, raw_body: bytes, signature: str | None) -> bool:
    """``X-Hook-Signature`` is the hex HMAC-SHA256 of the raw body, keyed with the secret.
    Compare in constant time, and over the raw bytes (re-serialised JSON would differ)."""
    if not signature:
        return False
    expected = hmac.new(shared_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def handle(shared_secret: str, raw_body: bytes, headers: dict[str, str]) -> dict | None:
    """The event, or None when the request is not from the webhook's sender."""
    if not verify_signature(shared_secret, raw_body, headers.get("x-hook-signature")):
        return None
    payload = json.loads(raw_body)
    return {"event": payload["meta"]["event"], "record": payload["data"]}
