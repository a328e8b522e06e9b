"""Odd files in the outbox (a name too long, not UTF-8, with control characters; not a regular
file) are set aside once, with one audit entry, and never hold up the files after them."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.folder import FolderAdapter
from tests.adapters.fakes import FakeHost
from tests.adapters.test_folder_adapter import PROBLEM, build, drop, files

LONG = "q" * 234 + ".edxml"  # 240 characters: its note and temporary names would not fit


@pytest.fixture
async def folder(tmp_path: Path) -> AsyncIterator[tuple[FolderAdapter, FakeHost]]:
    host = FakeHost(base_dir=tmp_path)
    adapter = build(host)
    await adapter.start()
    yield adapter, host
    await adapter.close()


async def test_a_240_character_name_is_set_aside_once_and_the_rest_submitted(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    outbox = tmp_path / "out"
    drop(outbox, LONG, b"<edXML>long</edXML>")
    drop(outbox, "cv-1.edxml", b"<edXML>1</edXML>")
    assert [await adapter.outbox.poll() for _ in range(5)] == [1, 1, 0, 0, 0]
    assert host.submitted == [(b"<edXML>1</edXML>", "000.00.00.H26")]
    assert files(outbox / "sent") == ["cv-1.edxml", "cv-1.receipt.json"]
    failed = files(outbox / "failed")
    assert len(failed) == 2 and all(len(name.encode()) <= 100 for name in failed)
    moved, note = sorted(failed, key=lambda name: name.endswith(".json"))
    assert moved.startswith("q" * 64 + "-") and moved.endswith(".edxml")
    assert note == moved.removesuffix(".edxml") + ".error.json"
    assert (outbox / "failed" / moved).read_bytes() == b"<edXML>long</edXML>"
    problem = json.loads((outbox / "failed" / note).read_text())
    assert (problem["status"], problem["code"], problem["file"]) == (400, "bad_request", LONG)
    assert problem["detail"].startswith("the name is longer than 200 bytes; ")
    reason = "the name is longer than 200 bytes"
    assert host.audited == [
        ("file_set_aside", {"file": LONG, "reason": reason, "moved_to": f"failed/{moved}"})
    ]


@pytest.mark.parametrize(
    ("name", "shown", "reason"),
    [
        (os.fsdecode(b"c\xf4ng-v\xe3n.edxml"), "c\\xf4ng-v\\xe3n.edxml", "not valid UTF-8"),
        ("a\nb.edxml", "a\\x0ab.edxml", "control characters"),
    ],
)
async def test_names_that_cannot_be_shown_are_set_aside_with_an_escaped_name(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path, name: str, shown: str, reason: str
) -> None:
    adapter, host = folder
    drop(tmp_path / "out", name, b"<edXML/>")
    assert [await adapter.outbox.poll() for _ in range(3)] == [1, 0, 0]
    assert host.submitted == []
    (audited,) = host.audited
    assert audited[1]["file"] == shown and reason in audited[1]["reason"]
    assert all(n.isprintable() for n in files(tmp_path / "out" / "failed"))


async def test_a_fifo_is_set_aside_without_being_opened(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    os.mkfifo(tmp_path / "out" / "pipe.edxml")  # opening it to read would wait for a writer
    drop(tmp_path / "out", "ok.edxml", b"<edXML>ok</edXML>")
    assert [await adapter.outbox.poll() for _ in range(3)] == [1, 1, 0]
    assert files(tmp_path / "out" / "failed") == ["pipe.edxml", "pipe.error.json"]
    assert [reason for reason, _ in host.audited] == ["file_set_aside"]
    assert host.submitted == [(b"<edXML>ok</edXML>", "000.00.00.H26")]


async def test_a_refused_file_with_a_long_name_gets_a_bounded_problem_name(
    folder: tuple[FolderAdapter, FakeHost], tmp_path: Path
) -> None:
    adapter, host = folder
    host.refuse = PROBLEM
    name = "đ" * 95 + ".edxml"  # 196 bytes: taken, but "<stem>.error.json" would be 201
    drop(tmp_path / "out", name, b"<edXML")
    await adapter.outbox.poll()
    assert await adapter.outbox.poll() == 1
    failed = files(tmp_path / "out" / "failed")
    assert name in failed
    (note,) = [n for n in failed if n.endswith(".error.json")]
    assert len(note.encode()) <= 255 and note.startswith("đ" * 64 + "-")
