"""An unmodified third-party Clio client (PyPI ``clio-manage-api-client``), whose URLs come from its
own region table (``https://app.clio.com/api/v4``), reaching the mock through interception."""

from __future__ import annotations

import pytest

Clio = pytest.importorskip("clio_manage_python_client", reason="pip install --no-deps clio-manage-api-client pandas typing_inspect aiohttp")


def test_lists_pages_and_creates_through_interception(clio_intercept):
    client = Clio.Manage(access_token="dev")  # region "US": https://app.clio.com, as it ships

    page = client.get.matters(fields="id,display_number", limit=3)
    assert len(page["data"]) == 3 and page["meta"]["paging"]["next"].startswith("https://app.clio.com/api/v4/")

    contacts = clio_intercept.state.store.accounts[1].table("Contact")
    everyone = client.all.contacts(fields="id,name", limit=25)  # its own paging over meta.paging.next
    assert sorted(c["id"] for c in everyone["data"]) == sorted(contacts.ids)

    created = client.post.contacts(type="Person", first_name="Ada", last_name="Lovelace", name="Ada Lovelace", fields="id,name")
    assert created["data"]["name"] == "Ada Lovelace" and contacts.get(created["data"]["id"]) is not None
    assert clio_intercept.requests("POST", "/api/v4/contacts.json")


def test_its_eu_region_is_a_separate_mock(clio_intercept):
    eu = Clio.Manage(access_token=clio_intercept.token()["access_token"], region="EU")  # https://eu.app.clio.com
    with pytest.raises(RuntimeError, match="401"):
        eu.get.users.who_am_i()  # a US token in the EU region: Clio answers 401
