"""Request signing as the axis' SDK does it (SDKVXP 2.0.1, `com.vpcp.services.VnptService`).

Every parameter of a call is a header, sent again as `XroadVnpt-<name>`;
`XroadVnpt-sign-header-key` lists the names joined by `;`, `XroadVnpt-sign-header` is a JSON
object of the prefixed names and their values, and `XroadVnpt-hash-header` is the hex
HMAC-SHA256 of that JSON text under the system's secret. `systemid` and `timestamp` are
parameters like the others. The HMAC covers the JSON text as it travelled, so a verifier never
rebuilds it: key order and spacing are the signer's business.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo

PREFIX = "XroadVnpt-"
KEY_HEADER = "XroadVnpt-sign-header-key"
SIGN_HEADER = "XroadVnpt-sign-header"
HASH_HEADER = "XroadVnpt-hash-header"
VERSION_HEADER = "XroadVnpt-version"
SDK_VERSION = "3.0.201608"  # what SDKVXP 2.0.1 sends in XroadVnpt-version
SYSTEMID = "systemid"
TIMESTAMP = "timestamp"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEADER_SAFE = re.compile(r"^[\x20-\x7e]*$")  # a value must travel unchanged as a header
# SimpleDateFormat("ddMMyyyy'T'HHmmss+SSSS"): local time, milliseconds on four digits
_SDK_TIME = re.compile(r"^(\d{2})(\d{2})(\d{4})T(\d{2})(\d{2})(\d{2})\+(\d{1,4})$")


class SigningError(Exception):
    """The signing of a request does not hold; the message says what (never the secret)."""


@dataclass(frozen=True)
class SignedRequest:
    """What a verified request says: only signed values, names folded to lower case
    (headers are case-insensitive, and SDK users write both `docId` and `docid`)."""

    systemid: str
    timestamp: float
    params: Mapping[str, str]
    # the HMAC (hex, lower case): unique to one signed call, the key of replay detection
    signature: str = ""
    # after this, the call is refused as stale: a replay need not be remembered longer
    valid_until: float = 0.0

    def get(self, name: str) -> str | None:
        return self.params.get(name.lower())


def sdk_timestamp(now: float, tz: tzinfo) -> str:
    local = datetime.fromtimestamp(now, tz)
    return f"{local:%d%m%Y}T{local:%H%M%S}+{local.microsecond // 1000:04d}"


def parse_timestamp(text: str, tz: tzinfo) -> float:
    """Unix time of the SDK's form (local time in `tz`) or of ISO 8601 (with an offset, or
    local time in `tz` without one)."""
    value = text.strip()
    match = _SDK_TIME.match(value)
    try:
        if match:
            day, month, year, hour, minute, second, millis = map(int, match.groups())
            if millis > 999:
                raise ValueError("milliseconds above 999")
            moment = datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=tz)
        else:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
    except ValueError:
        raise SigningError(
            f"timestamp {value!r}: write it as the SDK does (ddMMyyyyTHHmmss+SSSS, local time) "
            "or as ISO 8601"
        ) from None
    return moment.timestamp()


def sign_headers(
    params: Mapping[str, str], *, systemid: str, secret: str, timestamp: str
) -> dict[str, str]:
    """The headers of one signed call: the parameters (bare and prefixed), the three signing
    headers and the SDK's version header."""
    values = {SYSTEMID: systemid, TIMESTAMP: timestamp}
    for name, value in params.items():
        if name.lower() in {known.lower() for known in values}:
            raise ValueError(f"parameter {name!r} is given twice")
        values[name] = value
    for name, value in values.items():
        if not _NAME.match(name):
            raise ValueError(f"parameter name {name!r}: letters, digits, '.', '_' or '-'")
        if not _HEADER_SAFE.match(value):
            raise ValueError(f"parameter {name!r}: printable ASCII only (it travels as a header)")
    text = json.dumps(
        {PREFIX + name: value for name, value in values.items()}, separators=(",", ":")
    )
    headers: dict[str, str] = {}
    for name, value in values.items():
        headers[name] = value
        headers[PREFIX + name] = value
    headers[KEY_HEADER] = ";".join(values)
    headers[SIGN_HEADER] = text
    headers[HASH_HEADER] = _hmac_hex(secret, text.encode())
    headers[VERSION_HEADER] = SDK_VERSION
    return headers


