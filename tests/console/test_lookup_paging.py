"""The look-up pages a page at a time over HTTP: the "next page" link leads on from the last
row shown, until a page comes back short (pages of one row here, instead of fifty: the API's
paging, so the last full page still offers a next one, which is empty)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from gateway.console import lookups
from tests.console.conftest import AUDITOR, OPERATOR, sign_in
from tests.factories import document_bytes
from tests.harness import BA_DINH, FINANCE, HOME_AFFAIRS

_NEXT = re.compile(r'<a id="next" href="([^"]+)"')
_ROW = re.compile(r'<tr data-(?:id|seq)="([^"]+)"')
_RECIPIENT = re.compile(r'<tr data-document="[^"]*" data-recipient="([^"]+)"')


async def pages(net: Any, path: str) -> list[list[str]]:
    """The rows of each page, following "next page" to the end."""
    found = []
    while True:
        answer = await net.ops.get(path)
        assert answer.status == 200
        text = await answer.text()
        found.append(_ROW.findall(text))
        link = _NEXT.search(text)
        if link is None:
            return found
        path = html.unescape(link.group(1))


async def test_search_and_refusals_page_on_to_the_end(
    console_net: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookups, "PAGE", 1)
    sent = []
    for _ in range(3):
        status, receipt = await console_net[FINANCE.id].submit(
            document_bytes(sender=FINANCE.id, recipients=(BA_DINH.id,))
        )
        assert status == 202
        sent.append(receipt["id"])
        refused, _ = await console_net[HOME_AFFAIRS.id].submit(b"<edXML>not a document")
        assert refused == 400
    await sign_in(console_net.ops, *OPERATOR)

    found = await pages(console_net, f"/messages?from={FINANCE.id}")
    assert found == [*([message_id] for message_id in reversed(sent)), []]
    refusals = await pages(console_net, f"/refusals?agency={HOME_AFFAIRS.id}")
    assert [len(rows) for rows in refusals] == [1, 1, 1, 0]
    seqs = [int(rows[0]) for rows in refusals[:3]]
    assert seqs == sorted(seqs, reverse=True)


async def test_the_drill_down_pages_through_the_api_list(
    console_net: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookups, "DETAILS_PAGE", 1)
    status, _ = await console_net[FINANCE.id].submit(
        document_bytes(sender=FINANCE.id, recipients=(BA_DINH.id, HOME_AFFAIRS.id))
    )
    assert status == 202
    await sign_in(console_net.ops, *AUDITOR)
    path = f"/stats/details?agency={FINANCE.id}&from=2026-01-01&to=2026-01-31"
    found = []
    while True:
        text = await (await console_net.ops.get(path)).text()
        found.append(_RECIPIENT.findall(text))
        link = _NEXT.search(text)
        if link is None:
            break
        path = html.unescape(link.group(1))
    assert found == [*([r] for r in sorted((BA_DINH.id, HOME_AFFAIRS.id))), []]  # by recipient
