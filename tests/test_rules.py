"""Clio's domain rules on writes (mockserver/clio/rules), one by one, through the API."""

from __future__ import annotations

import pytest

from mockserver.clio.rules import DomainRules


def post(client, path, data, fields="id"):
    return client.post(f"/api/v4/{path}.json", json={"data": data}, params={"fields": fields})


def patch(client, path, data, fields="id"):
    return client.patch(f"/api/v4/{path}.json", json={"data": data}, params={"fields": fields})


def created(response):
    assert response.status_code in (200, 201), response.text
    return response.json()["data"]


@pytest.fixture
def firm(app):
    return app.state.store.accounts[1]


@pytest.fixture
def contact(client):
    return created(post(client, "contacts", {"type": "Person", "first_name": "Ada", "last_name": "Lovelace"}, "id,name"))


@pytest.fixture
def matter(client, contact):
    return created(post(client, "matters", {"description": "Estate", "client": {"id": contact["id"]}},
                        "id,number,display_number,status,open_date,close_date"))


def who_am_i(client):
    return client.get("/api/v4/users/who_am_i.json", params={"fields": "id,name,rate"}).json()["data"]


def today(app):
    return app.state.clock.now().date().isoformat()


# ------------------------------------------------------------------ every rule cites its source


def test_every_rule_cites_a_source(index):
    rules = DomainRules.for_index(index).all()
    assert len(rules) > 30
    for rule in rules:
        assert len(rule.source) > 20, rule
        assert "_base" in rule.source or "BEHAVIOR.md" in rule.source or "UNCONFIRMED" in rule.source or "." in rule.source, rule


# ------------------------------------------------------------------ contacts


def test_person_created_by_first_and_last_name(client):
    ada = created(post(client, "contacts", {"type": "Person", "first_name": "Ada", "last_name": "Lovelace"}, "name,initials"))
    assert ada == {"name": "Ada Lovelace", "initials": "AL"}


def test_person_without_any_name_is_refused_with_clios_message(client):
    r = post(client, "contacts", {"type": "Person", "title": "CEO"})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == "At least one of first name or last name must be provided"


def test_person_given_only_a_name_is_split(client):
    alan = created(post(client, "contacts", {"type": "Person", "name": "Alan Mathison Turing"}, "first_name,last_name,name"))
    assert alan == {"first_name": "Alan", "last_name": "Mathison Turing", "name": "Alan Mathison Turing"}


def test_company_keeps_its_name_and_has_no_person_names(client):
    acme = created(post(client, "contacts", {"type": "Company", "name": "Acme LLP", "first_name": "Paul"}, "name,first_name,last_name"))
    assert acme == {"name": "Acme LLP", "first_name": None, "last_name": None}
    assert post(client, "contacts", {"type": "Company", "first_name": "Paul"}).status_code == 422


def test_renaming_a_person_renames_the_contact(client, contact):
    renamed = created(patch(client, f"contacts/{contact['id']}", {"last_name": "King"}, "name,initials"))
    assert renamed == {"name": "Ada King", "initials": "AK"}


def test_primary_email_address_is_the_entry_marked_primary(client, contact):
    emails = [{"address": "ada@work.example", "name": "Work", "default_email": False}, {"address": "ada@home.example", "name": "Home", "default_email": True}]
    shown = created(patch(client, f"contacts/{contact['id']}", {"email_addresses": emails},
                          "primary_email_address,secondary_email_address,email_addresses{address,primary}"))
    assert shown["primary_email_address"] == "ada@home.example"
    assert shown["secondary_email_address"] == "ada@work.example"
    assert [e["primary"] for e in shown["email_addresses"]] == [False, True]


def test_marking_another_phone_primary_moves_the_mark(client, contact):
    first = created(patch(client, f"contacts/{contact['id']}", {"phone_numbers": [{"number": "555-0100", "name": "Work"}]},
                          "primary_phone_number,phone_numbers{id,primary}"))
    assert first["primary_phone_number"] == "555-0100" and first["phone_numbers"][0]["primary"] is True
    second = created(patch(client, f"contacts/{contact['id']}", {"phone_numbers": [{"number": "555-0199", "name": "Other", "default_number": True}]},
                           "primary_phone_number,phone_numbers{number,primary}"))
    assert second["primary_phone_number"] == "555-0199"
    assert sorted((p["number"], p["primary"]) for p in second["phone_numbers"]) == [("555-0100", False), ("555-0199", True)]


