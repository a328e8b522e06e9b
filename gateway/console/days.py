"""Days typed into the console's filters: dd/MM/yyyy as Vietnamese write them (an ISO date,
as a browser's date field sends it, is taken too), turned into the local midnights the
services filter on."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gateway.errors import BadInput

FORMS = ("%d/%m/%Y", "%Y-%m-%d")


def day_of(raw: str | None, name: str) -> date | None:
    text = (raw or "").strip()
    if not text:
        return None
    for form in FORMS:
        try:
            return datetime.strptime(text[:20], form).date()
        except ValueError:
            continue
    raise BadInput(f"{name}={text[:20]!r}: give a date as dd/mm/yyyy")


def midnight(day: date | None, tz: ZoneInfo, days_after: int = 0) -> float | None:
    """The start of a local day (or of the day after it, for an inclusive end)."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days_after), time(), tz).timestamp()


def shown(day: date | None) -> str:
    return "" if day is None else day.strftime("%d/%m/%Y")
