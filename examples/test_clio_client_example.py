"""One test, two ways to reach the mock: in-process interception and a live loopback mock.

The code under test (``clio_client.Clio``) is the same object built the same way; only the base
URL differs: Clio's own host (``https://app.clio.com``) while ``clio_mock.intercept()`` is active,
the live mock's ``http://127.0.0.1:PORT`` otherwise.
"""

from __future__ import annotations

import pytest
from clio_client import CLIO_BASE, Clio

from mockserver.clio.oauth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET


@pytest.fixture(params=["in-process", "live-loopback"])
def clio_base(request, clio_mock):
    """Where the client is pointed: Clio's host (intercepted) or the live mock's URL."""
    if request.param == "in-process":
        with clio_mock.intercept():
            yield CLIO_BASE
    else:
        yield clio_mock.url


def test_refresh_paging_create_and_download(clio_base, clio_mock, clio_records):
    token = clio_mock.token()
    clio_mock.advance(31 * 86400)  # the access token has expired: the client must refresh
    clio = Clio(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, token["refresh_token"], token["access_token"], base_url=clio_base)

    matters = list(clio.each("matters.json", fields="id,display_number", limit=7))
    assert clio.refreshes == 1
    assert len(matters) == len(clio_mock.state.store.accounts[1].table("Matter")) > 7  # several pages
    assert len(clio_mock.requests("GET", "/api/v4/matters.json")) > 1

    contact = clio.create_contact("Ada", "Lovelace")
    assert contact["name"] == "Ada Lovelace"
    assert clio_mock.state.store.accounts[1].table("Contact").get(contact["id"]) is not None  # stored in the same mock

    document = clio_records.create("Document", name="engagement.pdf")
    assert clio.download_document(document["id"]) == f"clio-mock file content for Document {document['id']}\n".encode()
