"""Webhooks that fire, as Clio's do (BEHAVIOR.md section 11).

* Writes to ``/webhooks`` are checked by rules on the generic engine: the model, its events,
  ``fields`` (at most 1,000 characters, valid for the model), an https URL to a public host
  (:mod:`mockserver.clio.destinations`: no private, loopback or link-local address unless
  allowed; checked again before every request), ``expires_at`` defaulting to 3 days and at most 31 days ahead.
* A new webhook (or a new URL) is ``pending`` until the handshake: the mock POSTs the URL
  with ``X-Hook-Secret``; echoing it back in the response (200) enables the webhook, and so
  does ``PUT /api/v4/webhooks/{id}/activate`` with the secret later.
* The store tells this module about every created, updated and deleted record (API,
  control API, scenarios, factories). Enabled, unexpired webhooks of that firm and model
  get a delivery: the record rendered with the webhook's ``fields``, signed with
  ``X-Hook-Signature`` (hex HMAC-SHA256 of the raw body with the shared secret).
  ``updated`` fires only when a watched field changed, except the first time a webhook
  sends anything about a record. Matters add matter_opened/pended/closed on status changes.
* Deliveries run on a background thread, never in the request that caused them. Failures are
  retried from a 2-minute base, doubling, 5 times (``time_scale`` shrinks the schedule for
  tests); any 2xx/3xx or 410 counts as delivered, and 410 disables the webhook.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import logging
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from mockserver.clio.destinations import (
    DestinationPolicy,
    RefusedDestination,
    Unresolved,
)
from mockserver.engine.errors import ClioError, unprocessable
from mockserver.engine.handlers import ApiRequest, ApiResponse, Engine
from mockserver.engine.records import Clock, stamp
from mockserver.engine.serializer import parse_fields
from mockserver.engine.store import Account, MemoryStore, Record, created_of
from mockserver.spec.index import Model, Operation, SpecIndex, snake

log = logging.getLogger("clio_mock.webhooks")
WEBHOOK = "Webhook"
DEFAULT_LIFETIME = timedelta(days=3)
MAX_LIFETIME = timedelta(days=31)
BASE_RETRY_SECONDS = 120
RETRIES = 5
STATUS_EVENTS = {"Open": "matter_opened", "Pending": "matter_pended", "Closed": "matter_closed"}


HISTORY_SIZE = 2_000  # delivery attempts kept for the control API; older ones dropped (counted)
QUEUE_SIZE = 10_000  # handshakes and deliveries waiting; past it the oldest is dropped (counted)
SENT_SIZE = 200_000  # (firm, webhook, record) already told about; forgotten wholesale past it


@dataclass
class WebhookSettings:
    allow_http_loopback: bool = False  # receivers on http://127.0.0.1 for local development
    time_scale: float = 1.0  # 0.001 turns Clio's 2-minute retry base into 120 ms
    timeout: float = 5.0
    allow_hosts: list[str] = field(default_factory=list)  # webhook_allow_host: names or CIDRs


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    kind: str = field(compare=False)  # "handshake" | "delivery"
    account_id: int = field(compare=False)
    webhook_id: int = field(compare=False)
    body: bytes = field(compare=False, default=b"")
    event: str = field(compare=False, default="")
    record_id: int | None = field(compare=False, default=None)
    attempt: int = field(compare=False, default=1)


def activate_operation(index: SpecIndex) -> Operation | None:
    """``PUT /webhooks/{id}/activate``: documented by Clio, absent from its spec."""
    show = next((o for o in index.operations if o.operation_id == f"{WEBHOOK}#show"), None)
    if show is None:
        return None
    return Operation(
        operation_id=f"{WEBHOOK}#activate", method="PUT", path="/webhooks/{id}/activate.json", model=WEBHOOK,
        action="activate", params={}, path_params=["id"], request_schema=None, request_content_types=[],
        success_status=200, response_schema=show.response_schema, response_content_type=show.response_content_type,
        responses={200: show.responses.get(200)}, areas=show.areas,
    )


class WebhookService:
    """Rules for webhook records, the handshake, and deliveries with retries."""

    def __init__(self, index: SpecIndex, store: MemoryStore, engine: Engine, clock: Clock, settings: WebhookSettings) -> None:
        self.index = index
        self.store = store
        self.engine = engine
        self.clock = clock
        self.settings = settings
        self.model = index.models.get(WEBHOOK)
        self.model_names = {snake(m): m for m in index.models}
        self.policy = DestinationPolicy(settings.allow_http_loopback, list(settings.allow_hosts))
        self.history: deque[dict[str, Any]] = deque(maxlen=HISTORY_SIZE)
        self.dropped = {"history": 0, "jobs": 0}
        self.sent: set[tuple[int, int, int]] = set()  # (account, webhook, record) already told about
        self.jobs: list[_Job] = []
        self.seq = itertools.count()
        self.wake = threading.Condition()
        self._http = None  # an httpx.Client, made on the first delivery (httpx is slow to import)
        self.worker: threading.Thread | None = None
        self.in_flight = 0
        if self.model is None:
            return
        engine.writer.rules.setdefault(WEBHOOK, []).append(self.rule)
        engine.handlers[f"{WEBHOOK}#activate"] = self.activate
        store.listeners.append(self.on_change)

    # ------------------------------------------------------------------ rules and activation

    def rule(self, account: Account, model: Model, record: Record, data: dict[str, Any], created: bool) -> None:
        """Clio's validation of webhook records, and their server-set fields."""
        now = self.clock.now()
        name = record.get("model")
        target = self.model_names.get(str(name))
        if target is None:
            raise unprocessable(f"model: {name!r} is not a model webhooks support")
        events = record.get("events") or ["created", "updated", "deleted"]
        allowed = {"created", "updated"} | ({"deleted"} if name != "clio_payments_payment" else set())
        allowed |= set(STATUS_EVENTS.values()) if name == "matter" else set()
        bad = [e for e in events if e not in allowed]
        if bad:
            raise unprocessable(f"events: {', '.join(bad)} not supported for {name} webhooks")
        record["events"] = list(dict.fromkeys(events))
        fields = str(record.get("fields") or "")
        if not fields or len(fields) > 1000:
            raise unprocessable("fields: required, and at most 1,000 characters")
        self.engine.serializer.plan(target, fields)  # 400 InvalidFields for unknown fields
        self._check_url(str(record.get("url") or ""))
        created_at = now if created else datetime.fromtimestamp(created_of(record) or now.timestamp(), now.tzinfo)
        expires = record.get("expires_at")
        expires_at = (created_at + DEFAULT_LIFETIME) if not expires else datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=now.tzinfo)
        if expires_at > now + MAX_LIFETIME:
            raise unprocessable("expires_at: may be at most 31 days ahead")
        if expires and expires_at <= now:
            raise unprocessable("expires_at: must be in the future")
        record["expires_at"] = expires_at.astimezone(now.tzinfo).isoformat(timespec="seconds")
        if created or "url" in data:
            # A new URL needs a new handshake with a fresh secret.
            record["status"], record["shared_secret"] = "pending", secrets.token_hex(16)
            record["_handshake"] = True
        if created and record.get("user") is None:
            users = account.table("User").ids
            record["user"] = users[0] if users else None

    def _check_url(self, url: str) -> None:
        """The destination rules (:mod:`mockserver.clio.destinations`) at creation; a name
        that does not resolve now is accepted and checked again at delivery."""
        try:
            self.policy.vet(url)
        except Unresolved:
            return
        except RefusedDestination as exc:
            raise unprocessable(str(exc)) from None

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> Any:
        """POST to a destination vetted now, connecting to the vetted address itself."""
        target = self.policy.vet(url)
        extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
        return self.http.post(target.pinned_url(), content=body, headers={**headers, "Host": target.host_header()}, extensions=extensions)

    def activate(self, request: ApiRequest, account: Account) -> ApiResponse:
        """``PUT /webhooks/{id}/activate`` with the secret in ``X-Hook-Secret``."""
        record = self.engine._find(request, account)
        given = request.headers.get("x-hook-secret", "")
        if not hmac.compare_digest(given.encode(), str(record.get("shared_secret", "")).encode()):
            raise ClioError(422, "InvalidHookSecret", "X-Hook-Secret does not match this webhook's secret")
        self._set_status(account, record, "enabled")
        return self.engine._record_response(request, account, record, 200, conditional=False)

    def _set_status(self, account: Account, record: Record, status: str) -> None:
        with self.store.write():
            if record.get("status") != status:
                record["status"] = status
                stamp(self.model, record, self.clock.now(), created=False)  # type: ignore[arg-type]
                self.store.touch(account.id, WEBHOOK, record["id"])

    # ------------------------------------------------------------------ events

    def on_change(self, event: str, account_id: int, model: str, record: Record, before: Record | None) -> None:
        if model == WEBHOOK:
            if event != "deleted" and record.pop("_handshake", False):
                self._enqueue(_Job(time.monotonic(), next(self.seq), "handshake", account_id, record["id"]))
            return
        account = self.store.account(account_id)
        if account is None:
            return
        events = [event]
        if event == "updated" and before is not None and record.get("status") != before.get("status"):
            events += [STATUS_EVENTS[s] for s in [record.get("status")] if s in STATUS_EVENTS]
        now = self.clock.time()
        for hook in list(account.table(WEBHOOK)):
            if self.model_names.get(hook.get("model")) != model or hook.get("status") != "enabled":
                continue
            if _expired(hook, now):
                continue
            for name in events:
                if name in hook.get("events", []) and self._should_send(account_id, hook, name, record, before):
                    self._deliver_later(account, hook, name, model, record)

    def _should_send(self, account_id: int, hook: Record, event: str, record: Record, before: Record | None) -> bool:
        if event != "updated" or before is None:
            return True
        if (account_id, hook["id"], record["id"]) not in self.sent:
            return True  # the first update of a record this webhook never told about fires regardless
        watched = [name for name, _ in parse_fields(hook["fields"])]
        return any(record.get(name) != before.get(name) for name in watched)

    def _deliver_later(self, account: Account, hook: Record, event: str, model: str, record: Record) -> None:
        plan = self.engine.serializer.plan(model, hook["fields"])
        body = orjson.dumps({"data": self.engine.serializer.render(account, record, plan), "meta": {"event": event, "webhook_id": hook["id"]}})
        if len(self.sent) >= SENT_SIZE:
            self.sent.clear()  # forgetting only means a first update fires regardless, once more
        self.sent.add((account.id, hook["id"], record["id"]))
        self._enqueue(_Job(time.monotonic(), next(self.seq), "delivery", account.id, hook["id"], body, event, record["id"]))

    # ------------------------------------------------------------------ the worker

    def _note(self, entry: dict[str, Any]) -> None:
        if len(self.history) == self.history.maxlen:
            self.dropped["history"] += 1
        self.history.append(entry)

    def _enqueue(self, job: _Job) -> None:
        with self.wake:
            if len(self.jobs) >= QUEUE_SIZE:  # a receiver that never answers must not grow the queue forever
                oldest = min(range(len(self.jobs)), key=lambda i: self.jobs[i].seq)
                self.jobs[oldest] = self.jobs[-1]
                self.jobs.pop()
                heapq.heapify(self.jobs)
                self.dropped["jobs"] += 1
            heapq.heappush(self.jobs, job)
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._run, name="clio-mock-webhooks", daemon=True)
                self.worker.start()
            self.wake.notify()

    def _run(self) -> None:
        while True:
            with self.wake:
                while not self.jobs or self.jobs[0].due > time.monotonic():
                    timeout = (self.jobs[0].due - time.monotonic()) if self.jobs else None
                    self.wake.wait(timeout)
                job = heapq.heappop(self.jobs)
                self.in_flight += 1
            try:
                self._attempt(job)
            except Exception:  # a broken receiver must never stop the worker
                log.exception("webhook job failed")
            finally:
                with self.wake:
                    self.in_flight -= 1

    def _attempt(self, job: _Job) -> None:
        account = self.store.account(job.account_id)
        hook = account.table(WEBHOOK).get(job.webhook_id) if account else None
        if hook is None:
            return
        if job.kind == "handshake":
            self._handshake(account, hook)  # type: ignore[arg-type]
            return
        entry = {"webhook_id": hook["id"], "account_id": job.account_id, "event": job.event, "record_id": job.record_id,
                 "attempt": job.attempt, "url": hook["url"], "at": self.clock.now().isoformat(timespec="seconds")}
        if hook.get("status") != "enabled" or _expired(hook, self.clock.time()):
            self._note({**entry, "outcome": "skipped", "reason": "webhook disabled or expired"})
            return
        signature = hmac.new(str(hook["shared_secret"]).encode(), job.body, hashlib.sha256).hexdigest()
        status, error = None, None
        try:
            status = self._post(hook["url"], job.body, {"Content-Type": "application/json", "X-Hook-Signature": signature}).status_code
        except Exception as exc:  # refused destinations, httpx's errors: connection refused, timeouts, bad URLs
            error = _describe(exc)
        delivered = status is not None and (200 <= status < 400 or status == 410)
        retry_in = None if delivered or job.attempt > RETRIES else BASE_RETRY_SECONDS * 2 ** (job.attempt - 1) * self.settings.time_scale
        self._note({**entry, "status_code": status, "error": error, "outcome": "delivered" if delivered else "failed", "retry_in_seconds": retry_in,
                    "signature": signature, "payload": orjson.loads(job.body)})  # what the receiver got, for the dashboard
        if status == 410:
            self._set_status(account, hook, "suspended")  # type: ignore[arg-type]
        elif retry_in is not None:
            self._enqueue(_Job(time.monotonic() + retry_in, next(self.seq), "delivery", job.account_id, job.webhook_id, job.body, job.event, job.record_id, job.attempt + 1))

    @property
    def http(self):
        if self._http is None:
            import httpx

            self._http = httpx.Client(timeout=self.settings.timeout)
        return self._http

    def _handshake(self, account: Account, hook: Record) -> None:
        secret = str(hook["shared_secret"])
        entry = {"webhook_id": hook["id"], "account_id": account.id, "event": "handshake", "url": hook["url"], "at": self.clock.now().isoformat(timespec="seconds")}
        try:
            response = self._post(hook["url"], orjson.dumps({"data": {"webhook_id": hook["id"]}}), {"Content-Type": "application/json", "X-Hook-Secret": secret})
        except Exception as exc:  # refused destinations, httpx's errors: connection refused, timeouts, bad URLs
            self._note({**entry, "status_code": None, "error": _describe(exc), "outcome": "pending"})
            return
        echoed = hmac.compare_digest(response.headers.get("x-hook-secret", "").encode(), secret.encode())
        if response.status_code == 200 and echoed:
            self._set_status(account, hook, "enabled")
        self._note({**entry, "status_code": response.status_code, "error": None, "outcome": "enabled" if echoed and response.status_code == 200 else "pending"})

    def reset(self) -> None:
        with self.wake:
            self.jobs.clear()
        self.history.clear()
        self.sent.clear()
        self.dropped = {"history": 0, "jobs": 0}

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until no handshake or delivery is running or due now (tests); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.wake:
                busy = self.in_flight > 0 or any(j.due <= time.monotonic() for j in self.jobs)
            if not busy:
                return True
            time.sleep(0.01)
        return False


def _describe(exc: Exception) -> str:
    """A delivery error for the history: the refusal's reason, or the exception's type."""
    return str(exc) if isinstance(exc, RefusedDestination) else type(exc).__name__


def _expired(hook: Record, now: float) -> bool:
    expires = hook.get("expires_at")
    return bool(expires) and datetime.fromisoformat(expires).timestamp() <= now
