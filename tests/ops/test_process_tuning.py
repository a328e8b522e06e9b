"""What `edocgw serve` does to the process before it serves: checked in a fresh interpreter,
since both settings are process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json, sys
from gateway.runtime.memory import GC_YOUNG_THRESHOLD, collect_less_often, return_large_buffers
before = gc.get_freeze_count()
collect_less_often()
json.dump({
    "threshold": gc.get_threshold(),
    "young": GC_YOUNG_THRESHOLD,
    "frozen_before": before,
    "frozen_after": gc.get_freeze_count(),
    "glibc": return_large_buffers(),
}, sys.stdout)
"""


def probe() -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_start_up_objects_are_frozen_and_collections_come_less_often() -> None:
    found = probe()

    assert found["threshold"] == [found["young"], 50, 100]
    assert found["frozen_before"] == 0
    assert isinstance(found["frozen_after"], int) and found["frozen_after"] > 1000


def test_large_buffers_are_returned_to_the_system_on_glibc() -> None:
    assert probe()["glibc"] is True  # this CI machine runs glibc; elsewhere it answers False
