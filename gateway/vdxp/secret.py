"""Where an axis secret comes from: written in the configuration, or `env:NAME` to read it from
the environment at start-up (so that the file itself can be shared without the secret).

The HMAC of the SDK's signing needs the secret itself on both sides, so unlike bearer tokens
it cannot be kept as a hash.
"""

from __future__ import annotations

import os

ENV_PREFIX = "env:"
MIN_SECRET_CHARS = 16


class SecretError(ValueError):
    """The secret is missing or too short; the message names the variable, never the value."""


def resolve_secret(value: str) -> str:
    if value.startswith(ENV_PREFIX):
        name = value.removeprefix(ENV_PREFIX)
        found = os.environ.get(name)
        if not found:
            raise SecretError(f"environment variable {name} is not set")
        value = found
    if len(value) < MIN_SECRET_CHARS:
        raise SecretError(f"a secret of at least {MIN_SECRET_CHARS} characters is required")
    return value
