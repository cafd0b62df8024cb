"""Deletes that are not plain deletes (BEHAVIOR.md 12.3), as handlers for those operations.

* ``DELETE /bills/{id}``: a draft or awaiting-approval bill is deleted, an unpaid
  (``awaiting_payment``) one is voided; refused once payments are recorded or in any other
  state. Its activities come off it (``billed``/``on_bill`` follow, by the rules).
* ``DELETE /line_items/{id}``: refused when its bill is no longer editable; the bill's totals
  follow.
* ``DELETE /documents/{id}`` and ``/folders/{id}``: refused with ``DeleteFailed`` for the root
  folder and locked items. (Clio moves them to a trash; what a trashed item's GET answers is not
  documented, so the mock deletes them, as the contract kit's create/destroy/show-404 expects.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mockserver.clio.rules import Firm
from mockserver.clio.rules.bills import OPEN_STATES, refresh_bill
from mockserver.engine.errors import ClioError, unprocessable
from mockserver.engine.store import Account, Record

if TYPE_CHECKING:
    from mockserver.engine.handlers import ApiRequest, ApiResponse, Engine


class Deletes:
    """Installs Clio's delete semantics for bills, line items, documents and folders."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.index = engine.index

    def install(self) -> None:
        own = {"Bill#destroy": self.bill, "LineItem#destroy": self.line_item, "Document#destroy": self.folder_or_document,
               "Folder#destroy": self.folder_or_document}
        for op in self.index.operations:
            if op.operation_id in own:
                self.engine.handlers[op.operation_id] = own[op.operation_id]

    def _find(self, request: ApiRequest, account: Account) -> Record:
        return self.engine._find(request, account)

    def bill(self, request: ApiRequest, account: Account) -> ApiResponse:
        from mockserver.engine.handlers import ApiResponse

        store = self.engine.store
        with store.write():
            bill = self._find(request, account)
            self.engine._check_if_match(request, bill)
            state = bill.get("state")
            if float(bill.get("paid") or 0.0) > 0.005:
                raise unprocessable("A bill with payments recorded cannot be deleted or voided")
            if state in OPEN_STATES:
                firm = Firm(account, self.index)
                now = self.engine.writer.clock.now()
                for line in firm.children("LineItem", "bill", bill["id"]):
                    account.table("LineItem").delete(line["id"])
                for activity in firm.children("Activity", "bill", bill["id"]):
                    activity.update({"bill": None, "billed": False, "on_bill": False})
                    firm.touch("Activity", activity, now)
                account.table("Bill").delete(bill["id"])
                event, before = "deleted", None
            elif state == "awaiting_payment":
                before = self.engine.writer.update(account, self.index.models["Bill"], bill, {"state": "void"}, request.principal.user_id)
                store.touch(account.id, "Bill", bill["id"])
                event = "updated"
            else:
                raise unprocessable(f"A bill that is {state} cannot be deleted")
        store.notify(event, account.id, "Bill", bill, before)
        return ApiResponse(request.op.success_status)

    def line_item(self, request: ApiRequest, account: Account) -> ApiResponse:
        from mockserver.engine.handlers import ApiResponse

        store = self.engine.store
        with store.write():
            line = self._find(request, account)
            firm = Firm(account, self.index)
            bill = firm.get("Bill", line.get("bill"))
            if bill is not None and bill.get("state") not in OPEN_STATES:
                raise unprocessable(f"The line item's bill is {bill.get('state')} and can no longer be edited")
            account.table("LineItem").delete(line["id"])
            now = self.engine.writer.clock.now()
            activity = firm.get("Activity", line.get("activity"))
            if activity is not None and activity.get("bill") == line.get("bill"):
                activity.update({"bill": None, "billed": False, "on_bill": False})
                firm.touch("Activity", activity, now)
            if bill is not None:
                refresh_bill(firm, bill["id"], now)
        store.notify("deleted", account.id, "LineItem", line)
        return ApiResponse(request.op.success_status)

    def folder_or_document(self, request: ApiRequest, account: Account) -> ApiResponse:
        """Clio's documented refusals (``DeleteFailed``), then the engine's delete."""
        record = self._find(request, account)
        if request.op.model == "Folder" and record.get("root"):
            raise ClioError(400, "DeleteFailed", "Delete failed: The root folder cannot be trashed")
        if record.get("locked"):
            raise ClioError(400, "DeleteFailed", "Delete failed: This item contains locked items and cannot be deleted.")
        return self.engine.destroy(request, account)
