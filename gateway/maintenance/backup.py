"""Backup and restore of the embedded store and bus (docs/operations.md).

A backup copies each SQLite file with SQLite's online backup in one step: the copy is the
database as one read transaction saw it, and in WAL mode that reader never holds up the gateway's
writers. The store is copied before the bus; a delivery the copy of the store shows waiting
may then lack its claim in the copy of the bus, or have one already: restoring publishes a claim
for every waiting delivery again, and a claim is delivered only while its delivery still waits,
so each is delivered once. The manifest records what was copied: each file's size and SHA-256,
row counts and the audit log's head, which a restore checks.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway.bus import LOCAL_BUS_FILE
from gateway.store import SQLITE_FILE

MANIFEST = "manifest.json"
FILES = (SQLITE_FILE, LOCAL_BUS_FILE)
COUNTED = ("messages", "bodies", "deliveries", "events", "exchanges")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class FileEntry:
    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    created_at: str
    files: tuple[FileEntry, ...]
    counts: dict[str, int]
    audit_events: int
    audit_head: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        raw: dict[str, Any] = json.loads(text)
        files = tuple(FileEntry(**entry) for entry in raw["files"])
        return cls(
            created_at=str(raw["created_at"]),
            files=files,
            counts={str(k): int(v) for k, v in raw["counts"].items()},
            audit_events=int(raw["audit_events"]),
            audit_head=str(raw["audit_head"]),
        )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_empty_folder(path: Path) -> bool:
    return not path.exists() or (path.is_dir() and not any(path.iterdir()))


def _copy_online(source: Path, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # all pages in one step: one consistent snapshot
        dst.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
    finally:
        dst.close()
        src.close()


def store_facts(store_file: Path) -> tuple[dict[str, int], int, str]:
    """Row counts, the number of audit events and the audit head of a store file."""
    conn = sqlite3.connect(f"file:{store_file}?mode=ro", uri=True)
    try:
        counts = {
            table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
            for table in COUNTED
        }
        head = conn.execute("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return counts, counts["events"], "0" * 64 if head is None else str(head[0])


def backup(data_dir: Path, dest: Path, created_at: str) -> Manifest:
    """Copy the store and the bus of `data_dir` into the new or empty folder `dest`."""
    if not is_empty_folder(dest):
        raise BackupError(f"{dest} is not empty: give a new or empty folder for the backup")
    missing = [name for name in FILES if not (data_dir / name).is_file()]
    if missing:
        raise BackupError(f"{data_dir} holds no {', '.join(missing)}: is it the data folder?")
    dest.mkdir(parents=True, exist_ok=True)
    entries = []
    for name in FILES:
        _copy_online(data_dir / name, dest / name)
        entries.append(FileEntry(name, (dest / name).stat().st_size, sha256_of(dest / name)))
    counts, events, head = store_facts(dest / SQLITE_FILE)
    manifest = Manifest(created_at, tuple(entries), counts, events, head)
    (dest / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def read_manifest(src: Path) -> Manifest:
    try:
        return Manifest.from_json((src / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{src} has no {MANIFEST}: not a folder `edocgw backup` wrote") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{src / MANIFEST} cannot be read: {exc}") from None


def _check(entry: FileEntry, path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"{path} is missing")
    if path.stat().st_size != entry.bytes or sha256_of(path) != entry.sha256:
        raise BackupError(f"{path} does not match the manifest's checksum: the copy is damaged")


def restore(src: Path, data_dir: Path) -> Manifest:
    """Copy a checked backup into the empty data folder `data_dir`."""
    if not is_empty_folder(data_dir):
        raise BackupError(
            f"data folder {data_dir} is not empty: restore only into an empty data folder"
        )
    manifest = read_manifest(src)
    for entry in manifest.files:
        _check(entry, src / entry.name)
    data_dir.mkdir(parents=True, exist_ok=True)
    for entry in manifest.files:
        shutil.copyfile(src / entry.name, data_dir / entry.name)
        _check(entry, data_dir / entry.name)
    _, events, head = store_facts(data_dir / SQLITE_FILE)
    if (events, head) != (manifest.audit_events, manifest.audit_head):
        raise BackupError(f"the restored audit log ends at {head}, the manifest says otherwise")
    return manifest
