"""The live state of one mock: :class:`MockState`, shared by the API app, the control API, the
scenario loader and the pytest plugin. It lives apart from :mod:`mockserver.app` (the composition
root) so that nothing below the app imports from it."""

from __future__ import annotations

from dataclasses import dataclass, field

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
from mockserver.engine.store import MemoryStore, release_memory
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

    def reset(self) -> None:
        """Forget everything (records, grants, tokens, rate counts, journal, faults, clock
        shifts) and seed the firms again."""
        with self.store.write():
            self.store.clear()
            self.journal.clear()
            self.faults.remove()
            self.clock.reset()
            self._seed_firms()
            self.oauth.reset()
            self.rate_limiter.reset()
            self.webhooks.reset()

    def _seed_firms(self) -> None:
        """The configured firms: from the seed cache when this plan was generated before."""
        s = self.settings
        key = seedcache.cache_key(self.index.sha256, s.seed, s.scale, s.records, s.accounts) if s.index_cache else None
        cached = seedcache.load(key) if key else None
        if cached is not None:
            for account in cached:
                self.store.accounts[account.id] = account
                self.store.touch_account(account.id)
            return
        plan = SeedPlan(s.seed, s.scale, dict(s.records))
        for n in range(s.accounts):
            account = self.store.add_account(DEFAULT_ACCOUNT_NAME if n == 0 else f"Firm {n + 1}")
            self.seeder.seed(account, plan)
            account.compact()  # seeded nulls take no room (a 100k-matter firm in under 400 MB)
        release_memory()
        if key:
            seedcache.save(key, list(self.store.accounts.values()))

    def api_checks(self, principal: Principal, op: Operation, headers: dict[str, str]) -> dict[str, str]:
        """Per-request checks after authentication: the rate limit, then permissions."""
        limits = self.rate_limiter.hit(principal.token)
        check_permission(principal, op)
        return limits