def test_user_name_and_initials_follow_first_and_last_name(app, firm):
    from mockserver.clio.rules import Change, Firm

    rules = app.state.seeder.rules
    user = {"id": 99, "first_name": "Grace", "last_name": "Hopper", "name": "Someone Else", "initials": "XX"}
    rules.run(Change(Firm(firm, app.state.index), app.state.index.models["User"], user, {}, False))
    assert (user["name"], user["initials"]) == ("Grace Hopper", "GH")


# ------------------------------------------------------------------ matters


def test_matter_numbered_from_its_client(matter):
    assert isinstance(matter["number"], int)
    assert matter["display_number"] == f"{matter['number']:05d}-Lovelace"


def test_matter_created_open_is_dated_today(app, matter):
    assert matter["status"] == "Open" and matter["open_date"] == today(app) and matter["close_date"] is None


def test_closing_and_reopening_a_matter_stamps_and_clears_close_date(app, client, matter):
    closed = created(patch(client, f"matters/{matter['id']}", {"status": "closed"}, "status,close_date,open_date"))
    assert closed == {"status": "Closed", "close_date": today(app), "open_date": matter["open_date"]}
    reopened = created(patch(client, f"matters/{matter['id']}", {"status": "open"}, "status,close_date"))
    assert reopened == {"status": "Open", "close_date": None}


def test_pending_matter_gets_pending_date(app, client, contact):
    pending = created(post(client, "matters", {"description": "Intake", "status": "pending", "client": {"id": contact["id"]}}, "pending_date,open_date"))
    assert pending == {"pending_date": today(app), "open_date": None}


def test_matter_cannot_close_before_it_opened(client, matter):
    r = patch(client, f"matters/{matter['id']}", {"status": "closed", "open_date": "2026-03-01", "close_date": "2026-02-01"})
    assert r.status_code == 422 and "close" in r.json()["error"]["message"]


def test_matter_display_number_kept_on_patch_unless_reset(client, matter, contact):
    other = created(post(client, "contacts", {"type": "Person", "last_name": "Babbage"}))
    kept = created(patch(client, f"matters/{matter['id']}", {"client": {"id": other["id"]}}, "display_number"))
    assert kept["display_number"] == matter["display_number"]
    reset = created(patch(client, f"matters/{matter['id']}", {"reset_matter_number": True}, "display_number"))
    assert reset["display_number"] == f"{matter['number']:05d}-Babbage"


def test_a_matters_client_is_a_client(client):
    company = created(post(client, "contacts", {"type": "Company", "name": "Globex"}, "id,is_client"))
    post(client, "matters", {"description": "Merger", "client": {"id": company["id"]}})
    shown = client.get(f"/api/v4/contacts/{company['id']}.json", params={"fields": "is_client"}).json()["data"]
    assert shown["is_client"] is True


# ------------------------------------------------------------------ activities


def test_time_entry_hours_total_owner(client, matter):
    entry = created(post(client, "activities", {"type": "TimeEntry", "date": "2026-01-02", "quantity": 5400, "price": 200, "matter": {"id": matter["id"]}},
                         "quantity_in_hours,rounded_quantity,rounded_quantity_in_hours,total,user{id},billed,on_bill"))
    assert entry == {"quantity_in_hours": 1.5, "rounded_quantity": 5400.0, "rounded_quantity_in_hours": 1.5, "total": 300.0,
                     "user": {"id": who_am_i(client)["id"]}, "billed": False, "on_bill": False}


def test_time_rounds_up_to_six_minutes(client):
    entry = created(post(client, "activities", {"type": "TimeEntry", "date": "2026-01-02", "quantity": 400, "price": 100},
                         "rounded_quantity,total"))
    assert entry == {"rounded_quantity": 720.0, "total": 20.0}


def test_flat_rate_and_expense_totals(app, client):
    # (flat_rate is not a request field: factories and scenarios may set it, as Clio's flat-rate descriptions do)
    firm = app.state.store.accounts[1]
    with app.state.store.write():
        flat = app.state.engine.writer.create(firm, app.state.index.models["Activity"],
                                              {"type": "TimeEntry", "date": "2026-01-02", "quantity": 7200, "price": 500, "flat_rate": True})
    assert flat["total"] == 500.0
    expense = created(post(client, "activities", {"type": "ExpenseEntry", "date": "2026-01-02", "quantity": 3, "price": 12.5}, "total,quantity_in_hours"))
    assert expense == {"total": 37.5, "quantity_in_hours": None}


def test_non_billable_time_counts_apart(client):
    entry = created(post(client, "activities", {"type": "TimeEntry", "date": "2026-01-02", "quantity": 3600, "price": 100, "non_billable": True},
                         "total,non_billable_total"))
    assert entry == {"total": 0.0, "non_billable_total": 100.0}


