"""The real edXML messages in `<checkout>/../shared/samples/vdxp` (never copied into the repo).

Tests reach them through `sample_path(name)` or the `samples` fixture. Where the folder is
missing the test is skipped, except in CI (env `CI` set), where a missing folder fails it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "shared" / "samples" / "vdxp"
MISSING = "<samples folder missing>"


def samples_dir() -> Path:
    """The samples folder; skips the calling test without it (fails it under CI)."""
    if not SAMPLES_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"the samples folder {SAMPLES_DIR} is missing and CI is set")
        pytest.skip(f"the samples folder {SAMPLES_DIR} is missing")
    return SAMPLES_DIR


def sample_path(name: str) -> Path:
    """One sample, by file name."""
    return samples_dir() / name


def sample_bytes(name: str) -> bytes:
    """One sample's bytes."""
    return sample_path(name).read_bytes()


def sample_names() -> list[str]:
    """The *.edxml file names, for parametrisation at collection time.

    Without the folder this is one placeholder, so that the test runs and `samples_dir()`
    decides between skip and failure (an empty parametrisation would skip silently, CI too).
    """
    if not SAMPLES_DIR.is_dir():
        return [MISSING]
    return sorted(p.name for p in SAMPLES_DIR.glob("*.edxml"))


@pytest.fixture
def samples() -> Path:
    """The samples folder (see `samples_dir`)."""
    return samples_dir()
