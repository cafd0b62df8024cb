"""The live state of one mock: :class:`MockState`, shared by the API app, the control API, the
scenario loader and the pytest plugin. It lives apart from :mod:`mockserver.app` (the composition
root) so that nothing below the app imports from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mockserver.clio.oauth import OAuthServer, check_permission
from mockserver.clio.ratelimit import RateLimiter
from mockserver.clio.webhooks import WebhookService
from mockserver.config import Settings
from mockserver.control.faults import Faults
from mockserver.control.journal import Journal
from mockserver.data import seedcache
from mockserver.data.seeding import Seeder, SeedPlan
from mockserver.engine.handlers import Engine, Principal
from mockserver.engine.records import Clock
from mockserver.engine.store import Account, MemoryStore, release_memory
from mockserver.spec.index import Operation, SpecIndex

DEFAULT_ACCOUNT_NAME = "Mock Law LLP"


@dataclass
class MockState:
    """The live parts of one mock, shared by the API, the control API and the plugin."""

    settings: Settings
    index: SpecIndex
    store: MemoryStore
    clock: Clock
    engine: Engine
    seeder: Seeder
    oauth: OAuthServer
    rate_limiter: RateLimiter
    webhooks: WebhookService
    journal: Journal = field(default_factory=Journal)
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        # Test controls live with the records: with --data every worker of --workers N sees
        # the same faults and clock (the rate limit counts in the file too: see build_state).
        self.store.register_system("faults", self.faults.dump, self.faults.load)
        self.store.register_system("clock", self._clock_dump, self._clock_load)

    def _clock_dump(self) -> dict[str, Any]:
        frozen = self.clock.frozen
        return {"frozen": frozen.isoformat() if frozen else None, "offset": self.clock.offset.total_seconds()}

    def _clock_load(self, data: dict[str, Any]) -> None:
        self.clock.frozen = datetime.fromisoformat(data["frozen"]) if data.get("frozen") else None
        self.clock.offset = timedelta(seconds=float(data.get("offset") or 0))

    def controls_changed(self, *names: str) -> None:
        """Inside a store write: the faults or the clock changed (persist and share them)."""
        for name in names:
            self.store.touch_system(name)

    def reset(self) -> None:
        """Forget everything (records, grants, tokens, rate counts, journal, faults, clock
        shifts) and seed the firms again.

        The new firms are built aside first, without the store's lock: a reseed of 100k
        matters (seconds, run on a worker thread by the control API) leaves other requests
        served from the old firms meanwhile (writes to them are forgotten by the reset, as
        any would be); only the swap happens inside the write."""
        firms = self._build_firms()
        with self.store.write():
            self.store.clear()
            self.journal.clear()
            self.faults.remove()
            self.clock.reset()
            for account in firms:
                self.store.accounts[account.id] = account
                self.store.touch_account(account.id)
            self.oauth.reset()
            self.rate_limiter.reset()
            self.webhooks.reset()
            self.controls_changed("faults", "clock")

    def _build_firms(self) -> list[Account]:
        """The configured firms, not yet stored: from the seed cache when this plan was
        generated before."""
        s = self.settings
        key = seedcache.cache_key(self.index.sha256, s.seed, s.scale, s.records, s.accounts) if s.index_cache else None
        cached = seedcache.load(key) if key else None
        if cached is not None:
            return list(cached)
        plan = SeedPlan(s.seed, s.scale, dict(s.records))
        firms = []
        for n in range(s.accounts):
            account = Account(n + 1, DEFAULT_ACCOUNT_NAME if n == 0 else f"Firm {n + 1}")
            self.seeder.seed(account, plan)
            account.compact()  # seeded nulls take no room (a 100k-matter firm in under 400 MB)
            firms.append(account)
        release_memory()
        if key:
            seedcache.save(key, firms)
        return firms

    def add_firm(self, name: str, plan: SeedPlan) -> Account:
        """A new seeded firm: generated aside (no lock held), then stored in one short write."""
        account = Account(max(self.store.accounts, default=0) + 1, name)  # the id fixes first_id: before seeding
        self.seeder.seed(account, plan)
        with self.store.write():
            if account.id in self.store.accounts:  # another firm took the id meanwhile
                raise RuntimeError("two firms were added at once; try again")
            self.store.accounts[account.id] = account
            self.store.touch_account(account.id)
        return account

    def api_checks(self, principal: Principal, op: Operation, headers: dict[str, str]) -> dict[str, str]:
        """Per-request checks after authentication: the rate limit, then permissions."""
        limits = self.rate_limiter.hit(principal.token)
        check_permission(principal, op)
        return limits
