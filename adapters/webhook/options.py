"""The webhook adapter's options, checked when the configuration is read."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from gateway.adapter_api import OptionsError

MIN_SECRET_CHARS = 32
KNOWN = ("url", "hmac_secret", "timeout_s", "max_connections")


@dataclass(frozen=True)
class WebhookOptions:
    url: str
    secret: bytes
    timeout_s: float = 30.0
    max_connections: int = 16

    def __repr__(self) -> str:  # never show the secret, in a traceback or a log
        return f"WebhookOptions(url={self.url!r}, timeout_s={self.timeout_s})"

    @classmethod
    def parse(cls, options: Mapping[str, Any]) -> WebhookOptions:
        unknown = [key for key in options if key not in KNOWN]
        if unknown:
            raise OptionsError(
                f"unknown option(s) for the webhook adapter: {', '.join(unknown)} "
                f"(known: {', '.join(KNOWN)})"
            )
        return cls(
            url=_url(options.get("url")),
            secret=_secret(options.get("hmac_secret")),
            timeout_s=_number(options, "timeout_s", 30.0, 0.1, 600.0),
            max_connections=int(_number(options, "max_connections", 16, 1, 1024, whole=True)),
        )


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise OptionsError("url: give the department's https:// (or http://) URL")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OptionsError(f"url: {value!r} is not an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise OptionsError("url: no credentials in the URL; the body is signed with hmac_secret")
    return value


def _secret(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise OptionsError(
            f"hmac_secret: required, at least {MIN_SECRET_CHARS} characters "
            "(or env:NAME to read it from the environment variable NAME)"
        )
    text: str = value
    if text.startswith("env:"):
        name = text[4:]
        found = os.environ.get(name)
        if not found:
            raise OptionsError(f"hmac_secret: the environment variable {name} is not set")
        text = found
    if len(text) < MIN_SECRET_CHARS:
        raise OptionsError(
            f"hmac_secret: {len(text)} characters is too short; give at least "
            f"{MIN_SECRET_CHARS} (e.g. `openssl rand -hex 32`)"
        )
    return text.encode()


def _number(
    options: Mapping[str, Any],
    key: str,
    default: float,
    low: float,
    high: float,
    whole: bool = False,
) -> float:
    value = options.get(key, default)
    number = isinstance(value, int) or (isinstance(value, float) and not whole)
    if isinstance(value, bool) or not number or not low <= float(value) <= high:
        kind = "a whole number" if whole else "a number"
        raise OptionsError(f"{key}: {value!r} is not {kind} from {low:g} to {high:g}")
    return float(value)
