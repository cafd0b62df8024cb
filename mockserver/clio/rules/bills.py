"""Bills, line items and payments: totals from line items, balances from payments; the
activities a bill carries follow its state; unbilled work on billable matters and clients."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from mockserver.clio.rules import Change, Firm, Rule, derived
from mockserver.clio.rules.activities import BILLED_STATES, ON_BILL_STATES, bill_flags
from mockserver.engine.errors import unprocessable
from mockserver.engine.store import Record

OPEN_STATES = ("draft", "awaiting_approval")  # not yet issued: nothing can be paid on them
DEFAULT_TERMS_DAYS = 30


def _money(value: Any) -> float:
    return round(float(value or 0.0), 2)


# ---------------------------------------------------------------- line items


def line_amounts(firm: Firm, record: Record) -> dict[str, Any]:
    """sub_total = price x quantity; taxes at the bill's rates when taxable; total = all three."""
    sub_total = _money(float(record.get("price") or 0.0) * float(record.get("quantity") or 0.0))
    if record.get("type") == "NoChargeLineItem":
        sub_total = 0.0
    bill = firm.get("Bill", record.get("bill")) or {}
    tax = _money(sub_total * float(bill.get("tax_rate") or 0.0) / 100) if record.get("taxable") else 0.0
    secondary = _money(sub_total * float(bill.get("secondary_tax_rate") or 0.0) / 100) if record.get("secondary_taxable") else 0.0
    return {"sub_total": sub_total, "tax": tax, "secondary_tax": secondary, "total": _money(sub_total + tax + secondary)}


def _from_activity(change: Change) -> None:
    """A line item made from an activity carries its matter, user, date, rate and hours."""
    record, data = change.record, change.data
    activity = change.firm.get("Activity", record.get("activity"))
    if activity is None:
        return
    hours = activity.get("rounded_quantity_in_hours")
    flat = activity.get("flat_rate") or activity.get("type") != "TimeEntry"
    defaults = {
        "matter": activity.get("matter"), "user": activity.get("user"), "date": activity.get("date"),
        "price": activity.get("total") if flat else activity.get("price"),
        "quantity": 1.0 if flat else hours,
        "description": activity.get("note"), "kind": "Service" if activity.get("type") == "TimeEntry" else "Expense",
        "type": "ActivityLineItem",
    }
    for name, value in defaults.items():
        if name in change.model.fields or name in change.model.associations:
            if name not in data and (change.created or name in ("price", "quantity")):
                record[name] = value


def _bill_of_line(change: Change) -> None:
    """A line item's change is its bill's change: totals, and the activity's on_bill."""
    bills = {change.record.get("bill")} | ({change.before.get("bill")} if change.before else set())
    now = None if change.seeding else change.now
    for bill_id in bills - {None}:
        refresh_bill(change.firm, bill_id, now)
    activity = change.firm.get("Activity", change.record.get("activity"))
    if activity is not None and change.record.get("bill") is not None and activity.get("bill") != change.record["bill"]:
        activity["bill"] = change.record["bill"]
        activity.update(bill_flags(change.firm, activity))
        change.firm.touch("Activity", activity, now)


# ---------------------------------------------------------------- bills


def bill_amounts(firm: Firm, record: Record) -> dict[str, Any]:
    """Totals from the bill's line items; paid and balance from payments (allocations)."""
    lines = firm.children("LineItem", "bill", record["id"])
    sub_total = _money(sum(float(li.get("sub_total") or 0.0) for li in lines))
    services = _money(sum(float(li.get("sub_total") or 0.0) for li in lines if li.get("kind") != "Expense"))
    tax = _money(sum(float(li.get("tax") or 0.0) for li in lines))
    secondary = _money(sum(float(li.get("secondary_tax") or 0.0) for li in lines))
    total = _money(sub_total + tax + secondary)
    payments = [a for a in firm.children("Allocation", "bill", record["id"]) if not a.get("voided_at")]
    paid = _money(sum(float(a.get("amount") or 0.0) for a in payments))
    paid_at = max((a.get("created_at") for a in payments if a.get("created_at")), default=None)
    return {
        "sub_total": sub_total, "services_sub_total": services, "tax_sum": tax, "secondary_tax_sum": secondary,
        "total_tax": _money(tax + secondary), "total": total, "due": total, "paid": paid,
        "balance": _money(total - paid), "paid_at": paid_at if paid else None,
    }


