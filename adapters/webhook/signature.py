"""The webhook's signature: HMAC-SHA256 under the agency's secret over the signed headers and
the body, so that a receiver can trust what the headers say as much as the body, and refuse a
request replayed later (docs/adapters.md gives the recipe for receivers).

    signed = "<Edoc-Timestamp>\n<Edoc-Delivery-Id>\n<Edoc-Message-Id>\n<Edoc-Kind>\n<Edoc-From>\n
              <Edoc-Document-Id>\n" (UTF-8) followed by the body bytes
    Edoc-Signature: sha256=<lowercase hex of HMAC-SHA256(secret, signed)>
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

SIGNED_HEADERS = (
    "Edoc-Timestamp",
    "Edoc-Delivery-Id",
    "Edoc-Message-Id",
    "Edoc-Kind",
    "Edoc-From",
    "Edoc-Document-Id",
)
SIGNATURE_HEADER = "Edoc-Signature"
SCHEME = "sha256="


def signature(secret: bytes, headers: Mapping[str, str], body: bytes) -> str:
    """The Edoc-Signature value for these headers (SIGNED_HEADERS must all be there)."""
    signed = "".join(f"{headers[name]}\n" for name in SIGNED_HEADERS).encode() + body
    return SCHEME + hmac.new(secret, signed, hashlib.sha256).hexdigest()
