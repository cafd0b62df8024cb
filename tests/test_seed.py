"""Seeded firms: deterministic for a seed, sized as asked, referentially whole, schema-valid."""

from __future__ import annotations

import jsonschema_rs

from mockserver.app import build_state
from mockserver.config import Settings
from mockserver.spec.allowances import without_nulls


def _state(index, **kw):
    return build_state(Settings(seed=kw.pop("seed", 42), **kw), index=index)


def _snapshot(state):
    account = state.store.accounts[1]
    return {name: [dict(r) for r in table] for name, table in account.tables.items()}


def test_same_seed_same_data(index):
    a, b = _snapshot(_state(index)), _snapshot(_state(index))
    for rows in (a, b):
        for records in rows.values():
            for r in records:  # timestamps are relative to now; everything else must match
                for key in ("created_at", "updated_at"):
                    r.pop(key, None)
                if "_stamp" in r:  # when: relative to now; how many writes: must match
                    r["_stamp"] = r["_stamp"][2]
    assert a == b


def test_other_seed_other_data(index):
    a = _state(index, seed=1).store.accounts[1].table("Contact").get(1)
    b = _state(index, seed=2).store.accounts[1].table("Contact").get(1)
    assert a["name"] != b["name"]


def test_size_is_configurable(index):
    state = _state(index, records={"Matter": 500}, scale=0.5)
    account = state.store.accounts[1]
    assert len(account.table("Matter")) == 500
    assert len(account.table("Contact")) == 30


def test_references_point_at_existing_records(index):
    state = _state(index)
    account = state.store.accounts[1]
    checked = 0
    for name, model in index.models.items():
        for record in account.table(name):
            for assoc_name, assoc in model.associations.items():
                value = record.get(assoc_name)
                if assoc.stored and not assoc.many and value is not None:
                    assert account.table(assoc.target).get(value) is not None, (name, assoc_name, value)
                    checked += 1
    assert checked > 500
    matter = account.table("Matter").get(1)
    assert account.table("Contact").get(matter["client"]) is not None
    assert account.table("User").get(matter["responsible_attorney"]) is not None


def test_several_firms_have_their_own_records(index):
    state = _state(index, accounts=2)
    one, two = state.store.accounts[1], state.store.accounts[2]
    assert len(one.table("Matter")) == len(two.table("Matter"))
    first_one, first_two = next(iter(one.table("Contact"))), next(iter(two.table("Contact")))
    assert first_one["name"] != first_two["name"]
    assert not set(one.table("Contact").ids) & set(two.table("Contact").ids)  # ids unique across firms


def test_seeded_values_fit_their_schemas(index, app, client):
    fields = app.state.engine.serializer.all_fields("Contact").replace("email_addresses", "email_addresses{id,address,name,primary}")
    body = client.get("/api/v4/contacts.json", params={"fields": fields, "limit": 50}).json()
    schema = index.operations[[o.operation_id for o in index.operations].index("Contact#index")].responses[200]
    # Absent associations are null, as in Clio (the null-values allowance); every value present must fit.
    errors = list(jsonschema_rs.validator_for(schema, validate_formats=True).iter_errors(without_nulls(body)))
    assert not errors, errors[0].message
    person = next(c for c in body["data"] if c["type"] == "Person")
    # a person's name is its first, middle and last names (mockserver/clio/rules/contacts.py)
    assert person["name"] == " ".join(n for n in (person["first_name"], person["middle_name"], person["last_name"]) if n)
    assert "@" in person["email_addresses"][0]["address"]
    assert person["created_at"][-6] in "+-"