def verify_headers(
    headers: Mapping[str, str],
    *,
    secret_for: Callable[[str], str | None],
    now: float,
    window_s: Callable[[str], float],
    tz: tzinfo,
) -> SignedRequest:
    """Check a call's signing and return what it signed; SigningError otherwise.

    `secret_for(systemid)` gives the system's secret (None: unknown system) and
    `window_s(systemid)` how far its timestamp may lie from `now`."""
    names, signed, raw = _signed_json(headers)
    systemid = signed.get(PREFIX + SYSTEMID)
    if not systemid:
        raise SigningError(f"{KEY_HEADER} must list systemid")
    secret = secret_for(systemid)
    if secret is None:
        raise SigningError(f"systemid {systemid!r} is not known to this gateway")
    given = headers.get(HASH_HEADER, "").strip().lower()
    if not hmac.compare_digest(_hmac_hex(secret, raw).encode(), given.encode("utf-8", "replace")):
        raise SigningError(
            f"{HASH_HEADER} is not the HMAC-SHA256 of {SIGN_HEADER} under the secret of {systemid}"
        )
    for name in names:
        if headers.get(PREFIX + name) != signed[PREFIX + name]:
            raise SigningError(f"header {PREFIX}{name} is missing or differs from its signed value")
    stamp = signed.get(PREFIX + TIMESTAMP)
    if not stamp:
        raise SigningError(f"{KEY_HEADER} must list timestamp")
    moment = parse_timestamp(stamp, tz)
    window = window_s(systemid)
    if abs(now - moment) > window:
        raise SigningError(
            f"timestamp {stamp!r} is {now - moment:+.0f} s from the gateway's clock; "
            f"at most {window:.0f} s either way is accepted (sign each call afresh)"
            + clock_hint(now - moment, now, window, tz)
        )
    params = {name.lower(): signed[PREFIX + name] for name in names}
    return SignedRequest(
        systemid=systemid,
        timestamp=moment,
        params=params,
        signature=given,
        valid_until=moment + window,
    )


def clock_hint(skew: float, now: float, window: float, tz: tzinfo) -> str:
    """The likely cause of a refused timestamp when the skew is a whole number of hours within
    the window: the SDK stamps the JVM's local time without an offset, and a JVM left in
    another time zone (containers run in UTC) is off by the difference of the two offsets."""
    hours = round(skew / 3600)
    if hours == 0 or abs(skew - hours * 3600) > window:
        return ""
    local = datetime.fromtimestamp(now, tz).utcoffset()
    caller_hours = (local.total_seconds() if local else 0.0) / 3600 - hours
    if not -12 <= caller_hours <= 14:
        return ""
    zone = getattr(tz, "key", None) or str(tz)
    return (
        f"; the caller's clock looks like UTC{caller_hours:+g} instead of {zone}: "
        f"the SDK must run with -Duser.timezone={zone}"
    )


def _signed_json(headers: Mapping[str, str]) -> tuple[list[str], dict[str, str], bytes]:
    for required in (KEY_HEADER, SIGN_HEADER, HASH_HEADER):
        if not headers.get(required):
            raise SigningError(f"header {required} is missing: sign the call as the SDK does")
    names = [name.strip() for name in headers[KEY_HEADER].split(";") if name.strip()]
    if len({name.lower() for name in names}) != len(names):
        raise SigningError(f"{KEY_HEADER} names a parameter twice")
    text = headers[SIGN_HEADER]
    try:
        signed = json.loads(text)
    except ValueError:
        raise SigningError(f"{SIGN_HEADER} is not JSON") from None
    if not isinstance(signed, dict) or not all(isinstance(v, str) for v in signed.values()):
        raise SigningError(f"{SIGN_HEADER} must be a JSON object of strings")
    if set(signed) != {PREFIX + name for name in names}:
        raise SigningError(f"{SIGN_HEADER} and {KEY_HEADER} do not name the same parameters")
    # the HMAC covers the bytes as received (aiohttp decodes headers with surrogateescape)
    return names, signed, text.encode("utf-8", "surrogateescape")


def _hmac_hex(secret: str, signed: bytes) -> str:
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sdk_hash_file(data: bytes) -> str:
    """The SDK's `hash-file` of an upload: the SHA-256 in hex, but each byte below 0x10 written
    with one digit (`Integer.toHexString(0xFF & b)`), which is the form the axis receives."""
    return _sdk_hex(hashlib.sha256(data).digest())


def hash_file_matches(value: str, data: bytes) -> bool:
    """`value` is the SHA-256 of `data`, in the SDK's form or as plain 64-digit hex."""
    given = value.strip().lower().encode("utf-8", "replace")
    digest = hashlib.sha256(data).digest()
    return any(
        hmac.compare_digest(given, form.encode()) for form in (digest.hex(), _sdk_hex(digest))
    )


def _sdk_hex(digest: bytes) -> str:
    return "".join(f"{byte:x}" for byte in digest)
