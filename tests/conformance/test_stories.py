"""The conformance stories, written once (gateway.conformance.stories), pass on every channel."""

from __future__ import annotations

import pytest

from gateway.conformance.stories import STORIES, run_story
from tests.conformance.conftest import CHANNELS, ChannelFactory
from tests.harness import CITY


@pytest.mark.parametrize("story", list(STORIES))
@pytest.mark.parametrize("name", CHANNELS)
async def test_every_story_passes_on_every_channel(
    channel_factory: ChannelFactory, name: str, story: str
) -> None:
    channel = await channel_factory(name)
    result = await run_story(channel.context, story)
    assert result.passed, result.detail
    for receiver in channel.receivers.values():
        assert receiver.forged == []


@pytest.mark.parametrize("down", ["error", "unreachable"])
async def test_a_webhook_recipient_down_was_tried_and_failed_before_it_came_back(
    channel_factory: ChannelFactory, down: str
) -> None:
    channel = await channel_factory("webhook", down=down)
    result = await run_story(channel.context, "recipient_down_then_back")
    assert result.passed, result.detail
    receiver = channel.receivers[CITY.id]
    assert len(receiver.taken) == 1
    if down == "error":
        assert receiver.refused >= 1  # the gateway tried while the recipient answered 500


async def test_all_the_stories_in_one_run_on_one_gateway(channel_factory: ChannelFactory) -> None:
    channel = await channel_factory("folder")
    from gateway.conformance.stories import run_stories

    results = await run_stories(channel.context)
    assert [(r.story, r.passed) for r in results] == [(name, True) for name in STORIES]
