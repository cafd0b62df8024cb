"""Deletes that are not plain deletes (BEHAVIOR.md 12.3; mockserver/clio/deletes.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def firm(app):
    return app.state.store.accounts[1]


def make_bill(app, firm, state):
    writer, models = app.state.engine.writer, app.state.index.models
    with app.state.store.write():
        activity = writer.create(firm, models["Activity"], {"type": "TimeEntry", "date": "2026-01-02", "quantity": 3600, "price": 100})
        bill = writer.create(firm, models["Bill"], {"state": state})
        line = writer.create(firm, models["LineItem"], {"bill": {"id": bill["id"]}, "activity": {"id": activity["id"]}})
    return bill, line, activity


def test_deleting_a_draft_bill_deletes_it_and_frees_its_activities(app, firm, client):
    bill, line, activity = make_bill(app, firm, "draft")
    assert activity["on_bill"] is True
    assert client.delete(f"/api/v4/bills/{bill['id']}.json").status_code == 204
    assert client.get(f"/api/v4/bills/{bill['id']}.json").status_code == 404
    assert firm.table("LineItem").get(line["id"]) is None
    assert (activity["bill"], activity["on_bill"], activity["billed"]) == (None, False, False)


def test_deleting_an_unpaid_bill_voids_it(app, firm, client):
    bill, _, activity = make_bill(app, firm, "awaiting_payment")
    assert activity["billed"] is True
    assert client.delete(f"/api/v4/bills/{bill['id']}.json").status_code == 204
    shown = client.get(f"/api/v4/bills/{bill['id']}.json", params={"fields": "state"}).json()["data"]
    assert shown == {"state": "void"}
    assert (activity["billed"], activity["on_bill"]) == (False, False)


def test_a_bill_with_payments_cannot_be_deleted(app, firm, client):
    bill, _, _ = make_bill(app, firm, "awaiting_payment")
    with app.state.store.write():
        app.state.engine.writer.create(firm, app.state.index.models["Allocation"], {"bill": {"id": bill["id"]}, "amount": 10.0})
    r = client.delete(f"/api/v4/bills/{bill['id']}.json")
    assert r.status_code == 422 and bill["state"] == "awaiting_payment"


def test_line_item_of_an_issued_bill_cannot_be_deleted(app, firm, client):
    bill, line, _ = make_bill(app, firm, "awaiting_payment")
    assert client.delete(f"/api/v4/line_items/{line['id']}.json").status_code == 422
    draft, draft_line, _ = make_bill(app, firm, "draft")
    assert draft["total"] == 100.0
    assert client.delete(f"/api/v4/line_items/{draft_line['id']}.json").status_code == 204
    assert draft["total"] == 0.0


def test_a_locked_document_cannot_be_deleted(firm, client):
    document = next(iter(firm.table("Document")))
    document["locked"] = True
    r = client.delete(f"/api/v4/documents/{document['id']}.json")
    assert r.status_code == 400 and r.json()["error"]["type"] == "DeleteFailed"
    document["locked"] = False
    assert client.delete(f"/api/v4/documents/{document['id']}.json").status_code == 204


def test_the_root_folder_cannot_be_trashed(firm, client):
    folder = next(iter(firm.table("Folder")))
    folder["root"], folder["locked"] = True, False
    r = client.delete(f"/api/v4/folders/{folder['id']}.json")
    assert r.status_code == 400 and r.json()["error"] == {"type": "DeleteFailed", "message": "Delete failed: The root folder cannot be trashed"}
