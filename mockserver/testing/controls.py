"""The handles a test drives a mock with, whether it is served on a port or called in-process."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mockserver.control.faults import Fault
from mockserver.control.journal import JournalEntry
from mockserver.state import MockState


class MockControls:
    """Reset, journal, faults, clock and tokens of one mock's :class:`MockState` (``self.state``)."""

    state: MockState

    def reset(self) -> None:
        """Fresh seeded data, no grants or tokens but the dev token, empty journal, no faults."""
        self.state.reset()

    def requests(self, method: str | None = None, path: str | None = None) -> list[JournalEntry]:
        """What was sent to ``/api/v4`` since the test began (path is a glob)."""
        return self.state.journal.find(method, path)

    def fault(self, kind: str = "status", **options: Any) -> Fault:
        """Break matching requests: ``fault("status", status=503, path="/api/v4/matters*", count=1)``."""
        return self.state.faults.add(Fault(kind=kind, **options))

    def settle_webhooks(self, timeout: float = 5.0) -> None:
        """Wait until handshakes and deliveries due now are done (retries later stay queued)."""
        if not self.state.webhooks.wait_idle(timeout):
            raise AssertionError("webhook deliveries still running")

    def advance(self, seconds: float) -> None:
        """Move the mock's clock forward (token expiry, ``updated_since``)."""
        self.state.clock.offset += timedelta(seconds=seconds)

    def token(self, account_id: int | None = None, user_id: int | None = None) -> dict[str, Any]:
        """A new OAuth token response for a firm's user (default: the first firm's first user)."""
        account = self.state.store.accounts[account_id or next(iter(self.state.store.accounts))]
        users = account.table("User").ids
        return self.state.oauth.issue_token(account.id, user_id or (users[0] if users else None))
