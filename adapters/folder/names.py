"""Names in a department's folder: which are odd, and names derived from them that always fit.

A file name is up to 255 bytes; the adapter writes beside each file names made from it (its
receipt or problem, temporary names, `~2` for a name taken). Those are kept short here (a
printable prefix and a hash of the whole name), so that no name a department chooses can make
a derived one too long. Names the adapter will not submit at all (`odd_reason`) are moved aside.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata

# Longer names are set aside: their notes would not fit, and no document system needs them
MAX_NAME_BYTES = 200
_PREFIX_CHARS = 64


def odd_reason(name: str) -> str | None:
    """Why the adapter will not submit a file of this name; None if it will."""
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes, kept by the file system as surrogates
        return "the name is not valid UTF-8"
    if len(encoded) > MAX_NAME_BYTES:
        return f"the name is longer than {MAX_NAME_BYTES} bytes"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "the name holds control characters"
    return None


def printable(name: str) -> str:
    """`name` as text that can be logged, audited and written in JSON (escapes for the rest)."""
    raw = os.fsencode(name).decode("utf-8", "backslashreplace")
    return "".join(ch if unicodedata.category(ch) != "Cc" else f"\\x{ord(ch):02x}" for ch in raw)


def bounded(stem: str, suffix: str) -> str:
    """`stem + suffix`, or a short printable stem with a hash of `stem` when `stem` is odd."""
    if odd_reason(stem + suffix) is None and not stem.startswith("."):
        return stem + suffix
    digest = hashlib.sha256(os.fsencode(stem)).hexdigest()[:16]
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem[:_PREFIX_CHARS])
    return f"{safe.lstrip('.')}-{digest}{suffix}"
