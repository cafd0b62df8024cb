"""The compact representation of a seeded firm: nulls not stored, embedded values shared
between records beyond the pool; it reads, writes, persists and caches like plain records."""

from __future__ import annotations

import orjson
import pytest

from mockserver.app import create_app
from mockserver.config import Settings
from mockserver.data import seedcache
from mockserver.data.seeding import EMBEDDED_POOL
from mockserver.engine.store import compact

BIG = 300  # matters: more than EMBEDDED_POOL arrays of a kind, so some are shared


@pytest.fixture
def big(index, spec_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIO_MOCK_CACHE_DIR", str(tmp_path / "cache"))
    return create_app(Settings(spec=str(spec_path), records={"Matter": BIG}, rate_limit=0), index=index)


def _firm(app):
    return next(iter(app.state.store.accounts.values()))


def _shared_pair(account, name: str):
    seen: dict[int, dict] = {}
    for matter in account.table("Matter"):
        value = matter.get(name)
        if value:
            if id(value) in seen:
                return seen[id(value)], matter
            seen[id(value)] = matter
    raise AssertionError(f"no two matters share {name}")


def test_seeded_records_store_no_nulls(big):
    for table in _firm(big).tables.values():
        for record in table:
            assert None not in record.values()


def test_absent_fields_render_as_stored_nulls(big):
    serializer, account = big.state.engine.serializer, _firm(big)
    for name in ("Matter", "Contact", "Activity"):
        plan = serializer.plan(name, serializer.all_fields(name))
        model = big.state.index.models[name]
        records = list(account.table(name))[:50]
        with_nulls = [{**{f: None for f in [*model.fields, *model.associations]}, **r} for r in records]
        assert orjson.dumps(serializer.render_many(account, records, plan)) == orjson.dumps(serializer.render_many(account, with_nulls, plan))


def test_small_firms_keep_every_embedded_value_their_own(app):
    ids = [item["id"] for m in _firm(app).table("Matter") for item in m.get("kyc_field_values") or []]
    assert ids and len(ids) == len(set(ids)) and len(ids) < EMBEDDED_POOL


def test_writing_a_shared_embedded_value_changes_one_record(big):
    account, writer = _firm(big), big.state.engine.writer
    model = big.state.index.models["Matter"]
    mine, other = _shared_pair(account, "kyc_field_values")
    theirs = orjson.dumps(other)
    item = mine["kyc_field_values"][0]
    with big.state.store.write():
        writer.update(account, model, mine, {"kyc_field_values": [{"id": item["id"], "field_value": "changed here"}]})
    assert any(v.get("field_value") == "changed here" for v in mine["kyc_field_values"])
    assert orjson.dumps(other) == theirs  # the other matter, and the pooled value, unchanged


def test_round_trip_through_persistence(index, spec_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIO_MOCK_CACHE_DIR", str(tmp_path / "cache"))
    settings = Settings(spec=str(spec_path), records={"Matter": BIG}, rate_limit=0, data=str(tmp_path / "mock.db"))
    first = create_app(settings, index=index)
    again = create_app(settings, index=index)  # loads the file the first one wrote
    a, b = _firm(first), _firm(again)
    assert {n for n, t in a.tables.items() if len(t)} == {n for n, t in b.tables.items() if len(t)}
    for name, table in a.tables.items():
        assert [r for r in table] == [r for r in b.table(name)], name
    serializer = again.state.engine.serializer
    plan = serializer.plan("Matter", serializer.all_fields("Matter"))
    assert orjson.dumps(serializer.render_many(b, list(b.table("Matter")), plan)) == \
        orjson.dumps(first.state.engine.serializer.render_many(a, list(a.table("Matter")), first.state.engine.serializer.plan("Matter", serializer.all_fields("Matter"))))


def test_round_trip_through_the_seed_cache(big, tmp_path, monkeypatch):
    monkeypatch.setenv("CLIO_MOCK_CACHE_DIR", str(tmp_path / "cache2"))
    account = _firm(big)
    seedcache.save("roundtrip", [account])
    loaded = seedcache.load("roundtrip")
    assert loaded is not None
    copy = loaded[0]
    for name, table in account.tables.items():
        assert [r for r in table] == [r for r in copy.table(name)], name
    mine, other = _shared_pair(copy, "kyc_field_values")  # still shared after the pickle
    assert mine["kyc_field_values"] is other["kyc_field_values"]


def test_compact_drops_only_nulls():
    record = {"id": 1, "name": "", "count": 0, "flag": False, "gone": None, "items": []}
    assert compact(record) == {"id": 1, "name": "", "count": 0, "flag": False, "items": []}
