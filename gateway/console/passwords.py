"""Console passwords: argon2id hashes in the configuration (`password_argon2`), never the
password itself. argon2-cffi's defaults are RFC 9106's second recommendation (64 MiB, t=3)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
MAX_PASSWORD_CHARS = 1024  # argon2 would hash megabytes; no one types them

# Verified when the name is unknown, so that an unknown name costs what a wrong password does
# and the answer's timing does not tell which names exist.
_DECOY = _HASHER.hash("edocgw-decoy-password")


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password is empty")
    if len(password) > MAX_PASSWORD_CHARS:
        raise ValueError(f"the password is longer than {MAX_PASSWORD_CHARS} characters")
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when `password` matches `stored`; with `stored` None, the same work and False.
    CPU-bound (~50-100 ms): call it off the event loop."""
    if len(password) > MAX_PASSWORD_CHARS:
        return False
    try:
        return _HASHER.verify(stored or _DECOY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False
