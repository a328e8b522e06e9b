"""Signing in to the console over HTTP (DESIGN §4.6): the cookie, the headers, CSRF, roles,
the idle expiry, the slowdown of guessed passwords, signing out; bearer tokens unchanged."""

from __future__ import annotations

from typing import Any

from gateway.store.schema import console_sessions
from tests.console.conftest import AUDITOR, OPERATOR, MovableClock, csrf_in, sign_in
from tests.harness import OPERATOR_TOKEN, bearer


async def audit_events(net: Any, event: str) -> list[dict[str, Any]]:
    from tests.harness import AUDITOR_TOKEN

    response = await net.ops.get("/v1/audit/events?limit=1000", headers=bearer(AUDITOR_TOKEN))
    return [e for e in (await response.json())["events"] if e["event"] == event]


async def test_sign_in_sets_a_strict_http_only_cookie_and_the_overview_opens(
    console_net: Any,
) -> None:
    answer = await sign_in(console_net.ops, *OPERATOR)
    assert answer.status == 303
    assert answer.headers["Location"] == "/"
    cookie = answer.cookies["edocgw_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert not cookie["secure"]  # served over plain HTTP here
    page = await console_net.ops.get("/")
    assert page.status == 200
    html = await page.text()
    assert "Tổng quan" in html and "Sẵn sàng" in html
    assert page.headers["X-Frame-Options"] == "DENY"
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'none'" in policy
    [entry] = await audit_events(console_net, "console_signed_in")
    assert entry["actor"] == "ops"


async def test_the_session_id_is_stored_only_as_a_hash(console_net: Any) -> None:
    answer = await sign_in(console_net.ops, *OPERATOR)
    session_id = answer.cookies["edocgw_session"].value
    from gateway.store.db import Query

    rows = await console_net.gateway.db.read(lambda tx: tx.fetch(Query(console_sessions.select())))
    assert len(rows) == 1
    assert session_id not in str(dict(rows[0]))
    assert rows[0]["user_name"] == "ops"


async def test_without_a_session_every_page_sends_to_the_sign_in(console_net: Any) -> None:
    for path in ("/", "/queues", "/stats?kind=year", "/audit"):
        answer = await console_net.ops.get(path, allow_redirects=False)
        assert answer.status == 303, path
        assert answer.headers["Location"].startswith("/login?next=")
    login = await console_net.ops.get("/login")
    assert login.status == 200
    assert "Đăng nhập" in await login.text()
    assert login.headers["X-Frame-Options"] == "DENY"


async def test_english_is_one_click_away_and_remembered(console_net: Any) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    english = await console_net.ops.get("/queues?lang=en")
    assert "Queues" in await english.text()
    again = await console_net.ops.get("/queues")  # the cookie keeps the choice
    assert "Retry now" in await again.text()


async def test_the_wrong_role_gets_403(console_net: Any) -> None:
    await sign_in(console_net.ops, *AUDITOR)
    for path in ("/queues", "/dead-letters", "/trust"):
        answer = await console_net.ops.get(path)
        assert answer.status == 403, path
        assert "không có quyền" in await answer.text()
    assert (await console_net.ops.get("/stats")).status == 200
    assert (await console_net.ops.get("/")).status == 200


async def test_an_operator_may_not_see_statistics_or_the_audit_log(console_net: Any) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    for path in ("/stats", "/audit", "/stats/download?format=csv"):
        assert (await console_net.ops.get(path)).status == 403, path


async def test_a_form_without_its_csrf_token_is_refused(console_net: Any) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    agency = "000.00.13.H26"
    missing = await console_net.ops.post(f"/queues/{agency}/reset", data={})
    assert missing.status == 403
    forged = await console_net.ops.post(f"/queues/{agency}/reset", data={"csrf": "0" * 64})
    assert forged.status == 403
    assert await audit_events(console_net, "adapter_reset") == []
    token = csrf_in(await (await console_net.ops.get("/queues")).text())
    done = await console_net.ops.post(
        f"/queues/{agency}/reset", data={"csrf": token}, allow_redirects=False
    )
    assert done.status == 303
    [entry] = await audit_events(console_net, "adapter_reset")
    assert (entry["actor"], entry["recipient"]) == ("ops", agency)


async def test_the_sign_in_form_needs_its_own_token(console_net: Any) -> None:
    answer = await console_net.ops.post(
        "/login", data={"name": OPERATOR[0], "password": OPERATOR[1]}, allow_redirects=False
    )
    assert answer.status == 403
    assert "edocgw_session" not in answer.cookies


async def test_an_idle_session_expires_after_thirty_minutes(
    console_net: Any, clock: MovableClock
) -> None:
    await sign_in(console_net.ops, *OPERATOR)
    clock.advance(29 * 60)
    assert (await console_net.ops.get("/queues", allow_redirects=False)).status == 200
    clock.advance(29 * 60)  # idle time restarts with each request
    assert (await console_net.ops.get("/queues", allow_redirects=False)).status == 200
    clock.advance(30 * 60 + 1)
    expired = await console_net.ops.get("/queues", allow_redirects=False)
    assert expired.status == 303
    assert expired.headers["Location"] == "/login?next=%2Fqueues"


async def test_signing_out_ends_the_session(console_net: Any) -> None:
    answer = await sign_in(console_net.ops, *OPERATOR)
    session_id = answer.cookies["edocgw_session"].value
    token = csrf_in(await (await console_net.ops.get("/")).text())
    out = await console_net.ops.post("/logout", data={"csrf": token}, allow_redirects=False)
    assert out.status == 303 and out.headers["Location"] == "/login"
    replayed = await console_net.ops.get(
        "/", cookies={"edocgw_session": session_id}, allow_redirects=False
    )
    assert replayed.status == 303
    [entry] = await audit_events(console_net, "console_signed_out")
    assert entry["actor"] == "ops"


async def test_failed_sign_ins_are_audited_and_slowed_down(
    console_net: Any, clock: MovableClock
) -> None:
    for _ in range(5):
        wrong = await sign_in(console_net.ops, OPERATOR[0], "sai mật khẩu")
        assert wrong.status == 401
        assert "Sai tên đăng nhập hoặc mật khẩu" in await wrong.text()
    held = await sign_in(console_net.ops, *OPERATOR)  # even the right password waits now
    assert held.status == 429
    assert "thử lại sau 2 giây" in await held.text()
    failures = await audit_events(console_net, "console_sign_in_failed")
    assert [f["actor"] for f in failures] == ["ops"] * 5
    clock.advance(2)
    assert (await sign_in(console_net.ops, *OPERATOR)).status == 303


async def test_an_unknown_name_fails_like_a_wrong_password(console_net: Any) -> None:
    answer = await sign_in(console_net.ops, "nobody", "whatever")
    assert answer.status == 401
    [entry] = await audit_events(console_net, "console_sign_in_failed")
    assert entry["actor"] == "nobody"


async def test_bearer_tokens_keep_working_for_the_api(console_net: Any) -> None:
    answer = await console_net.ops.get("/v1/ops/queues", headers=bearer(OPERATOR_TOKEN))
    assert answer.status == 200
    assert answer.content_type == "application/json"
    refused = await console_net.ops.get("/v1/ops/queues")
    assert refused.status == 401
    assert refused.content_type == "application/problem+json"
