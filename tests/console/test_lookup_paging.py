"""The look-up pages a page at a time over HTTP: the "next page" link leads on from the last
row shown, until a page comes back short (pages of one row here, instead of fifty: the API's
paging, so the last full page still offers a next one, which is empty)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest

from gateway.console import lookups
from tests.console.conftest import OPERATOR, sign_in
from tests.factories import document_bytes
from tests.harness import BA_DINH, FINANCE, HOME_AFFAIRS

_NEXT = re.compile(r'<a id="next" href="([^"]+)"')
_ROW = re.compile(r'<tr data-(?:id|seq)="([^"]+)"')


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
