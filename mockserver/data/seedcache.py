"""The seeded firms of a small plan, pickled in the cache directory: a warm start (and every
reset in a test session) loads them instead of generating them again, and skips importing Faker.

Keyed by the spec's hash, the seed plan and the source of the code that generates records, so
a change to any of them generates afresh.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from mockserver.engine.store import Account
from mockserver.spec.source import cache_dir, write_cache_pickle

MAX_CACHED_RECORDS = 20_000  # bigger firms take longer to unpickle than to keep in memory
_LAYERS = ("spec", "engine", "clio", "data")  # the code that decides a seeded firm


def cache_key(spec_sha256: str, seed: int, scale: float, counts: dict[str, int], accounts: int) -> str:
    package = Path(__file__).parents[1]
    sources = sorted(f for layer in _LAYERS for f in (package / layer).glob("*.py"))
    code = hashlib.sha256(b"".join(f.read_bytes() for f in sources)).hexdigest()
    plan = f"{spec_sha256}|{seed}|{scale}|{sorted(counts.items())}|{accounts}|{code}"
    return hashlib.sha256(plan.encode()).hexdigest()[:32]


def _path(key: str) -> Path:
    return cache_dir() / "seeds" / f"{key}.pickle"


def load(key: str) -> list[Account] | None:
    try:
        with _path(key).open("rb") as fh:
            accounts = pickle.load(fh)
    except Exception:  # missing, torn or stale: generate instead
        return None
    return accounts if isinstance(accounts, list) and all(isinstance(a, Account) for a in accounts) else None


def save(key: str, accounts: list[Account]) -> None:
    if sum(a.count() for a in accounts) > MAX_CACHED_RECORDS:
        return
    path = _path(key)
    detached = [Account(a.id, a.name, a.tables, dict(a.embedded_ids)) for a in accounts]
    hooks = [(t, t.on_change) for a in accounts for t in a.tables.values()]
    for table, _ in hooks:  # persistence hooks are closures: not for the pickle
        table.on_change = None
    try:
        write_cache_pickle(path, detached)
    finally:
        for table, hook in hooks:
            table.on_change = hook
