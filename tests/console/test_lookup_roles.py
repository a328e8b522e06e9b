"""The look-up pages over HTTP: who may open them, and what a bad filter answers (a page saying
what to fix, never a 500)."""

from __future__ import annotations

import html
from typing import Any

import pytest

from tests.console.conftest import AUDITOR, OPERATOR, sign_in
from tests.harness import FINANCE

BOTH = ("/messages", "/messages/no-such-message")
OPERATOR_ONLY = ("/refusals",)
AUDITOR_ONLY = (f"/stats/details?agency={FINANCE.id}",)


async def test_each_new_page_refuses_the_other_role_with_403(console_net: Any) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    for path in AUDITOR_ONLY:
        answer = await console_net.ops.get(path)
        assert answer.status == 403, path
        assert "Bạn không có quyền xem trang này." in await answer.text()
    for path in (*OPERATOR_ONLY, "/messages"):
        assert (await console_net.ops.get(path)).status == 200, path
    await console_net.ops.post("/logout", data={"csrf": "x"})
    console_net.ops.session.cookie_jar.clear()

    await sign_in(console_net.ops, *AUDITOR)
    for path in OPERATOR_ONLY:
        answer = await console_net.ops.get(path)
        assert answer.status == 403, path
    for path in (*AUDITOR_ONLY, "/messages"):
        assert (await console_net.ops.get(path)).status == 200, path


async def test_without_a_session_the_new_pages_send_to_the_sign_in(console_net: Any) -> None:
    for path in (*BOTH, *OPERATOR_ONLY, *AUDITOR_ONLY):
        answer = await console_net.ops.get(path, allow_redirects=False)
        assert answer.status == 303, path
        assert answer.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/messages?since=31/02/2026", 400, "since='31/02/2026': give a date as dd/mm/yyyy"),
        ("/messages?state=lost", 400, "state='lost': use one of queued"),
        ("/messages?from=000.00.00.X00", 404, "no such agency"),
        ("/messages?after=%21%21", 400, "after: give the `next` of the previous page"),
        ("/messages/no-such-message", 404, "no message no-such-message"),
        ("/refusals?after=abc", 400, "after: give the `next` of the previous page"),
        ("/refusals?since=2026-13-01", 400, "give a date as dd/mm/yyyy"),
    ],
)
async def test_a_bad_filter_is_said_on_the_page(
    console_net: Any, path: str, status: int, said: str
) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    answer = await console_net.ops.get(path)
    assert answer.status == status
    assert said in html.unescape(await answer.text())


@pytest.mark.parametrize(
    ("path", "status", "said"),
    [
        ("/stats/details", 400, "agency: name the sending agency"),
        (f"/stats/details?agency={FINANCE.id}&kind=all", 400, "kind='all': use one of"),
        (
            f"/stats/details?agency={FINANCE.id}&from=01/02/2026&to=01/01/2026",
            400,
            "to=2026-01-01 is before from=2026-02-01",
        ),
        (f"/stats/details?agency={FINANCE.id}&after=%5B1%5D", 400, "after: give the `next`"),
    ],
)
async def test_a_bad_drill_down_is_said_on_the_page(
    console_net: Any, path: str, status: int, said: str
) -> None:
    await sign_in(console_net.ops, *AUDITOR)
    answer = await console_net.ops.get(path)
    assert answer.status == status
    assert said in html.unescape(await answer.text())


async def test_the_new_pages_speak_english_when_asked(console_net: Any) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    for path, title in (("/messages", "Message search"), ("/refusals", "Refusals")):
        page = await (await console_net.ops.get(path + "?lang=en")).text()
        assert f"<h1>{title}</h1>" in page and "Tìm văn bản" not in page
        assert 'placeholder="dd/mm/yyyy"' in page
