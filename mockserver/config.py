"""Settings of one mock server, with their defaults."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Settings:
    """Everything ``create_app`` needs; the CLI and the pytest plugin fill it in."""

    spec: str | None = None  # path or URL; None: CLIO_MOCK_SPEC or Clio's published copy
    seed: int = 42
    scale: float = 1.0  # seeded firm size multiplier
    counts: dict[str, int] = field(default_factory=dict)  # per-model record counts
    accounts: int = 1  # seeded firms
    host: str = "127.0.0.1"
    port: int = 8000
    index_cache: bool = True
    token_lifetime: int = 30 * 86400  # seconds; Clio's access tokens last 30 days
    code_lifetime: int = 600  # authorization codes: 10 minutes
    auto_approve: bool = False  # skip the approval page for every app
    dev_token: str | None = "dev"  # a long-lived token for the default account (None: none)
    rate_limit: int = 50  # requests per token per window; 0 turns limiting off
    rate_window: int = 60
    apps_file: str | None = None  # YAML declaring more developer apps
    admin_token: str | None = None  # required by the control API when not bound to loopback
    webhook_allow_http: bool = False  # let webhooks target http://127.0.0.1 (local receivers)
    data: str | None = None  # SQLite file keeping all state; None: in memory
    webhook_time_scale: float = 1.0  # scales Clio's retry schedule (2 min base), e.g. 0.001 in tests
