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
