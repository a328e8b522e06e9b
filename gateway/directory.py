"""The agencies the gateway serves, as configured: data, never code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from gateway.config import DeliverySettings, PdfSignaturePolicy, Settings, SignaturePolicy


@dataclass(frozen=True)
class Agency:
    id: str
    name: str
    group: str
    signature: SignaturePolicy
    delivery: DeliverySettings
    pdf_signatures: PdfSignaturePolicy = "ignore"


class Directory:
    def __init__(self, settings: Settings) -> None:
        self._by_id = {
            a.id: Agency(
                id=a.id,
                name=a.name,
                group=a.group,
                signature=settings.signature_policy(a),
                delivery=a.delivery,
                pdf_signatures=a.pdf_signatures,
            )
            for a in settings.agencies
        }

    def get(self, organ_id: str) -> Agency | None:
        return self._by_id.get(organ_id)

    def __iter__(self) -> Iterator[Agency]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def ids(self) -> list[str]:
        return list(self._by_id)
