"""The dispatcher delivers a claim while its delivery is queued: a claim published twice (a
republish after a crash, a redelivery) reaches the recipient once."""

from __future__ import annotations

import pytest

from gateway.errors import Unavailable
from gateway.intake.submission import Submission
from gateway.store import messages as store
from tests.factories import document_bytes
from tests.harness import CITY, FINANCE
from tests.services.parts import NOW, Services, received


async def accept(services: Services) -> str:
    caller = services.directory.get(FINANCE.id)
    assert caller is not None
    raw = document_bytes(sender=FINANCE.id, recipients=[CITY.id])
    receipt = await services.intake.submit_document(Submission(raw, caller, NOW))
    return receipt.deliveries[0].delivery_id


async def test_a_duplicate_claim_is_delivered_once(services: Services) -> None:
    delivery_id = await accept(services)
    services.bus.published.append(services.bus.published[0])  # published twice

    await services.dispatcher.handle(received(services, 0))
    await services.dispatcher.handle(received(services, 1, attempt=2))

    assert services.adapters[CITY.id].delivered == [delivery_id]
    found = await services.db.read(lambda tx: store.delivery(tx, delivery_id))
    assert found is not None and found.state == store.DELIVERED
    assert await services.audited("delivered") == 1


async def test_a_claim_of_a_withdrawn_record_is_not_delivered(services: Services) -> None:
    caller = services.directory.get(FINANCE.id)
    assert caller is not None
    raw = document_bytes(sender=FINANCE.id, recipients=[CITY.id])
    services.bus.confirms_lost = True  # the claim reached the broker, the 202 was never sent
    with pytest.raises(Unavailable):
        await services.intake.submit_document(Submission(raw, caller, NOW))

    await services.dispatcher.handle(received(services, 0))

    assert services.adapters[CITY.id].delivered == []
    assert await services.audited("delivered") == 0
