"""Scenarios: YAML firms loaded through the API's writer, visible to the firm's users, with errors naming file, path and reason."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockserver.data.scenarios import (
    ScenarioError,
    load_scenario,
    load_scenario_file,
    read_scenario,
    refs,
    section_models,
)
from mockserver.engine.store import created_of

FIXTURES = Path(__file__).resolve().parents[1] / "mockserver" / "data" / "fixtures"
SOLO = FIXTURES / "solo-practice.yaml"
MIDSIZE = FIXTURES / "midsize-firm.yaml"


def as_user(app, account, ref: str) -> TestClient:
    """A client acting as the firm's user declared with ``ref``."""
    model, user_id = refs(account)[ref]
    assert model == "User"
    token = app.state.oauth.issue_token(account.id, user_id)["access_token"]
    return TestClient(app, base_url="http://127.0.0.1:8000", headers={"Authorization": f"Bearer {token}"})


def write(tmp_path: Path, text: str, name: str = "firm.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MINIMAL = """\
firm: Test Firm
users:
  - {ref: alice, first_name: Alice, last_name: Attorney, email: alice@test.example}
contacts:
  - {ref: acme, type: Company, name: Acme Corp}
matters:
  - {ref: lease, description: Lease dispute, status: open, client: "@acme", responsible_attorney: "@alice"}
"""


# --------------------------------------------------------------------------- shipped files


def test_solo_practice_loads_as_a_new_firm_visible_to_its_user(app):
    before = set(app.state.store.accounts)
    account = load_scenario_file(app.state, SOLO)
    assert account.id not in before and app.state.store.account(account.id) is account
    assert account.name == "Delgado Law PLLC"
    assert len(account.table("User")) == 1 and len(account.table("Contact")) == 9 and len(account.table("Matter")) == 5
    with as_user(app, account, "maria") as client:
        me = client.get("/api/v4/users/who_am_i.json", params={"fields": "id,name,email"}).json()["data"]
        assert me == {"id": refs(account)["maria"][1], "name": "Maria Delgado", "email": "maria@delgadolaw.example"}
        matter_id = refs(account)["riverside-eviction"][1]
        fields = "id,display_number,status,client{id,name},responsible_attorney{name},practice_area{name},custom_field_values{value,custom_field}"
        matter = client.get(f"/api/v4/matters/{matter_id}.json", params={"fields": fields}).json()["data"]
        assert matter["client"] == {"id": refs(account)["riverside"][1], "name": "Riverside Property Management LLC"}
        assert matter["responsible_attorney"]["name"] == "Maria Delgado"
        assert matter["practice_area"]["name"] == "Real Estate"
        assert matter["status"] == "Open"  # declared as `status: open`
        assert [v["custom_field"]["id"] for v in matter["custom_field_values"]] == [refs(account)["opposing-counsel"][1], refs(account)["court-case-number"][1]]
        names = {c["name"] for c in client.get(f"/api/v4/matters/{matter_id}/contacts.json", params={"fields": "name"}).json()["data"]}
        assert {"Riverside Property Management LLC", "Derek Shaw", "Castillo & Burke LLP", "Tom Whitaker"} <= names
        listed = client.get("/api/v4/matters.json", params={"fields": "id,status", "limit": 200}).json()["data"]
        assert sorted(m["status"] for m in listed) == ["Closed", "Open", "Open", "Open", "Pending"]
        bill = client.get("/api/v4/bills.json", params={"fields": "number,client{name},matters{id}"}).json()["data"]
        assert bill == [{"number": "1001", "client": {"name": "Riverside Property Management LLC"}, "matters": [{"id": matter_id}]}]
    # the default firm is untouched and cannot see the scenario's records
    assert app.state.store.account(1).name == "Mock Law LLP"
    with TestClient(app, base_url="http://127.0.0.1:8000", headers={"Authorization": "Bearer dev"}) as dev:
        assert dev.get(f"/api/v4/matters/{matter_id}.json").status_code == 404


def test_midsize_firm_loads_whole(app):
    # How long it takes is a benchmark's business (machines here are shared): this pins what loads.
    account = load_scenario_file(app.state, MIDSIZE)
    assert len(account.table("Matter")) == 5000 + 5
    assert len(account.table("User")) == 20 + 4
    assert refs(account)["hargrove"] == ("User", account.table("User").ids[20])  # declared after the generated ones
    with as_user(app, account, "hargrove") as client:
        matter_id = refs(account)["northwind-v-atlas"][1]
        matter = client.get(f"/api/v4/matters/{matter_id}.json", params={"fields": "display_number,client{name},originating_attorney{name}"}).json()["data"]
        assert matter == {"display_number": "2026-0001", "client": {"name": "Northwind Logistics, Inc."}, "originating_attorney": {"name": "Eleanor Hargrove"}}
        page = client.get("/api/v4/matters.json", params={"limit": 200}).json()
        assert len(page["data"]) == 200 and page["meta"]["paging"]["next"]
        found = client.get("/api/v4/contacts.json", params={"query": "Cobalt Ridge", "fields": "id,name"}).json()["data"]
        assert {"id": refs(account)["cobalt"][1], "name": "Cobalt Ridge Capital Partners LP"} in found


def test_shipped_files_use_only_sections_of_the_spec(app):
    sections = section_models(app.state)
    for path in (SOLO, MIDSIZE):
        doc = read_scenario(path)
        assert all(key in sections for key in doc if key not in ("firm", "description", "base")), path


# --------------------------------------------------------------------------- format


def test_sections_are_derived_from_the_spec(app):
    sections = section_models(app.state)
    assert sections["matters"] == sections["Matter"] == "Matter"
    assert sections["calendar_entries"] == "CalendarEntry"
    assert sections["custom_fields"] == "CustomField"
    assert sections["activities"] == "Activity"
    assert sections["currencies"] == "Currency"
    assert "billable_matters" not in sections and "timers" not in sections  # a read-only mirror, a per-user singleton
    lower = [k for k in sections if k.islower()]
    assert len(lower) == len({sections[k] for k in lower})  # one plural per model


def test_references_resolve_forward_and_by_model(app):
    account = load_scenario_file(app.state, SOLO)
    ids = refs(account)
    bill_id = ids["bill-1001"][1]
    activities = list(account.table("Activity"))
    assert [a["bill"] for a in activities[:3]] == [bill_id] * 3  # the bill is declared after them
    assert all(a["user"] == ids["maria"][1] for a in activities)
    entry = next(iter(account.table("CalendarEntry")))
    assert entry["calendar_owner"] == entry["calendar_owner_id"] == ids["maria-calendar"][1]
    matter = account.table("Matter").get(ids["riverside-eviction"][1])
    assert matter["client"] == matter["client_id"] == ids["riverside"][1]
    assert matter["relationships"] == [ids["rel-tenant"][1], ids["rel-opposing"][1], ids["rel-tom"][1]]
    assert account.refs == ids and ids["riverside"][0] == "Contact"


def test_enum_casing_and_yaml_dates(app):
    doc = read_scenario(SOLO)
    account = load_scenario(app.state, doc)
    matter = account.table("Matter").get(refs(account)["riverside-eviction"][1])
    assert matter["status"] == "Open" and matter["open_date"] == "2026-01-06"
    user = account.table("User").get(refs(account)["maria"][1])
    assert user["subscription_type"] == "Attorney"  # declared `attorney`
    task = next(iter(account.table("Task")))
    assert task["priority"] == "High"
    contact = account.table("Contact").get(refs(account)["harold"][1])
    assert contact["phone_numbers"][0]["name"] == "Personal" and contact["date_of_birth"] == "1948-03-22"


def test_references_inside_nested_values_aliases_and_literals(app):
    doc = {
        "firm": "Nested",
        "custom_fields": [{"ref": "cf", "name": "Judge", "parent_type": "Matter", "field_type": "text_line"}],
        "contacts": [{"ref": "acme", "type": "Company", "name": "@@acme handle"}],
        "matters": [{"ref": "m", "description": "x", "client_id": "@acme", "custom_field_values": [{"custom_field": "@cf", "value": "Hon. Roe"}]}],
        "calendar_entries": [
            {"ref": "parent", "summary": "Weekly"},
            {"summary": "One of them", "parent_calendar_entry_id": "@parent", "created_at": "2025-06-01T09:00:00-05:00"},
        ],
    }
    account = load_scenario(app.state, doc)
    ids = refs(account)
    matter = account.table("Matter").get(ids["m"][1])
    assert matter["client"] == matter["client_id"] == ids["acme"][1]  # `client_id` sets the association
    assert matter["custom_field_values"][0]["custom_field"] == ids["cf"][1]
    assert account.table("Contact").get(ids["acme"][1])["name"] == "@acme handle"
    child = account.table("CalendarEntry").ids[-1]
    record = account.table("CalendarEntry").get(child)
    assert record["parent_calendar_entry_id"] == ids["parent"][1]
    assert record["created_at"] == "2025-06-01T09:00:00-05:00" and created_of(record) < time.time() - 86400


def test_base_only_named_and_declared_records_after_generated(app):
    doc = {"firm": "Small", "base": {"seed": 3, "counts": {"Matter": 4, "contacts": 2, "User": 1}, "only_named": True}, **read_minimal()}
    account = load_scenario(app.state, doc)
    assert len(account.table("Matter")) == 5 and len(account.table("Contact")) == 3 and len(account.table("User")) == 2
    assert len(account.table("Activity")) == 0 and len(account.table("Bill")) == 0
    assert refs(account)["lease"][1] == account.table("Matter").ids[-1]


def read_minimal() -> dict:
    import yaml

    return yaml.safe_load(MINIMAL)


def test_replacing_a_firm_keeps_its_id_and_tokens(app, client):
    old_matters = len(app.state.store.account(1).table("Matter"))
    account = load_scenario_file(app.state, SOLO, account_id=1)
    assert account.id == 1 and app.state.store.account(1) is account and account.name == "Delgado Law PLLC"
    assert len(account.table("Matter")) == 5 != old_matters
    # firm 1's ids start at 1 again: the dev token's user is now the scenario's first user
    assert client.get("/api/v4/users/who_am_i.json", params={"fields": "name"}).json()["data"]["name"] == "Maria Delgado"
    assert len(client.get("/api/v4/matters.json").json()["data"]) == 5


def test_store_listeners_hear_each_declared_record(app):
    heard = []
    app.state.store.listeners.append(lambda event, account_id, model, record, before: heard.append((event, account_id, model, record, before)))
    account = load_scenario_file(app.state, SOLO)
    declared = sum(len(v) for k, v in read_scenario(SOLO).items() if isinstance(v, list))
    assert len(heard) == declared == account.count()
    assert {e[0] for e in heard} == {"created"} and {e[1] for e in heard} == {account.id} and {e[4] for e in heard} == {None}
    for _, _, model, record, _ in heard:
        assert account.table(model).get(record["id"]) is record  # the stored record, already visible
    assert [e[2] for e in heard][:2] == ["User", "Calendar"]  # file order


# --------------------------------------------------------------------------- errors


BAD = [
    ("unknown section", MINIMAL + "mattres:\n  - {description: typo}\n", "mattres", "unknown section: not a stored model of the spec (did you mean matters?)"),
    ("unknown field", MINIMAL.replace("status: open,", "status: open, colour: red,"), "matters[0].colour", "unknown field for Matter"),
    ("bad reference", MINIMAL.replace('client: "@acme"', 'client: "@acme-corp"'), "matters[0].client", "unknown reference @acme-corp"),
    ("reference to the wrong model", MINIMAL.replace('client: "@acme"', 'client: "@alice"'), "matters[0].client", "@alice is a User, not a Contact"),
    ("bad reference nested", MINIMAL.replace("status: open,", 'status: open, custom_field_values: [{custom_field: "@nope", value: x}],'), "matters[0].custom_field_values[0].custom_field", "unknown reference @nope"),
    ("wrong type", MINIMAL + "activities:\n  - {type: TimeEntry, quantity: an hour, matter: \"@lease\"}\n", "activities[0].quantity", 'wrong type: "an hour" is not of type "number"'),
    ("wrong enum", MINIMAL.replace("status: open", "status: archived"), "matters[0].status", 'wrong type: "archived" is not one of'),
    ("wrong format", MINIMAL.replace("status: open,", "status: open, open_date: last tuesday,"), "matters[0].open_date", 'wrong type: "last tuesday" is not a "date"'),
    ("wrong association shape", MINIMAL.replace('client: "@acme"', "client: [1, 2]"), "matters[0].client", "wrong type: expected a reference to a Contact"),
    ("duplicate ref", MINIMAL + "  - {ref: acme, description: again}\n", "matters[1].ref", "duplicate ref 'acme' (first declared at contacts[0])"),
    ("assigned field", MINIMAL.replace("status: open,", "status: open, id: 7,"), "matters[0].id", "id is assigned by the mock"),
    ("writer rejects", MINIMAL.replace("{ref: acme, type: Company, name: Acme Corp}", "{ref: acme, type: Person, email_addresses: []}"), "contacts[0]", "At least one of first name or last name must be provided"),
    ("writer rejects a missing id", MINIMAL.replace('client: "@acme"', "client: 999999999"), "matters[0].client", "client with id 999999999 was not found"),
    ("section not a list", MINIMAL + "notes: {subject: x}\n", "notes", "expected a list of Note records, got a mapping"),
    ("base key", "base: {seeds: 3}\n" + MINIMAL, "base.seeds", "unknown key"),
    ("base model", "base: {counts: {Mater: 3}}\n" + MINIMAL, "base.counts.Mater", "unknown model"),
    ("no firm name", MINIMAL.replace("firm: Test Firm\n", ""), "firm", "the firm's name is required"),
    ("bad YAML: unquoted reference", MINIMAL.replace('client: "@acme"', "client: @acme"), "line 7, column", "invalid YAML: found character '@' that cannot start any token"),
    ("bad YAML: duplicate key", MINIMAL + "contacts:\n  - {name: again}\n", "line 8, column 1", "invalid YAML: found duplicate key 'contacts'"),
    ("bad YAML: not a mapping", "- just\n- a list\n", "document", "expected a mapping"),
]


@pytest.mark.parametrize("text, path, reason", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_invalid_files_name_file_path_and_reason(app, tmp_path, text, path, reason):
    file = write(tmp_path, text)
    accounts = dict(app.state.store.accounts)
    heard = []
    app.state.store.listeners.append(lambda *args: heard.append(args))
    with pytest.raises(ScenarioError) as caught:
        load_scenario_file(app.state, file)
    error = caught.value
    assert error.message.startswith(f"{file}: {path}"), error.message
    assert reason in error.message, error.message
    assert error.status == 400 and error.type == "InvalidScenario"
    assert b'"InvalidScenario"' in error.body()
    assert app.state.store.accounts == accounts and not heard  # nothing changed, nothing announced


def test_failed_replacement_leaves_the_firm_as_it_was(app, tmp_path):
    before = app.state.store.account(1)
    tables = before.tables
    file = write(tmp_path, MINIMAL.replace("{ref: acme, type: Company, name: Acme Corp}", "{ref: acme, type: Person}"))
    with pytest.raises(ScenarioError):
        load_scenario_file(app.state, file, account_id=1)
    assert app.state.store.account(1) is before and before.tables is tables and before.name == "Mock Law LLP"


def test_unreadable_file_and_unknown_firm(app, tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError, match=rf"^{missing}: file: cannot be read"):
        read_scenario(missing)
    with pytest.raises(ScenarioError, match=r"^<scenario>: account_id: no firm with id 42$"):
        load_scenario(app.state, read_minimal(), account_id=42)


def test_matters_are_numbered_as_on_create_unless_declared(app):
    account = load_scenario(app.state, read_minimal())
    matter = account.table("Matter").get(refs(account)["lease"][1])
    # Clio numbers it: the account's n-th matter, and its client's name (rules/matters.py)
    assert isinstance(matter["number"], int) and matter["display_number"] == f"{matter['number']:05d}-Acme"
    solo = load_scenario_file(app.state, SOLO)
    assert solo.table("Matter").get(refs(solo)["riverside-eviction"][1])["display_number"] == "00001-Riverside"


def test_control_api_loads_scenarios(app):
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        created = client.post("/__mock__/scenarios", json={"path": str(SOLO)})
        assert created.status_code == 201, created.text
        assert created.json()["name"] == "Delgado Law PLLC"
        bad = client.post("/__mock__/scenarios", json={"scenario": {"firm": "X", "mattres": []}})
        assert bad.status_code == 400
        assert bad.json()["error"] == {"type": "InvalidScenario", "message": "<control API>: mattres: unknown section: not a stored model of the spec (did you mean matters?)"}


def test_serve_with_a_bad_fixture_is_one_line_exit_2(spec_path, tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("firm: Broken LLP\nmatters:\n  - description: x\n    client: '@nobody'\n")
    run = subprocess.run([sys.executable, "-m", "mockserver.cli", "serve", "--spec", str(spec_path), "--fixture", str(bad), "--port", "1"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "bad.yaml" in run.stderr and "matters[0].client" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_serve_loads_a_fixture(spec_path):
    import httpx
    from conftest import serve

    fixture = FIXTURES / "solo-practice.yaml"
    with serve("--spec", str(spec_path), "--fixture", str(fixture)) as url:
        firms = httpx.get(f"{url}/__mock__/accounts").json()["data"]
        assert any(f["name"] != "Mock Law LLP" for f in firms)
