"""Activities (time and expense entries): quantities, totals, and billed/on_bill from the bill."""

from __future__ import annotations

import math
from typing import Any

from mockserver.clio.rules import Change, Firm, Rule, count_of, derived, owner, today
from mockserver.engine.store import Record

ON_BILL_STATES = ("draft", "awaiting_approval", "awaiting_payment", "paid")
BILLED_STATES = ("awaiting_payment", "paid")
DEFAULT_ROUNDING_MINUTES = 6


def rounding_seconds(firm: Firm) -> int:
    """The firm's time rounding increment (BillingSetting.rounding, minutes), in seconds."""
    for setting in firm.table("BillingSetting"):
        minutes = setting.get("rounding")
        if isinstance(minutes, int) and 0 < minutes <= 60:
            return minutes * 60
        break
    return DEFAULT_ROUNDING_MINUTES * 60


def amounts(firm: Firm, record: Record) -> dict[str, Any]:
    """Hours, rounded quantity and totals of an activity, from quantity, price and flat_rate."""
    kind = record.get("type")
    price = float(record.get("price") or 0.0)
    quantity = record.get("quantity")
    out: dict[str, Any] = {}
    if kind == "TimeEntry":
        seconds = float(quantity or 0.0)
        step = rounding_seconds(firm)
        rounded = float(math.ceil(seconds / step - 1e-9) * step) if seconds > 0 else 0.0
        out["quantity_in_hours"] = round(seconds / 3600, 4)
        out["rounded_quantity"] = rounded
        out["rounded_quantity_in_hours"] = round(rounded / 3600, 4)
        amount = price if record.get("flat_rate") else price * rounded / 3600
    else:
        out["quantity_in_hours"] = out["rounded_quantity"] = out["rounded_quantity_in_hours"] = None
        amount = price * float(quantity if quantity is not None else 1.0) if kind in ("ExpenseEntry", "SoftCostEntry") else price
    amount = round(amount, 2)
    if record.get("non_billable"):
        out["total"], out["non_billable_total"] = 0.0, amount
    else:
        out["total"], out["non_billable_total"] = amount, 0.0
    return out


def bill_flags(firm: Firm, record: Record) -> dict[str, Any]:
    bill = firm.get("Bill", record.get("bill"))
    state = bill.get("state") if bill is not None else None
    return {"on_bill": state in ON_BILL_STATES, "billed": state in BILLED_STATES}


def _user_rate(change: Change) -> None:
    """A time entry without a rate is billed at its user's rate."""
    record = change.record
    if record.get("price") is None and record.get("type") == "TimeEntry":
        user = change.firm.get("User", record.get("user"))
        if user is not None and user.get("rate") is not None:
            record["price"] = float(user["rate"])


def _unbilled(change: Change) -> None:
    """An activity's change moves its matter's and client's unbilled hours and amount."""
    from mockserver.clio.rules.bills import refresh_billable

    matters = {change.record.get("matter")}
    if change.before is not None:
        matters.add(change.before.get("matter"))
    for matter_id in matters - {None}:
        refresh_billable(change.firm, matter_id, None if change.seeding else change.now)


RULES = [
    owner("Activity", "user", "UNCONFIRMED: an activity is the work of the user who records it (Clio's timer and "
          "time-entry form default to the current user); Activity.user is the User_base who did it"),
    Rule("Activity", "price-defaults-to-user-rate", "default",
         "Activity_base.price 'The hourly or flat rate of the Activity'; User_base.rate. UNCONFIRMED: the user's "
         "rate when a time entry is written without one (Clio's default rate, before matter custom rates)",
         _user_rate, on="create"),
    today("Activity", "date", "Activity_base.date 'The date the Activity was performed'. UNCONFIRMED: today "
          "when a write without the request validator (factories, scenarios) leaves it out"),
    derived("Activity", "quantities-and-total",
            ("quantity_in_hours", "rounded_quantity", "rounded_quantity_in_hours", "total", "non_billable_total"), amounts,
            "Activity_base.quantity_in_hours 'The number of hours the TimeEntry took'; rounded_quantity 'rounded "
            "accordingly to the billing settings. The rounded value is used to calculate the total'; price 'The "
            "hourly or flat rate'; flat_rate; total 'draft, billable and billed items'; non_billable_total; "
            "BillingSetting_base.rounding 'Minute increment for time rounding'. UNCONFIRMED: rounding up, 6 minutes "
            "without a billing setting; expenses cost price x quantity"),
    derived("Activity", "billed-from-bill", ("billed", "on_bill"), bill_flags,
            "Activity_base.billed 'added to an active bill that is in the state of awaiting_payment or paid'; "
            "on_bill 'draft, awaiting_approval, awaiting_payment or paid'"),
    Rule("Activity", "unbilled-totals", "link", "BillableMatter_base.unbilled_hours/unbilled_amount, "
         "BillableClient_base: the matter's and client's unbilled work", _unbilled),
]
for _model in ("Task", "CalendarEntry", "Note", "Communication"):
    RULES.append(count_of(_model, "time_entries_count", "time_entries",
                          f"{_model}_base.time_entries_count: the number of its time_entries"))
