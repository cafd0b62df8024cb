"""A whole seeded firm follows every one of Clio's rules (the rules' own predicates), and the
facts records share hold across them: bills of a client's matters, times in order."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from mockserver.data.fakedata import _slug
from mockserver.data.seeding import SeedPlan
from mockserver.engine.store import Account


def seeded(app, seed: int, scale: float = 1.0) -> Account:
    account = Account(90 + seed, f"Firm {seed}")
    app.state.seeder.seed(account, SeedPlan(seed=seed, scale=scale))
    return account


@pytest.fixture(scope="module", params=[(1, 1.0), (7, 1.0), (42, 1.0), (42, 5.0)], ids=lambda p: f"seed{p[0]}-scale{p[1]:g}")
def firm(request, index):
    from mockserver.app import create_app
    from mockserver.config import Settings
    from tests.conftest import SPEC_PATH

    app = create_app(Settings(spec=str(SPEC_PATH), seed=42, rate_limit=0, records={"Matter": 5}), index=index)
    seed, scale = request.param
    return app, seeded(app, seed, scale)


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


def test_every_rule_holds_on_every_record(firm):
    app, account = firm
    assert [str(v) for v in app.state.seeder.rules.violations(account)] == []


def test_the_check_finds_a_broken_record(firm):
    app, account = firm
    matter = next(iter(account.table("Matter")))
    saved = dict(matter)
    try:
        matter["status"], matter["close_date"] = "Open", "2020-01-01"
        found = {(v.model, v.rule) for v in app.state.seeder.rules.violations(account)}
        assert ("Matter", "status-dates") in found
    finally:
        matter.clear()
        matter.update(saved)


def test_records_are_in_time_order_and_none_after_now(firm):
    app, account = firm
    now = app.state.clock.time() + 1
    today = date.fromtimestamp(now).isoformat()
    for name, table in account.tables.items():
        for record in table:
            created, updated = record.get("created_at"), record.get("updated_at")
            if isinstance(created, str) and isinstance(updated, str):
                assert _ts(created) <= _ts(updated) <= now, (name, record["id"])
    for task in account.table("Task"):
        if task.get("completed_at"):
            assert _ts(task["created_at"]) <= _ts(task["completed_at"]) <= now
    for matter in account.table("Matter"):
        for field in ("open_date", "close_date", "pending_date"):
            assert matter.get(field) is None or matter[field] <= today
        if matter["status"] == "Closed" and matter.get("open_date"):
            assert matter["open_date"] <= matter["close_date"]


def test_calendar_entries_last_minutes_to_days(firm):
    _, account = firm
    for entry in account.table("CalendarEntry"):
        length = _ts(entry["end_at"]) - _ts(entry["start_at"])
        assert 15 * 60 <= length <= 3 * 86400, entry["id"]


def test_users_have_firm_emails_matching_their_names(firm):
    _, account = firm
    domains = set()
    for user in account.table("User"):
        local, _, domain = user["email"].partition("@")
        assert local == _slug(user["first_name"])[:1] + _slug(user["last_name"])
        assert user["name"] == f"{user['first_name']} {user['last_name']}"
        domains.add(domain)
    assert len(domains) == 1


def test_bills_are_made_of_activities_of_their_clients_matters(firm):
    _, account = firm
    bills, activities, matters = account.table("Bill"), account.table("Activity"), account.table("Matter")
    lines = [li for li in account.table("LineItem") if li.get("bill") is not None]
    assert lines, "a seeded firm has billed work"
    for line in lines:
        bill, activity = bills.get(line["bill"]), activities.get(line["activity"])
        assert activity["bill"] == bill["id"] and activity["matter"] in bill["matters"]
        assert line["matter"] == activity["matter"]
        assert all(matters.get(m)["client"] == bill["client"] for m in bill["matters"])
    paid = [b for b in bills if b["state"] == "paid"]
    for bill in paid:
        assert bill["balance"] == 0 and bill["paid"] == bill["total"] > 0
        assert all(a["billed"] for a in activities if a.get("bill") == bill["id"])


def test_companies_have_no_person_names(firm):
    _, account = firm
    companies = [c for c in account.table("Contact") if c["type"] == "Company"]
    assert companies
    for company in companies:
        assert company["first_name"] is None and company["last_name"] is None and company["name"]


def test_seeded_firms_have_no_uk_legal_aid_details(firm):
    """Only a UK firm with legal aid has them; the seeded firms are not (README, Clio's rules)."""
    _, account = firm
    checked = 0
    for model, field in (("Matter", "legal_aid_uk_matter"), ("Contact", "legal_aid_uk_contact"),
                         ("Activity", "legal_aid_uk_activity"), ("Bill", "legal_aid_uk_bill")):
        for record in account.table(model):
            assert record.get(field) is None, (model, record["id"])
            checked += 1
    assert checked > 100
