"""Seeding a big firm says how far it is, on the ``clio_mock.seeding`` logger (the CLI shows
it on stderr; a library user's stdout stays quiet)."""

from __future__ import annotations

import logging

from mockserver.data.seeding import SeedPlan, SeedProgress


def test_seeding_logs_progress_and_prints_nothing(app, monkeypatch, caplog, capsys):
    monkeypatch.setattr(SeedProgress, "every", 0.0)  # every 4,096 records instead of every second
    state = app.state
    with caplog.at_level(logging.INFO, logger="clio_mock.seeding"), state.store.write():
        account = state.store.add_account("Big Firm LLP")
        state.seeder.seed(account, SeedPlan(7, 0.1, {"Contact": 9000}))
    lines = [r.getMessage() for r in caplog.records if r.name == "clio_mock.seeding"]
    mid_contacts = [m for m in lines if "(Contact)" in m and "records" in m]
    assert len(mid_contacts) >= 2 and "step 1/2" in mid_contacts[0], lines  # during the 9,000 contacts, not only after
    assert any("references" in m and "step 2/2" in m for m in lines), lines
    assert lines[-1].startswith(f"seeded firm {account.id} (Big Firm LLP): ")
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