def test_changing_the_quantity_recomputes_the_total(client):
    entry = created(post(client, "activities", {"type": "TimeEntry", "date": "2026-01-02", "quantity": 3600, "price": 100}))
    assert created(patch(client, f"activities/{entry['id']}", {"quantity": 1800}, "total"))["total"] == 50.0


# ------------------------------------------------------------------ bills, line items, payments


@pytest.fixture
def bill_with_line(app, firm, client, matter):
    """A bill and one line item made from an hour's time entry at 200 (written as the factories do)."""
    writer = app.state.engine.writer
    models = app.state.index.models
    activity = created(post(client, "activities", {"type": "TimeEntry", "date": "2026-01-02", "quantity": 3600, "price": 200, "matter": {"id": matter["id"]}}))
    with app.state.store.write():
        bill = writer.create(firm, models["Bill"], {"state": "awaiting_payment", "tax_rate": 10.0})
        line = writer.create(firm, models["LineItem"], {"bill": {"id": bill["id"]}, "activity": {"id": activity["id"]}, "taxable": True})
    return bill, line, activity


def test_line_item_made_from_an_activity(bill_with_line, matter):
    bill, line, _ = bill_with_line
    assert (line["price"], line["quantity"], line["matter"]) == (200.0, 1.0, matter["id"])
    assert (line["sub_total"], line["tax"], line["total"]) == (200.0, 20.0, 220.0)


def test_bill_totals_come_from_its_line_items(bill_with_line):
    bill, _, _ = bill_with_line
    assert (bill["sub_total"], bill["tax_sum"], bill["total"], bill["due"], bill["paid"], bill["balance"]) == (200.0, 20.0, 220.0, 220.0, 0.0, 220.0)
    assert bill["number"] and bill["issued_at"] and bill["due_at"] > bill["issued_at"]


def test_activity_on_an_issued_bill_is_billed(client, bill_with_line):
    _, _, activity = bill_with_line
    shown = client.get(f"/api/v4/activities/{activity['id']}.json", params={"fields": "billed,on_bill,bill{id}"}).json()["data"]
    assert shown["billed"] is True and shown["on_bill"] is True


def test_voiding_a_bill_unbills_its_activities(app, firm, client, bill_with_line):
    bill, _, activity = bill_with_line
    with app.state.store.write():
        app.state.engine.writer.update(firm, app.state.index.models["Bill"], bill, {"state": "void"})
    shown = client.get(f"/api/v4/activities/{activity['id']}.json", params={"fields": "billed,on_bill"}).json()["data"]
    assert shown == {"billed": False, "on_bill": False}


def test_a_payment_of_the_balance_pays_the_bill(app, firm, bill_with_line):
    bill, _, _ = bill_with_line
    with app.state.store.write():
        app.state.engine.writer.create(firm, app.state.index.models["Allocation"], {"bill": {"id": bill["id"]}, "amount": 220.0})
    assert (bill["paid"], bill["balance"], bill["state"]) == (220.0, 0.0, "paid")
    assert bill["paid_at"] is not None


def test_a_bill_with_a_balance_cannot_be_marked_paid(client, app, firm, bill_with_line):
    from mockserver.engine.errors import ClioError

    bill, _, _ = bill_with_line
    with pytest.raises(ClioError, match="cannot be marked paid"), app.state.store.write():
        app.state.engine.writer.update(firm, app.state.index.models["Bill"], bill, {"state": "paid"})
    assert bill["state"] == "awaiting_payment"  # nothing stored


def test_unbilled_work_shows_on_billable_matters(app, firm, client):
    matter_id = firm.table("BillableMatter").ids[0]
    before = dict(firm.table("BillableMatter").get(matter_id))
    post(client, "activities", {"type": "TimeEntry", "date": "2026-01-02", "quantity": 3600, "price": 150, "matter": {"id": matter_id}})
    after = firm.table("BillableMatter").get(matter_id)
    assert round(after["unbilled_hours"] - before["unbilled_hours"], 4) == 1.0
    assert round(after["unbilled_amount"] - before["unbilled_amount"], 2) == 150.0


# ------------------------------------------------------------------ tasks, calendar, notes, communications


def test_completing_a_task_stamps_completed_at(client):
    assignee = who_am_i(client)
    task = created(post(client, "tasks", {"name": "File", "description": "File it", "assignee": {"id": assignee["id"], "type": "User"}},
                        "id,completed_at,assigner{id}"))
    assert task["completed_at"] is None and task["assigner"] == {"id": assignee["id"]}
    done = created(patch(client, f"tasks/{task['id']}", {"status": "complete"}, "completed_at,created_at"))
    assert done["completed_at"] is not None and done["completed_at"] >= done["created_at"][:10]
    again = created(patch(client, f"tasks/{task['id']}", {"status": "pending"}, "completed_at"))
    assert again["completed_at"] is None


