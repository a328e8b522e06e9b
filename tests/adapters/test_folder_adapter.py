"""The folder adapter alone: atomic files in the inbox, the outbox's submissions and moves."""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.folder import FolderAdapter
from gateway.adapter_api import LifecycleEvent, OptionsError, TemporaryFailure
from tests.adapters.fakes import FakeHost, item

PROBLEM = {
    "type": "urn:edocgw:error:malformed_xml",
    "title": "The body is not well-formed XML",
    "status": 400,
    "detail": "line 1: premature end of data",
    "code": "malformed_xml",
}


def build(host: FakeHost, **options: Any) -> FolderAdapter:
    return FolderAdapter(
        instance="folder:T",
        agency="000.00.00.H26",
        options={"inbox": "in", "outbox": "out", "poll_s": 3600, "settle_s": 0, **options},
        host=host,
    )


@pytest.fixture
async def folder(tmp_path: Path) -> AsyncIterator[tuple[FolderAdapter, FakeHost]]:
    host = FakeHost(base_dir=tmp_path)
    adapter = build(host)
    await adapter.start()
    yield adapter, host
    await adapter.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"inbox": None}, "inbox: give a directory"),
        ({"outbox": ""}, "outbox: give a directory"),
        ({"outbox": "in"}, "outbox: must be apart from the inbox"),
        ({"outbox": "in/out"}, "outbox: must be apart from the inbox"),
        ({"poll_s": 0}, "poll_s: 0 is not a number of seconds from 0.01 to 3600"),
        ({"settle_s": "1"}, "settle_s: '1' is not a number of seconds"),
        ({"pattern": "*.xml"}, "unknown option(s) for the folder adapter: pattern"),
    ],
)
def test_bad_options_are_refused_naming_the_option(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(OptionsError) as refused:
        build(FakeHost(base_dir=tmp_path), **options)
    assert message in str(refused.value)


def test_relative_folders_are_relative_to_the_configuration(tmp_path: Path) -> None:
    adapter = build(FakeHost(base_dir=tmp_path), outbox="/srv/so-tc/out")
    assert adapter.options.inbox == tmp_path / "in"
    assert adapter.options.outbox == Path("/srv/so-tc/out")


def files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_deliveries_are_written_whole_under_a_stable_name(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    host.bodies = {"d-1": b"<edXML>one</edXML>", "d-2": b"<edXML>status</edXML>"}
    await adapter.deliver(item("d-1"))
    await adapter.deliver(item("d-2", kind="status"))
    await adapter.deliver(item("d-1"))  # delivered again after a crash: the same file
    assert files(tmp_path / "in") == ["d-1.edxml", "d-2.status.edxml"]
    assert (tmp_path / "in" / "d-1.edxml").read_bytes() == b"<edXML>one</edXML>"
    assert (tmp_path / "in" / "d-2.status.edxml").read_bytes() == b"<edXML>status</edXML>"
    assert host.delivered == [
        ("d-1", "written to the inbox as d-1.edxml"),
        ("d-2", "written to the inbox as d-2.status.edxml"),
        ("d-1", "written to the inbox as d-1.edxml"),
    ]


async def test_a_missing_inbox_is_a_temporary_failure_and_is_not_recreated(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    (tmp_path / "in").rename(tmp_path / "lost-mount")
    with pytest.raises(TemporaryFailure) as failure:
        await adapter.deliver(item("d-1"))
    assert failure.value.reason.startswith(f"cannot write d-1.edxml into {tmp_path / 'in'}: ")
    assert not (tmp_path / "in").exists()
    assert host.delivered == []


async def test_leftovers_of_an_interrupted_write_are_removed_at_start(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    old, young = inbox / ".d-1.edxml.123.tmp", inbox / ".d-2.edxml.456.tmp"
    for leftover in (old, young):
        leftover.write_bytes(b"<edXML>ha")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    adapter = build(FakeHost(base_dir=tmp_path))
    await adapter.start()
    await adapter.close()
    assert files(inbox) == [young.name]  # perhaps another node's write under way


def drop(outbox: Path, name: str, data: bytes) -> Path:
    temporary = outbox / (name + ".tmp")
    temporary.write_bytes(data)
    return temporary.rename(outbox / name)


async def test_a_complete_file_is_submitted_then_moved_to_sent_beside_its_receipt(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    outbox = tmp_path / "out"
    drop(outbox, "cv-12.edxml", b"<edXML>12</edXML>")
    (outbox / "half.tmp").write_bytes(b"<edXML>")
    (outbox / ".hidden.edxml").write_bytes(b"<edXML>")
    (outbox / "notes.txt").write_bytes(b"x")
    assert await adapter.outbox.poll() == 0  # seen once: not yet known to be complete
    assert await adapter.outbox.poll() == 1
    assert host.submitted == [(b"<edXML>12</edXML>", "000.00.00.H26")]
    assert files(outbox) == [
        ".hidden.edxml",
        "failed",
        "half.tmp",
        "notes.txt",
        "sent",
        "undelivered",
    ]
    assert files(outbox / "sent") == ["cv-12.edxml", "cv-12.receipt.json"]
    assert json.loads((outbox / "sent" / "cv-12.receipt.json").read_text()) == {
        "id": "m17",
        "kind": "edoc",
        "document_id": "DOC-1",
        "recipients": ["000.00.00.H26"],
    }


async def test_a_file_still_growing_is_not_taken(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    growing = tmp_path / "out" / "slow.edxml"
    growing.write_bytes(b"<edXML>")
    assert await adapter.outbox.poll() == 0
    with growing.open("ab") as more:
        more.write(b"...")
    assert await adapter.outbox.poll() == 0  # it changed since the last scan
    assert host.submitted == []
    assert await adapter.outbox.poll() == 1


async def test_a_young_file_waits_for_settle_s(tmp_path: Path) -> None:
    host = FakeHost(base_dir=tmp_path)
    adapter = build(host, settle_s=3600)
    await adapter.start()
    try:
        drop(tmp_path / "out", "a.edxml", b"<edXML/>")
        assert [await adapter.outbox.poll() for _ in range(3)] == [0, 0, 0]
    finally:
        await adapter.close()


async def test_a_refused_file_goes_to_failed_beside_the_problem(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    host.refuse = PROBLEM
    drop(tmp_path / "out", "hong.edxml", b"<edXML")
    await adapter.outbox.poll()
    assert await adapter.outbox.poll() == 1
    failed = tmp_path / "out" / "failed"
    assert files(failed) == ["hong.edxml", "hong.error.json"]
    assert json.loads((failed / "hong.error.json").read_text()) == PROBLEM
    assert (failed / "hong.edxml").read_bytes() == b"<edXML"


async def test_when_the_gateway_cannot_take_messages_the_files_wait(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    host.refuse = {**PROBLEM, "status": 503, "code": "unavailable"}
    drop(tmp_path / "out", "a.edxml", b"<edXML>a</edXML>")
    drop(tmp_path / "out", "b.edxml", b"<edXML>b</edXML>")
    await adapter.outbox.poll()
    assert await adapter.outbox.poll() == 0
    assert len(host.submitted) == 1  # the first was refused: the second was not tried
    host.refuse = None
    assert await adapter.outbox.poll() == 2
    assert files(tmp_path / "out" / "sent") == [
        "a.edxml",
        "a.receipt.json",
        "b.edxml",
        "b.receipt.json",
    ]


async def test_a_file_submitted_before_a_crash_is_answered_replayed_and_moved(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    drop(tmp_path / "out", "a.edxml", b"<edXML>a</edXML>")
    await host.submit(b"<edXML>a</edXML>", sender="000.00.00.H26")  # then the process died
    await adapter.outbox.poll()
    assert await adapter.outbox.poll() == 1
    assert files(tmp_path / "out" / "sent") == ["a.edxml", "a.receipt.json"]


async def test_a_name_already_in_sent_is_not_overwritten(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, _ = folder
    for content in (b"<edXML>first</edXML>", b"<edXML>second</edXML>"):
        drop(tmp_path / "out", "cv.edxml", content)
        await adapter.outbox.poll()
        assert await adapter.outbox.poll() == 1
    sent = tmp_path / "out" / "sent"
    assert files(sent) == ["cv.edxml", "cv.receipt.json", "cv~2.edxml", "cv~2.receipt.json"]
    assert (sent / "cv~2.edxml").read_bytes() == b"<edXML>second</edXML>"


async def test_the_sender_learns_in_undelivered_what_failed_for_good(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, _ = folder
    sent = item("d-9", sender="000.00.00.H26", recipient="000.00.13.H26")
    await adapter.on_event(LifecycleEvent("delivery_failed", sent, 1795800000.0, "HTTP 404"))
    received = item("d-8", sender="000.00.13.H26", recipient="000.00.00.H26")
    await adapter.on_event(LifecycleEvent("delivery_failed", received, 1795800000.0, "x"))
    await adapter.on_event(LifecycleEvent("delivered", item("d-7", sender="000.00.00.H26"), 0.0))
    undelivered = tmp_path / "out" / "undelivered"
    assert files(undelivered) == ["d-9.json"]
    assert json.loads((undelivered / "d-9.json").read_text()) == {
        "delivery_id": "d-9",
        "message_id": "m-d-9",
        "document_id": "000.00.13.H26,2026/11/27,12/QĐ-UBND",
        "kind": "edoc",
        "recipient": "000.00.13.H26",
        "reason": "HTTP 404",
        "at": "2026-11-27T17:20:00Z",
    }
