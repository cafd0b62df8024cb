"""Matters: numbering, status dates, and the client who becomes a client."""

from __future__ import annotations

from mockserver.clio.rules import PRIOR_STATES, Change, Firm, Rule
from mockserver.engine.errors import unprocessable
from mockserver.engine.store import Record

STATUS_DATES = {"Open": "open_date", "Pending": "pending_date", "Closed": "close_date"}


def _number(change: Change) -> None:
    """Clio numbers matters one after another within an account: the mock's ids already are."""
    record = change.record
    if record.get("number") is None:
        record["number"] = record["id"] - change.firm.account.first_id + 1


def display_number(firm: Firm, record: Record) -> str | None:
    """Clio's default numbering: the zero-padded number and the client's (last) name."""
    if record.get("number") is None:
        return None
    client = firm.get("Contact", record.get("client"))
    label = ""
    if client is not None:
        if client.get("type", "Person") == "Person" and client.get("last_name"):
            label = client["last_name"]
        else:
            label = str(client.get("name") or "").split(" ")[0]
    label = "".join(c for c in label if c.isalnum() or c in "-'")
    return f"{int(record['number']):05d}" + (f"-{label}" if label else "")


def _display_number(change: Change) -> None:
    record, data = change.record, change.data
    generated = not data.get("display_number") if change.created else bool(data.get("reset_matter_number")) and "display_number" not in data
    if generated:
        record["display_number"] = display_number(change.firm, record)


def _display_number_holds(firm: Firm, record: Record) -> bool:
    return record.get("number") is None or str(record.get("display_number") or "").startswith(f"{int(record['number']):05d}")


def _status(change: Change) -> None:
    """A status change stamps its date (unless the write gives it); an open or pending matter
    has no close date; a close date is never before the open date."""
    record, data = change.record, change.data
    if change.created and record.get("status") is None:
        record["status"] = "Open"
    status = record.get("status")
    if status in STATUS_DATES and (change.created or change.changed("status")):
        stamp_field = STATUS_DATES[status]
        if not change.given(stamp_field) or record.get(stamp_field) is None:
            record[stamp_field] = change.today
        if status == "Closed" and record.get("open_date") is None and change.created:
            record["open_date"] = record["close_date"]
    if status != "Closed":
        if data.get("close_date") is not None and status is not None:
            raise unprocessable(f"close_date: a matter that is {status} has no close date")
        record["close_date"] = None
    opened, closed = record.get("open_date"), record.get("close_date")
    if opened and closed and closed < opened:
        raise unprocessable("close_date: a matter cannot close before it opened")


def _status_holds(firm: Firm, record: Record) -> bool:
    status, opened, closed, pending = (record.get(k) for k in ("status", "open_date", "close_date", "pending_date"))
    if status == "Open" and (not opened or closed):
        return False
    if status == "Pending" and (not pending or closed):
        return False
    if status == "Closed" and (not closed or (opened and opened > closed)):
        return False
    return not (pending and opened and status != "Pending" and pending > opened)


def _client_is_client(change: Change) -> None:
    """The contact a matter is for is a client (``is_client``)."""
    contact = change.firm.get("Contact", change.record.get("client"))
    if contact is not None and contact.get("is_client") is not True:
        contact["is_client"] = True
        change.firm.touch("Contact", contact, None if change.seeding else change.now)


def _client_is_client_holds(firm: Firm, record: Record) -> bool:
    contact = firm.get("Contact", record.get("client"))
    return contact is None or contact.get("is_client") is True


# A seeded closed matter was open before it closed (at its updated_at).
PRIOR_STATES["Matter"] = lambda r: {"status": "Open"} if r.get("status") == "Closed" else {}

RULES = [
    Rule("Matter", "number", "default",
         "Matter_base.number 'The number given to the Matter within an account'. "
         "UNCONFIRMED: sequential per account (the account's n-th matter is number n)",
         _number, lambda f, r: isinstance(r.get("number"), int), owns=("number",), on="create"),
    Rule("Matter", "display-number", "default",
         "Matter_base.display_number 'The reference and label of the Matter ... read only (generated) or "
         "customizable'; BEHAVIOR.md 12.5 (PATCH changes it only with reset_matter_number: true). "
         "UNCONFIRMED: Clio's default format, 00042-Lastname of the client",
         _display_number, _display_number_holds, owns=("display_number",)),
    Rule("Matter", "status-dates", "transition",
         "Matter_base.open_date 'The date the matter was set to open', close_date 'set to closed', "
         "pending_date 'set to pending'. UNCONFIRMED: a new matter without status is Open (Clio's "
         "new-matter form); an open or pending matter has no close_date (422 when one is sent)",
         _status, _status_holds, owns=("open_date", "close_date", "pending_date")),
    Rule("Matter", "client-is-client", "link", "Contact_base.is_client 'Whether or not the Contact is a client'; "
         "Matter.client: the contact a matter is for is its client",
         _client_is_client, _client_is_client_holds),
]
