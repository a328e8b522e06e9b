"""The department controls its folders and may put a symlink anywhere in them: the adapter
never follows one, so nothing is written, read or deleted outside the configured folders."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from adapters.folder import FolderAdapter
from adapters.folder.files import temporary_name
from gateway.adapter_api import LifecycleEvent, TemporaryFailure
from tests.adapters.fakes import FakeHost, item
from tests.adapters.test_folder_adapter import PROBLEM, build, drop, files

UNSAFE = "unsafe_folder"


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir()}


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A directory outside the configured folders (another agency's inbox, say)."""
    target = tmp_path / "other-agency-inbox"
    target.mkdir()
    (target / "theirs.edxml").write_bytes(b"<edXML>theirs</edXML>")
    return target


def planted(host: FakeHost, folder: str, target: Path) -> FolderAdapter:
    """An adapter whose outbox/<folder> is a symlink to `target`."""
    (host.base_dir / "out").mkdir()
    (host.base_dir / "out" / folder).symlink_to(target, target_is_directory=True)
    return build(host)


@pytest.mark.parametrize("folder", ["failed", "sent"])
async def test_a_symlinked_sent_or_failed_is_refused_and_nothing_taken(
    tmp_path: Path, elsewhere: Path, folder: str
) -> None:
    host = FakeHost(base_dir=tmp_path, refuse=PROBLEM if folder == "failed" else None)
    adapter = planted(host, folder, elsewhere)
    await adapter.start()
    try:
        drop(tmp_path / "out", "pwn.edxml", b"<edXML")
        for _ in range(3):
            assert await adapter.outbox.poll() == 0
    finally:
        await adapter.close()
    assert snapshot(elsewhere) == {"theirs.edxml": b"<edXML>theirs</edXML>"}
    assert host.submitted == []  # not taken while it could not be settled
    assert "pwn.edxml" in files(tmp_path / "out")
    folder_path = str(tmp_path / "out" / folder)
    assert host.audited == [
        (UNSAFE, {"folder": folder_path, "detail": "a symlink or not a directory: not used"})
    ]


async def test_a_symlinked_undelivered_gets_no_report(tmp_path: Path, elsewhere: Path) -> None:
    host = FakeHost(base_dir=tmp_path)
    adapter = planted(host, "undelivered", elsewhere)
    await adapter.start()
    try:
        sent = item("d-9", sender="000.00.00.H26", recipient="000.00.13.H26")
        for _ in range(2):
            await adapter.on_event(LifecycleEvent("delivery_failed", sent, 1795800000.0, "x"))
        drop(tmp_path / "out", "ok.edxml", b"<edXML>ok</edXML>")  # the rest still works
        await adapter.outbox.poll()
        assert await adapter.outbox.poll() == 1
    finally:
        await adapter.close()
    assert snapshot(elsewhere) == {"theirs.edxml": b"<edXML>theirs</edXML>"}
    assert [reason for reason, _ in host.audited] == [UNSAFE]  # at start, once
    assert files(tmp_path / "out" / "sent") == ["ok.edxml", "ok.receipt.json"]


async def test_start_up_cleaning_stays_out_of_a_symlinked_folder(
    tmp_path: Path, elsewhere: Path
) -> None:
    leftover = elsewhere / ".x.edxml.1.tmp"
    leftover.write_bytes(b"not ours")
    os.utime(leftover, (time.time() - 3600, time.time() - 3600))
    adapter = planted(FakeHost(base_dir=tmp_path), "sent", elsewhere)
    await adapter.start()
    await adapter.close()
    assert sorted(snapshot(elsewhere)) == [".x.edxml.1.tmp", "theirs.edxml"]


async def test_a_symlinked_file_in_the_outbox_is_set_aside_unread(
    tmp_path: Path, elsewhere: Path
) -> None:
    host = FakeHost(base_dir=tmp_path)
    adapter = build(host)
    await adapter.start()
    try:
        (tmp_path / "out" / "steal.edxml").symlink_to(elsewhere / "theirs.edxml")
        drop(tmp_path / "out", "ok.edxml", b"<edXML>ok</edXML>")
        await adapter.outbox.poll()
        assert await adapter.outbox.poll() == 1
        assert await adapter.outbox.poll() == 0
    finally:
        await adapter.close()
    assert host.submitted == [(b"<edXML>ok</edXML>", "000.00.00.H26")]  # never the target
    failed = tmp_path / "out" / "failed"
    assert files(failed) == ["steal.edxml", "steal.error.json"]
    assert (failed / "steal.edxml").is_symlink()  # the link itself moved, its target untouched
    assert snapshot(elsewhere) == {"theirs.edxml": b"<edXML>theirs</edXML>"}
    assert [reason for reason, _ in host.audited] == ["file_set_aside"]


async def test_a_symlink_under_the_temporary_name_is_not_written_through(
    tmp_path: Path, elsewhere: Path
) -> None:
    host = FakeHost(base_dir=tmp_path)
    adapter = build(host)
    await adapter.start()
    try:
        victim = elsewhere / "theirs.edxml"
        (tmp_path / "in" / temporary_name("d-1.edxml")).symlink_to(victim)
        await adapter.deliver(item("d-1"))
    finally:
        await adapter.close()
    assert snapshot(elsewhere) == {"theirs.edxml": b"<edXML>theirs</edXML>"}
    assert files(tmp_path / "in") == ["d-1.edxml"]
    assert not (tmp_path / "in" / "d-1.edxml").is_symlink()


async def test_an_inbox_that_is_a_symlink_is_not_written(tmp_path: Path, elsewhere: Path) -> None:
    """A department pointing its inbox at another agency's would read that agency's mail."""
    (tmp_path / "in").symlink_to(elsewhere, target_is_directory=True)
    host = FakeHost(base_dir=tmp_path)
    adapter = build(host)
    await adapter.start()
    try:
        with pytest.raises(TemporaryFailure):
            await adapter.deliver(item("d-1"))
    finally:
        await adapter.close()
    assert snapshot(elsewhere) == {"theirs.edxml": b"<edXML>theirs</edXML>"}
    assert host.audited == [
        (
            UNSAFE,
            {"folder": str(tmp_path / "in"), "detail": "a symlink or not a directory: not used"},
        )
    ]
