"""The options of an agency reached through the national axis:
`delivery = { adapter = "vdxp", url = "...", systemid = "...", secret = "..." }`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from gateway.adapter_api import OptionsError
from gateway.vdxp import SecretError, resolve_secret

REQUIRED = ("url", "systemid", "secret")


@dataclass(frozen=True)
class AxisOptions:
    """One account on the axis. Agencies that share `url` and `systemid` share one poller, so
    they must agree on every option."""

    url: str  # the axis' endpoint, operations are POST <url>/<operation>
    systemid: str  # the city's system as registered with the axis
    secret: str = field(repr=False)  # or env:NAME; resolved when read
    poll: bool = True  # false on every gateway node but one, or for send-only use
    poll_interval_s: float = 30.0
    timeout_s: float = 60.0
    max_backoff_s: float = 600.0  # polling after axis errors: exponential, jittered, capped
    timezone: str = "Asia/Ho_Chi_Minh"  # the SDK stamps calls in local time

    @property
    def account(self) -> tuple[str, str]:
        return (self.url, self.systemid)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def read(cls, options: Mapping[str, Any]) -> AxisOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise OptionsError(f"unknown option(s) for the vdxp adapter: {', '.join(unknown)}")
        missing = [name for name in REQUIRED if not options.get(name)]
        if missing:
            raise OptionsError(f"the vdxp adapter needs {', '.join(missing)}")
        values = dict(options)
        values["url"] = _url(values["url"])
        try:
            values["secret"] = resolve_secret(str(values["secret"]))
        except SecretError as exc:
            raise OptionsError(f"secret: {exc}") from None
        for name in ("poll_interval_s", "timeout_s", "max_backoff_s"):
            values[name] = _positive(name, values.get(name, getattr(cls, name)))
        if not isinstance(values.get("poll", True), bool):
            raise OptionsError("poll: true or false")
        try:
            ZoneInfo(str(values.get("timezone", cls.timezone)))
        except (ZoneInfoNotFoundError, ValueError):
            raise OptionsError(f"timezone: unknown time zone {values['timezone']!r}") from None
        return cls(**values)


def _url(value: Any) -> str:
    text = str(value).rstrip("/")
    if not text.startswith(("http://", "https://")):
        raise OptionsError(f"url: an http:// or https:// URL was expected, not {text!r}")
    return text


def _positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise OptionsError(f"{name}: a number of seconds above 0")
    return float(value)
