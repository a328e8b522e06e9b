"""The chain's link built by hand is byte for byte what json.dumps gave when the log was
written: every stored entry must still verify."""

from __future__ import annotations

import hashlib
import json

from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.links import link_digest

# Lone surrogates cannot be encoded to UTF-8 by either form: the gateway never stores them.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
SOME_TEXT = st.one_of(st.none(), TEXT)
AWKWARD = ["", '"', "\\", "\x00\x1f\x7f", "Sở Tài chính — “QĐ” 12/2026", "\u2028\u2029", "😀"]


def as_written(
    prev: str,
    seq: int,
    at: float,
    event: str,
    actor: str | None,
    message_id: str | None,
    recipient: str | None,
    data: str,
) -> str:
    """What gateway.audit.chain.entry_hash computed before the link was built by hand."""
    fields = [prev, seq, repr(at), event, actor, message_id, recipient, data]
    return hashlib.sha256(json.dumps(fields, ensure_ascii=False).encode()).hexdigest()


ENTRY = st.tuples(
    TEXT,  # prev_hash
    st.integers(min_value=1, max_value=2**62),  # seq
    st.floats(allow_nan=False, allow_infinity=False),  # at
    TEXT,  # event
    SOME_TEXT,  # actor
    SOME_TEXT,  # message_id
    SOME_TEXT,  # recipient
    TEXT,  # data
)


@given(ENTRY)
def test_any_entry_hashes_as_json_dumps_did(
    fields: tuple[str, int, float, str, str | None, str | None, str | None, str],
) -> None:
    assert link_digest(*fields) == as_written(*fields)


def test_awkward_characters_hash_as_json_dumps_did() -> None:
    for text in AWKWARD:
        data = json.dumps({"code": text}, ensure_ascii=False)
        fields = ("0" * 64, 7, 1_764_265_600.25, text, text, None, text, data)
        assert link_digest(*fields) == as_written(*fields)


def test_a_known_entry_keeps_its_hash() -> None:
    """Pinned: a change to the link would leave every stored log unverifiable."""
    digest = link_digest("0" * 64, 1, 1_764_265_600.25, "accepted", "A", "m1", "B", "{}")
    assert digest == as_written("0" * 64, 1, 1_764_265_600.25, "accepted", "A", "m1", "B", "{}")
    assert (
        digest
        == hashlib.sha256(
            b'["0000000000000000000000000000000000000000000000000000000000000000", 1, '
            b'"1764265600.25", "accepted", "A", "m1", "B", "{}"]'
        ).hexdigest()
    )
