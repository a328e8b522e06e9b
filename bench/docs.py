"""The documents a load run sends, built before the clock starts.

Each template is one edXML document serialised once, with a placeholder in place of the code
number; sending it joins the pieces around a fresh 10-digit sequence number, so every request
carries a new DocumentId (`<sender>,<date>,<seq>/BENCH-<run>`) at the cost of one bytes.join.
Large templates are few and small ones many, so the generator's memory stays a few tens of MB.
"""

from __future__ import annotations

import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.edxml import Organization, to_xml
from gateway.edxml.compose import compose_document
from gateway.edxml.model import Attachment

KIB = 1024
MIB = 1024 * KIB
PLACEHOLDER = "8264917305"  # 10 digits: CodeNumber allows 11
SEQ_WIDTH = len(PLACEHOLDER)
NAMED_SIZES = {"2k": 2 * KIB, "10k": 10 * KIB, "100k": 100 * KIB, "2m": 2 * MIB, "10m": 10 * MIB}
# The X-Road test mix: share of documents by total edXML size.
MIXES: dict[str, tuple[tuple[int, float], ...]] = {
    "xroad": (
        (2 * KIB, 0.30),
        (10 * KIB, 0.60),
        (100 * KIB, 0.09),
        (2 * MIB, 0.009),
        (10 * MIB, 0.001),
    ),
}
TEMPLATE_BUDGET = 24 * MIB  # per size class
MAX_TEMPLATES = 60


def parse_size(text: str) -> int:
    """`10k`, `2m`, `2048`, `512b`: bytes (k and m are binary)."""
    match = re.fullmatch(r"\s*(\d+)\s*([kKmM]?)[bB]?\s*", text)
    if not match:
        raise ValueError(f"size {text!r}: give bytes or a number with k or m (10k, 2m)")
    number, unit = int(match[1]), match[2].lower()
    return number * {"": 1, "k": KIB, "m": MIB}[unit]


def human(size: float) -> str:
    if size >= MIB:
        return f"{size / MIB:.1f} MiB"
    if size >= KIB:
        return f"{size / KIB:.1f} KiB"
    return f"{size:.0f} B"


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    token: str

    def organization(self) -> Organization:
        return Organization(self.id, self.name, "edoc-gateway bench")

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True)
class Template:
    sender: Agency
    recipients: tuple[str, ...]
    parts: tuple[bytes, ...]  # the XML split at the placeholder
    size: int  # bytes of every body made from it
    headers: dict[str, str]

    def body(self, seq: int) -> bytes:
        return f"{seq:0{SEQ_WIDTH}d}".encode().join(self.parts)


def notation(run_tag: str) -> str:
    return f"BENCH-{run_tag}"


def sequence_of(document_id: str, run_tag: str) -> int | None:
    """The sequence number of one of this run's documents, None for anyone else's."""
    _, _, tail = document_id.rpartition(",")
    number, _, note = tail.partition("/")
    if note != notation(run_tag) or not number.isdigit():
        return None
    return int(number)


def _xml(sender: Agency, recipients: Sequence[Agency], run_tag: str, blob: bytes | None) -> bytes:
    attachments = []
    if blob is not None:
        pdf = Attachment.of("cid:bench-1", "bench.pdf", blob, content_type="application/pdf")
        attachments.append(pdf)
    document = compose_document(
        sender.organization(),
        [r.organization() for r in recipients],
        number=PLACEHOLDER,
        notation=notation(run_tag),
        subject="Văn bản thử tải của edoc-gateway",
        attachments=attachments,
    )
    return to_xml(document)


def build_template(
    sender: Agency, recipients: Sequence[Agency], run_tag: str, size: int, blob: memoryview
) -> Template:
    """A document of about `size` bytes; `blob` (random bytes, reused) pads it out."""
    bare = _xml(sender, recipients, run_tag, b"")
    expected = bare.count(PLACEHOLDER.encode())
    raw_bytes = max(0, (size - len(bare)) * 3 // 4)
    padding = bytes(blob[:raw_bytes]) if raw_bytes else None  # below the bare size: none
    xml = _xml(sender, recipients, run_tag, padding)
    parts = tuple(xml.split(PLACEHOLDER.encode()))
    if len(parts) - 1 != expected:  # the random attachment happened to hold the placeholder
        raise ValueError("placeholder found in the attachment")
    return Template(
        sender=sender,
        recipients=tuple(r.id for r in recipients),
        parts=parts,
        size=len(xml),
        headers={**sender.auth(), "Content-Type": "application/xml"},
    )


@dataclass(frozen=True)
class SizeClass:
    size: int
    weight: float
    templates: tuple[Template, ...]


def build_classes(
    agencies: Sequence[Agency],
    sizes: Sequence[tuple[int, float]],
    run_tag: str,
    rng: random.Random,
    max_recipients: int = 2,
) -> list[SizeClass]:
    """Templates for each size class, from random senders to 1..max_recipients others."""
    if len(agencies) < 2:
        raise ValueError("a load run needs at least two agencies")
    largest = max(size for size, _ in sizes)
    blob = memoryview(os.urandom(largest * 3 // 4 + 1024))
    classes = []
    for size, weight in sizes:
        count = max(2, min(MAX_TEMPLATES, TEMPLATE_BUDGET // size))
        templates: list[Template] = []
        while len(templates) < count:
            sender = rng.choice(agencies)
            others = [a for a in agencies if a is not sender]
            recipients = rng.sample(others, rng.randint(1, min(max_recipients, len(others))))
            offset = rng.randrange(0, 1024)  # a different attachment per template
            try:
                templates.append(build_template(sender, recipients, run_tag, size, blob[offset:]))
            except ValueError:
                continue
        classes.append(SizeClass(size, weight, tuple(templates)))
    return classes


@dataclass(frozen=True)
class Prepared:
    """A document made and signed before the clock starts: signing costs the generator more
    than the gateway's verification, and a DocumentId cannot be spliced into a signed body."""

    template: Template
    body: bytes


def presign(
    classes: Sequence[SizeClass],
    rng: random.Random,
    count: int,
    sign: Callable[[str, bytes], bytes],
) -> list[Prepared]:
    """`count` signed documents, sequence numbers 1..count, drawn as the load would draw them."""
    weights = [c.weight for c in classes]
    prepared = []
    for seq in range(1, count + 1):
        size_class = rng.choices(classes, weights=weights)[0]
        template = rng.choice(size_class.templates)
        prepared.append(Prepared(template, sign(template.sender.id, template.body(seq))))
    return prepared