def _bill_state(change: Change) -> None:
    """A bill is paid when its payments cover it: an issued bill whose balance reaches zero
    becomes ``paid``; ``paid`` with a balance, or a payment on a draft, is refused."""
    record = change.record
    state, balance, paid, total = record.get("state"), record.get("balance") or 0.0, record.get("paid") or 0.0, record.get("total") or 0.0
    if state == "paid" and balance > 0.005:
        if "state" in change.data:
            raise unprocessable(f"state: a bill with a balance of {balance:.2f} cannot be marked paid")
        record["state"] = "awaiting_payment"
    elif state == "awaiting_payment" and total > 0 and balance <= 0.005:
        record["state"] = "paid"
    if record.get("state") in OPEN_STATES and paid > 0.005:
        raise unprocessable(f"state: a bill with payments recorded cannot be {record['state']}")


def _bill_state_holds(firm: Firm, record: Record) -> bool:
    state, balance, paid = record.get("state"), record.get("balance") or 0.0, record.get("paid") or 0.0
    if state == "paid":
        return balance <= 0.005 and record.get("paid_at") is not None
    if state in OPEN_STATES:
        return paid <= 0.005
    return True


def _bill_defaults(change: Change) -> None:
    """A new bill gets the account's next number, today as its issue date, and net-30 terms."""
    record = change.record
    if not record.get("number"):
        record["number"] = str(record["id"] - change.firm.account.first_id + 1)
    if record.get("issued_at") is None and change.now is not None:
        record["issued_at"] = change.today
    if record.get("due_at") is None and record.get("issued_at"):
        record["due_at"] = (date.fromisoformat(record["issued_at"]) + timedelta(days=DEFAULT_TERMS_DAYS)).isoformat()


def _due_after_issue(change: Change) -> None:
    issued, due = change.record.get("issued_at"), change.record.get("due_at")
    if issued and due and due < issued:
        raise unprocessable("due_at: a bill cannot be due before it is issued")


def _activities_follow(change: Change) -> None:
    """The activities on a bill follow its state (billed / on_bill)."""
    if change.created or not change.changed("state"):
        return
    now = None if change.seeding else change.now
    for activity in change.firm.children("Activity", "bill", change.record["id"]):
        state = change.record.get("state")
        flags = {"on_bill": state in ON_BILL_STATES, "billed": state in BILLED_STATES}
        if any(activity.get(k) != v for k, v in flags.items()):
            activity.update(flags)
            change.firm.touch("Activity", activity, now)


def refresh_bill(firm: Firm, bill_id: Any, now) -> None:
    """Recompute a bill's totals after a change to its line items or payments."""
    bill = firm.get("Bill", bill_id)
    if bill is None:
        return
    before = dict(bill)
    bill.update(bill_amounts(firm, bill))
    state = bill.get("state")
    if state == "awaiting_payment" and (bill.get("total") or 0) > 0 and bill["balance"] <= 0.005:
        bill["state"] = "paid"
    elif state == "paid" and bill["balance"] > 0.005:
        bill["state"] = "awaiting_payment"
    if bill != before:
        firm.touch("Bill", bill, now)


def _payment_to_bill(change: Change) -> None:
    record = change.record
    if record.get("created_at") is None and change.timestamp is not None:
        record["created_at"] = change.timestamp  # the payment's time is the bill's paid_at
    bill = change.firm.get("Bill", record.get("bill"))
    if bill is not None and not change.seeding:
        if bill.get("state") in OPEN_STATES:
            raise unprocessable(f"bill: a payment cannot be applied to a bill that is {bill['state']}")
    bills = {record.get("bill")} | ({change.before.get("bill")} if change.before else set())
    for bill_id in bills - {None}:
        refresh_bill(change.firm, bill_id, None if change.seeding else change.now)


# ---------------------------------------------------------------- billable matters and clients


def unbilled(firm: Firm, matter_id: Any) -> tuple[float, float]:
    """(hours, amount) of a matter's billable activities not yet on a bill."""
    hours = amount = 0.0
    for activity in firm.children("Activity", "matter", matter_id):
        if activity.get("on_bill") or activity.get("non_billable"):
            continue
        hours += float(activity.get("rounded_quantity_in_hours") or 0.0)
        amount += float(activity.get("total") or 0.0)
    return round(hours, 4), _money(amount)


def billable_matter(firm: Firm, record: Record) -> dict[str, Any]:
    hours, amount = unbilled(firm, record["id"])
    matter = firm.get("Matter", record["id"]) or {}
    return {"unbilled_hours": hours, "unbilled_amount": amount,
            "display_number": matter.get("display_number", record.get("display_number")),
            "client": matter.get("client", record.get("client"))}


