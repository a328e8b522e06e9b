"""Files that appear whole, and only inside the configured folders.

A file is written under a temporary name in the same directory, flushed to disk, renamed over
the final name, and the directory flushed, so that a reader never sees half a file and a crash
leaves either the old state or the new one (plus, at worst, a temporary file that the next
start removes).

The department controls what is in its folders and may put a symlink anywhere in them (a
subfolder, a file, a temporary name). Nothing here follows one: each directory is opened with
`O_DIRECTORY | O_NOFOLLOW` from its parent's descriptor and every name is used relative to an
open directory (`dir_fd`), files are created with `O_EXCL | O_NOFOLLOW` and read with
`O_NOFOLLOW` after an fstat says they are regular, and a rename or unlink acts on the link
itself. The configured folder's own last component must not be a symlink either; the
directories above it are the operator's.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from adapters.folder.names import bounded

TEMPORARY_SUFFIX = ".tmp"
MODE = 0o640  # the department's system reads through its group
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO someone put there must not wait for a writer
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK


class UnsafeFolder(OSError):
    """A folder the adapter must use is a symlink or not a directory: it is not used."""


class NotRegular(OSError):
    """The name is a symlink, a folder or a device, not a regular file: it is not read."""


@contextlib.contextmanager
def opened_dir(name: str | Path, parent: int | None = None) -> Iterator[int]:
    """A descriptor of the directory `name` (relative to the open directory `parent`)."""
    try:
        fd = os.open(name, _DIRECTORY, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise UnsafeFolder(exc.errno, "a symlink or not a directory", str(name)) from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)


def temporary_name(name: str) -> str:
    return f".{bounded(name, '')}.{os.getpid()}{TEMPORARY_SUFFIX}"


def write_atomically(directory: int, name: str, data: bytes) -> None:
    """Write `name` whole in the open `directory`."""
    temporary = temporary_name(name)
    fd = _create(directory, temporary)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=directory)
        raise
    os.close(fd)
    os.replace(temporary, name, src_dir_fd=directory, dst_dir_fd=directory)
    os.fsync(directory)


def _create(directory: int, name: str) -> int:
    try:
        return os.open(name, _CREATE, MODE, dir_fd=directory)
    except FileExistsError:
        # a leftover of a process with our id, or something planted under the name: the name
        # goes (a symlink itself, never what it points to), then it is created anew
        os.unlink(name, dir_fd=directory)
        return os.open(name, _CREATE, MODE, dir_fd=directory)


def write_json(directory: int, name: str, value: Mapping[str, Any]) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=2) + "\n"
    write_atomically(directory, name, text.encode())


def read_regular(directory: int, name: str) -> bytes | None:
    """The content of the regular file `name`; None if it is gone (taken by another node)."""
    try:
        fd = os.open(name, _READ, dir_fd=directory)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotRegular(exc.errno, "a symlink", name) from None
        raise
    with os.fdopen(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(errno.EINVAL, "not a regular file", name)
        return file.read()


def move(source: int, name: str, target: int, new_name: str) -> bool:
    """Rename `name` from the open directory `source` into `target` (the entry itself, never
    what a symlink points to); False if it is gone (taken by another node)."""
    try:
        os.rename(name, new_name, src_dir_fd=source, dst_dir_fd=target)
    except FileNotFoundError:
        return False
    os.fsync(target)
    os.fsync(source)
    return True


def exists(directory: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def free_name(directory: int, name: str, suffix: str) -> str:
    """`name`, or `<stem>~<n><suffix>` when a different file already has that name."""
    if not exists(directory, name):
        return name
    stem = name[: -len(suffix)]
    n = 2
    while exists(directory, bounded(f"{stem}~{n}", suffix)):
        n += 1
    return bounded(f"{stem}~{n}", suffix)


def remove_leftovers(directory: int, older_than_s: float, now: float) -> int:
    """Temporary files of writes that a crash interrupted (old enough not to be another
    node's write under way), in the open `directory` only."""
    removed = 0
    for entry in os.scandir(directory):
        if not (entry.name.startswith(".") and entry.name.endswith(TEMPORARY_SUFFIX)):
            continue
        with contextlib.suppress(FileNotFoundError):
            found = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(found.st_mode) or now - found.st_mtime < older_than_s:
                continue
            os.unlink(entry.name, dir_fd=directory)  # a symlink goes, not what it points to
            removed += 1
    return removed
