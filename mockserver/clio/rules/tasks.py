"""Tasks: who assigned it, and when it was completed."""

from __future__ import annotations

from mockserver.clio.rules import PRIOR_STATES, Change, Firm, Rule, owner
from mockserver.engine.store import Record


def _completed(change: Change) -> None:
    """Completing a task stamps ``completed_at`` (unless the write gives it); any other
    status has none."""
    record = change.record
    if record.get("status") == "complete":
        if record.get("completed_at") is None or (change.changed("status") and not change.given("completed_at")):
            record["completed_at"] = change.timestamp
    else:
        record["completed_at"] = None


def _completed_holds(firm: Firm, record: Record) -> bool:
    done = record.get("completed_at")
    if (record.get("status") == "complete") != (done is not None):
        return False
    return done is None or record.get("created_at") is None or _ts(done) >= _ts(record["created_at"])


def _ts(value: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# A seeded complete task was pending before (it was completed at its updated_at).
PRIOR_STATES["Task"] = lambda r: {"status": "pending"} if r.get("status") == "complete" else {}

RULES = [
    owner("Task", "assigner", "Task.assigner (User_base). UNCONFIRMED: the user who creates a task assigns it"),
    Rule("Task", "completed-at", "transition",
         "Task_base.completed_at 'The time the Task was completed'; status 'complete'", _completed, _completed_holds,
         owns=("completed_at",)),
]