def calendar_owner(app, firm):
    return {"id": firm.table("Calendar").ids[0]}


def test_calendar_entry_cannot_end_before_it_starts(app, firm, client):
    r = post(client, "calendar_entries", {"summary": "Hearing", "start_at": "2026-02-01T10:00:00Z", "end_at": "2026-02-01T09:00:00Z",
                                          "calendar_owner": calendar_owner(app, firm)})
    assert r.status_code == 422


def test_calendar_entry_dates_and_1900_floor(app, firm, client):
    entry = created(post(client, "calendar_entries", {"summary": "Old", "start_at": "1850-02-01T10:00:00Z", "end_at": "1850-02-01T11:00:00Z",
                                                      "calendar_owner": calendar_owner(app, firm)}, "start_at,start_date"))
    assert entry["start_at"].startswith("1900-02-01") and entry["start_date"] == "1900-02-01"


def test_external_properties_capped_at_five(app, firm, client):
    props = [{"name": f"k{i}", "value": "v"} for i in range(6)]
    r = post(client, "calendar_entries", {"summary": "x", "start_at": "2026-02-01T10:00:00Z", "end_at": "2026-02-01T11:00:00Z",
                                          "calendar_owner": calendar_owner(app, firm), "external_properties": props})
    assert r.status_code == 422


def test_note_author_date_and_subject(app, client, matter, contact):
    # (a Matter note belongs to its matter only, whatever else is sent)
    body = {"type": "Matter", "subject": "Call", "detail": "Spoke", "matter": {"id": matter["id"]}, "contact": {"id": contact["id"]}}
    note = created(post(client, "notes", body, "author{id},date,matter{id},contact"))
    assert note["author"] == {"id": who_am_i(client)["id"]} and note["matter"] == {"id": matter["id"]} and note["contact"] is None


def test_communication_user_senders_and_date(client):
    me = who_am_i(client)
    comm = created(post(client, "communications", {"type": "EmailCommunication", "subject": "Hi", "body": "Hello",
                                                   "received_at": "2026-01-05T10:00:00Z"}, "user{id},senders{id,type},date"))
    assert comm["user"] == {"id": me["id"]} and comm["senders"] == [{"id": me["id"], "type": "User"}]
    assert comm["date"] == "2026-01-05"


def test_custom_field_values_name_their_field(app, firm, client, matter):
    field = created(post(client, "custom_fields", {"name": "Judge", "parent_type": "Matter", "field_type": "text_line"}))
    shown = created(patch(client, f"matters/{matter['id']}", {"custom_field_values": [{"custom_field": {"id": field["id"]}, "value": "Hon. Roe"}]},
                          "custom_field_values{field_name,field_type,value}"))
    assert shown["custom_field_values"] == [{"field_name": "Judge", "field_type": "text_line", "value": "Hon. Roe"}]


# ------------------------------------------------------------------ factories get the rules


def test_factory_time_entries_have_totals_owners_and_dates(app, firm):
    from mockserver.testing.pytest_plugin import RecordFactory

    factory = RecordFactory(app.state, firm)
    matter = factory.matter(time_entries=3)
    entries = [a for a in firm.table("Activity") if a.get("matter") == matter["id"]]
    owner = firm.table("User").ids[0]
    assert len(entries) == 3 and matter["open_date"] and matter["display_number"].startswith(f"{matter['number']:05d}")
    rate = firm.table("User").get(owner)["rate"]
    for entry in entries:
        assert entry["user"] == owner and entry["date"] and entry["quantity_in_hours"] == 1.0
        assert entry["total"] == round(float(rate), 2)


def test_shipped_scenarios_derive_what_they_leave_out(app):
    from mockserver.data.scenarios import load_scenario_file, refs
    from tests.test_scenarios import SOLO

    account = load_scenario_file(app.state, SOLO)
    ids = refs(account)
    bill = account.table("Bill").get(ids["bill-1001"][1])
    assert (bill["sub_total"], bill["total"], bill["balance"], bill["paid"]) == (741.5, 741.5, 741.5, 0.0)
    drafting = account.table("Activity").get(ids["notice-drafting"][1])
    assert (drafting["total"], drafting["quantity_in_hours"], drafting["billed"], drafting["bill"]) == (412.5, 1.5, True, bill["id"])
    riverside = account.table("Contact").get(ids["riverside"][1])
    maria = account.table("User").get(ids["maria"][1])
    assert riverside["is_client"] is True and maria["initials"] == "MD" and maria["name"] == "Maria Delgado"
    assert app.state.seeder.rules.violations(account) == []
