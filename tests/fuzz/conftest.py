"""A gateway as `edocgw serve` runs it, on loopback ports, for the fuzz tests of this folder.

One per module: fuzzing sends thousands of requests, and a child process shows a crash or a
hang as what it is. The child is killed at the end whatever happened.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings

from tests.e2e.process import GatewayProcess

REQUEST_TIMEOUT_S = 20.0  # a request unanswered this long is a hang, not a slow machine
# Examples per test: bounded so that the folder runs in about a minute on a shared machine;
# FUZZ_EXAMPLES=1000 explores further by hand, FUZZ_RANDOM=1 with other inputs on each run.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
RANDOM = bool(os.environ.get("FUZZ_RANDOM"))
# Reproducible in CI (a failure shows the same input on a rerun), no example database in the
# checkout, no shrinking: the failing request is printed as it was sent.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not RANDOM,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    gateway = GatewayProcess(tmp_path_factory.mktemp("live"))
    try:
        asyncio.run(gateway.start())
        yield gateway
    finally:
        try:
            gateway.stop()
        except subprocess.TimeoutExpired:
            gateway.kill()
