"""Compiled plans and the fragment cache: the same bytes as the plain renderer, and never a
stale association (read-your-writes)."""

from __future__ import annotations

import orjson
import pytest

from mockserver.engine.serializer import FragmentCache

WIDE_CLIENT = "id,display_number,client{id,name,first_name,last_name,type,etag}"


def _firm(app):
    return next(iter(app.state.store.accounts.values()))


def _pages(app, model: str, fields: str):
    serializer = app.state.engine.serializer
    account = _firm(app)
    plan = serializer.plan(model, fields)
    records = list(account.table(model))
    plain = orjson.dumps({"data": serializer.render_many(account, records, plan)})
    return plain, lambda: orjson.dumps({"data": serializer.render_page(account, records, plan)})


def test_every_models_all_fields_page_is_byte_identical(app):
    serializer = app.state.engine.serializer
    account = _firm(app)
    checked = 0
    for name, table in account.tables.items():
        if name not in serializer.models or not len(table):
            continue
        plain, paged = _pages(app, name, serializer.all_fields(name))
        assert paged() == plain, name  # compiled, filling the cache
        assert paged() == plain, name  # from the cache
        checked += 1
    assert checked > 20


def test_wide_nested_plan_is_byte_identical_and_cached(app):
    plain, paged = _pages(app, "Matter", WIDE_CLIENT)
    assert paged() == plain
    assert paged() == plain
    cache = app.state.engine.serializer.fragments
    assert len(cache) > 0 and cache.bytes > 0


def test_renamed_client_shows_in_the_next_matter_list(client):
    fields = {"fields": "id,client{id,name}", "limit": 200}
    wide = {"fields": WIDE_CLIENT, "limit": 200}
    all_fields = {"fields": "id,etag,description,client,responsible_attorney,custom_field_values", "limit": 200}
    for params in (fields, wide, all_fields):
        client.get("/api/v4/matters.json", params=params)  # fill the caches
    matter = next(m for m in client.get("/api/v4/matters.json", params=fields).json()["data"] if m["client"])
    contact_id = matter["client"]["id"]
    r = client.patch(f"/api/v4/contacts/{contact_id}.json", json={"data": {"name": "Renamed Person"}})
    assert r.status_code == 200, r.text
    new_etag = r.json()["data"]["etag"]
    for params in (fields, wide):
        seen = {m["client"]["name"] for m in client.get("/api/v4/matters.json", params=params).json()["data"]
                if m["client"] and m["client"]["id"] == contact_id}
        assert seen == {"Renamed Person"}
    refs = [m["client"] for m in client.get("/api/v4/matters.json", params=all_fields).json()["data"]
            if m["client"] and m["client"]["id"] == contact_id]
    assert refs and all(ref["etag"] == new_etag for ref in refs)


def test_updated_matter_and_deleted_association_show_at_once(client):
    params = {"fields": "id,description,etag,practice_area{id,name,etag,created_at}", "limit": 200}
    before = client.get("/api/v4/matters.json", params=params).json()["data"]
    target = next(m for m in before if m["practice_area"])
    r = client.patch(f"/api/v4/matters/{target['id']}.json", json={"data": {"description": "Changed today"}})
    assert r.status_code == 200, r.text
    after = {m["id"]: m for m in client.get("/api/v4/matters.json", params=params).json()["data"]}
    assert after[target["id"]]["description"] == "Changed today"
    assert after[target["id"]]["etag"] != target["etag"]
    area = target["practice_area"]["id"]
    assert client.delete(f"/api/v4/practice_areas/{area}.json").status_code == 204
    gone = client.get("/api/v4/matters.json", params=params).json()["data"]
    assert all((m["practice_area"] or {}).get("id") != area for m in gone)


def test_show_with_all_fields_follows_writes(client, app):
    fields = app.state.engine.serializer.all_fields("Matter")
    matter_id = client.get("/api/v4/matters.json", params={"limit": 1}).json()["data"][0]["id"]
    first = client.get(f"/api/v4/matters/{matter_id}.json", params={"fields": fields}).json()["data"]
    assert client.patch(f"/api/v4/matters/{matter_id}.json", json={"data": {"location": "Room 9"}}).status_code == 200
    second = client.get(f"/api/v4/matters/{matter_id}.json", params={"fields": fields}).json()["data"]
    assert second["location"] == "Room 9" and second["etag"] != first["etag"]


def test_reseed_never_serves_the_old_firms_fragments(client, app):
    params = {"fields": "id,description,client{id,name}", "limit": 200}
    first = next(iter(_firm(app).table("Matter")))
    first["description"] = "edited behind the writer's back"  # same id and version after a reseed
    listed = client.get("/api/v4/matters.json", params=params).json()["data"]
    assert listed[0]["description"] == "edited behind the writer's back"  # now cached
    assert client.post("/__mock__/reset").status_code == 200
    fresh = client.get("/api/v4/matters.json", params=params).json()["data"]
    assert fresh[0]["id"] == first["id"]
    assert fresh[0]["description"] != "edited behind the writer's back"


@pytest.mark.parametrize("max_entries,max_bytes", [(3, 10**9), (10**9, 300)])
def test_fragment_cache_is_bounded(max_entries, max_bytes):
    cache = FragmentCache(max_entries=max_entries, max_bytes=max_bytes)
    for i in range(50):
        cache.put((1, i), {"id": i}, 1, (), b'{"id":%d,"pad":"%s"}' % (i, b"x" * 40))
        assert len(cache) <= max_entries and cache.bytes <= max_bytes
    assert (1, 49) in cache.entries and (1, 0) not in cache.entries
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


def test_a_write_elsewhere_makes_pages_recheck(app):
    """The generation fast path: after any write, fragments are checked against their records."""
    serializer = app.state.engine.serializer
    store, account = app.state.store, _firm(app)
    plan = serializer.plan("Matter", "id,client{id,name}")
    matters = list(account.table("Matter"))
    first = orjson.dumps(serializer.render_page(account, matters, plan))
    matter = next(m for m in matters if m.get("client"))
    contact = account.table("Contact").get(matter["client"])
    before = store.generation
    with store.write():
        app.state.engine.writer.update(account, app.state.index.models["Contact"], contact, {"name": "Zed Q"})
    assert store.generation > before
    again = orjson.loads(orjson.dumps(serializer.render_page(account, matters, plan)))
    assert first != orjson.dumps(again)
    assert {m["client"]["name"] for m in again if m["client"] and m["client"]["id"] == contact["id"]} == {"Zed Q"}


def test_version_rules_still_edit_answers_with_associations(client):
    """Answers the versions hook edits (old API versions) are plain dicts, not cached fragments."""
    params = {"fields": "id,quantity,matter{id,display_number}", "limit": 20}
    now = {a["id"]: a for a in client.get("/api/v4/activities.json", params=params).json()["data"]}
    old = client.get("/api/v4/activities.json", params=params, headers={"X-API-VERSION": "4.0.3"}).json()["data"]
    scaled = [a for a in old if now[a["id"]]["quantity"]]
    assert scaled and all(abs(a["quantity"] - round(now[a["id"]]["quantity"] / 3600, 4)) < 1e-9 for a in scaled)
    one = scaled[0]["id"]
    show = client.get(f"/api/v4/activities/{one}.json", params=params, headers={"X-API-VERSION": "4.0.3"}).json()["data"]
    assert show["quantity"] == scaled[0]["quantity"] and show["matter"] == now[one]["matter"]
