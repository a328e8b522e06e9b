"""The folder adapter's options, checked when the configuration is read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.adapter_api import OptionsError

KNOWN = ("inbox", "outbox", "poll_s", "settle_s")


@dataclass(frozen=True)
class FolderOptions:
    inbox: Path
    outbox: Path
    poll_s: float = 1.0  # how often the outbox is scanned
    settle_s: float = 1.0  # a file is taken once unchanged for this long and over two scans

    @classmethod
    def parse(cls, options: Mapping[str, Any], base_dir: Path) -> FolderOptions:
        unknown = [key for key in options if key not in KNOWN]
        if unknown:
            raise OptionsError(
                f"unknown option(s) for the folder adapter: {', '.join(unknown)} "
                f"(known: {', '.join(KNOWN)})"
            )
        inbox = _directory(options, "inbox", base_dir)
        outbox = _directory(options, "outbox", base_dir)
        if inbox == outbox or outbox in inbox.parents or inbox in outbox.parents:
            raise OptionsError("outbox: must be apart from the inbox (neither inside the other)")
        return cls(
            inbox=inbox,
            outbox=outbox,
            poll_s=_seconds(options, "poll_s", 1.0, 0.01, 3600.0),
            settle_s=_seconds(options, "settle_s", 1.0, 0.0, 3600.0),
        )


def _directory(options: Mapping[str, Any], key: str, base_dir: Path) -> Path:
    value = options.get(key)
    if not isinstance(value, str) or not value.strip():
        raise OptionsError(
            f"{key}: give a directory (relative to the configuration file or absolute)"
        )
    path = Path(value).expanduser()
    return path if path.is_absolute() else base_dir / path


def _seconds(
    options: Mapping[str, Any], key: str, default: float, low: float, high: float
) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise OptionsError(f"{key}: {value!r} is not a number of seconds from {low:g} to {high:g}")
    return float(value)