def billable_client(firm: Firm, record: Record) -> dict[str, Any]:
    matters = firm.children("BillableMatter", "client", record["id"])
    contact = firm.get("Contact", record["id"]) or {}
    return {
        "unbilled_hours": round(sum(float(m.get("unbilled_hours") or 0.0) for m in matters), 4),
        "unbilled_amount": _money(sum(float(m.get("unbilled_amount") or 0.0) for m in matters)),
        "billable_matters": [m["id"] for m in matters], "billable_matters_count": len(matters),
        "name": contact.get("name", record.get("name")),
    }


def refresh_billable(firm: Firm, matter_id: Any, now) -> None:
    """After an activity's change: the matter's and its client's unbilled figures."""
    row = firm.get("BillableMatter", matter_id)
    if row is None:
        return
    row.update(billable_matter(firm, row))
    firm.touch("BillableMatter", row, None)
    client = firm.get("BillableClient", row.get("client"))
    if client is not None:
        client.update(billable_client(firm, client))
        firm.touch("BillableClient", client, None)


RULES = [
    Rule("LineItem", "from-activity", "default",
         "LineItem_base.quantity 'The amount of hours for the LineItem', price 'The price'; LineItem.activity. "
         "UNCONFIRMED: a line item made from an activity copies its matter, user, date, rate and rounded hours",
         _from_activity),
    derived("LineItem", "line-amounts", ("sub_total", "tax", "secondary_tax", "total"), line_amounts,
            "LineItem_base.sub_total 'The subtotal amount', tax 'The tax amount', total 'The total amount'; "
            "Bill_base.tax_rate. UNCONFIRMED: sub_total = price x quantity, tax at the bill's rate when taxable"),
    Rule("LineItem", "bill-totals", "link", "Bill_base.sub_total 'Sub total for the Bill' (from its line items)",
         _bill_of_line),
    Rule("Bill", "defaults", "default",
         "Bill_base.number 'The Bill identifier (not necessarily numeric)', issued_at, due_at. UNCONFIRMED: "
         "sequential numbers per account, issued today, due in 30 days", _bill_defaults,
         lambda f, r: bool(r.get("number")), owns=("number", "due_at"), on="create"),
    Rule("Bill", "due-after-issue", "validate", "Bill_base.issued_at/due_at. UNCONFIRMED: 422 when due before issued",
         _due_after_issue, lambda f, r: not (r.get("issued_at") and r.get("due_at") and r["due_at"] < r["issued_at"])),
    derived("Bill", "bill-amounts",
            ("sub_total", "services_sub_total", "tax_sum", "secondary_tax_sum", "total_tax", "total", "due", "paid",
             "balance", "paid_at"), bill_amounts,
            "Bill_base.sub_total 'Sub total for the Bill', total 'The total with interest', due 'with interest and "
            "less discounts', paid 'The total amount paid', balance 'The outstanding balance', paid_at 'The date of "
            "the last payment'; Allocation.bill/amount (payments). UNCONFIRMED: no interest or discounts, so due = total"),
    Rule("Bill", "state-follows-payments", "transition",
         "Bill_base.state 'The billing state the Bill is in'; BEHAVIOR.md 12.3 (bills with payments). UNCONFIRMED: "
         "paid exactly when payments cover an issued bill; 422 for paid with a balance or payments on a draft",
         _bill_state, _bill_state_holds),
    Rule("Bill", "activities-follow-state", "link", "Activity_base.billed/on_bill follow the bill's state",
         _activities_follow),
    Rule("Allocation", "payment-to-bill", "link",
         "Bill_base.paid 'The total amount paid for the Bill'; Allocation.bill. UNCONFIRMED: 422 for a payment "
         "on a draft or awaiting-approval bill", _payment_to_bill),
    derived("BillableMatter", "unbilled-matter", ("unbilled_hours", "unbilled_amount", "display_number", "client"),
            billable_matter, "BillableMatter_base.unbilled_hours 'The unbilled number of hours for the matter', "
            "unbilled_amount 'The unbilled amount for the matter'"),
    derived("BillableClient", "unbilled-client",
            ("unbilled_hours", "unbilled_amount", "billable_matters", "billable_matters_count", "name"), billable_client,
            "BillableClient_base.unbilled_hours 'The unbilled hours of the client', billable_matters_count "
            "'The total number of billable matters the client has'"),
]
