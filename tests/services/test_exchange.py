"""The exchange's guarantees without a broker or a killed process: 202 only once the bus has
the claims, and a record left by a process that died before it confirmed is published later."""

from __future__ import annotations

import pytest

from gateway.errors import Unavailable
from gateway.intake.submission import Submission
from gateway.store import messages as store
from tests.factories import document_bytes
from tests.harness import BA_DINH, CITY, FINANCE
from tests.services.fakes import Crash
from tests.services.parts import NOW, Services


def submission(services: Services, raw: bytes) -> Submission:
    caller = services.directory.get(FINANCE.id)
    assert caller is not None
    return Submission(raw=raw, caller=caller, received_at=NOW)


async def unpublished(services: Services) -> list[str]:
    return await services.db.read(lambda tx: store.unpublished_before(tx, NOW + 3600))


async def test_a_bus_that_refuses_withdraws_the_record_and_answers_503(services: Services) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=[CITY.id, BA_DINH.id])
    services.bus.down = True

    with pytest.raises(Unavailable) as refused:
        await services.intake.submit_document(submission(services, raw))

    assert refused.value.status == 503
    assert await unpublished(services) == []
    assert services.bus.published == []
    assert await services.audited("accepted") == 0
    # Nothing was accepted, so the sender's retry is a first acceptance, not a replay.
    services.bus.down = False
    receipt = await services.intake.submit_document(submission(services, raw))
    assert receipt.replayed is False
    assert sorted(m.queue for m in services.bus.published) == sorted([CITY.id, BA_DINH.id])
    assert await services.audited("accepted") == 2


async def test_a_record_left_between_record_and_confirm_is_republished_at_start(
    services: Services,
) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=[CITY.id, BA_DINH.id])
    services.db.crash_before_write = services.db.writes + 2  # 1: record, 2: confirm

    with pytest.raises(Crash):
        await services.intake.submit_document(submission(services, raw))

    assert len(services.bus.published) == 2  # the claims went out, the sender got no answer
    left = await unpublished(services)
    assert len(left) == 1
    restarted = services.restarted()

    assert await restarted.exchange.republish_pending(older_than_s=30) == 1

    assert sorted(m.queue for m in restarted.bus.published) == sorted([CITY.id, BA_DINH.id])
    assert await unpublished(restarted) == []
    assert await restarted.audited("accepted") == 2
    assert await restarted.exchange.republish_pending(older_than_s=30) == 0


async def test_the_senders_retry_finishes_what_the_dead_process_left(services: Services) -> None:
    raw = document_bytes(sender=FINANCE.id, recipients=[CITY.id])
    services.db.crash_before_write = services.db.writes + 2
    with pytest.raises(Crash):
        await services.intake.submit_document(submission(services, raw))
    left = await unpublished(services)
    restarted = services.restarted()

    receipt = await restarted.intake.submit_document(submission(restarted, raw))

    assert receipt.replayed is True
    assert receipt.message_id == left[0]
    assert [m.queue for m in restarted.bus.published] == [CITY.id]
    assert await unpublished(restarted) == []
    assert await restarted.audited("accepted") == 1
