"""What a request declares about its document's secrecy, collected the same way for every way
in (the agency API, the national axis' façade): every value counts (docs/secrecy.md)."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

SECRECY_HEADER = "Edoc-Secrecy"


def declared_secrecy(
    request: web.Request, *, also: Iterable[str] = (), signed: str | None = None
) -> str | None:
    """Every secrecy declaration of `request`, joined by commas as HTTP combines repeated
    fields (the guard reads each): all `Edoc-Secrecy` headers, all headers named in `also`,
    then the `signed` value. None when there is none.

    Each header is heard however many times it is repeated, signed or not: a declaration can
    only make a document secret, never less secret than another one says."""
    values = [
        value for name in (SECRECY_HEADER, *also) for value in request.headers.getall(name, [])
    ]
    if signed is not None:
        values.append(signed)
    return ",".join(values) or None
