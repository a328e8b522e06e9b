"""The text forms of dates and times in edXML: read leniently, written as QCVN 102 says.

QCVN 102 writes dates `yyyy/MM/dd` and times `yyyy/MM/dd HH:mm:ss` (sender's local time,
Vietnam); real senders also write `dd/MM/yyyy` and ISO 8601. Reading raises ValueError
for anything else and for impossible dates (2020/13/45).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

# the form QCVN 102 prescribes, tried first: one match, no partition
_QCVN_TIMESTAMP = re.compile(r"(\d{4})/(\d{2})/(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_YMD = re.compile(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?")
# a date with a time, as .NET DateTime and JavaScript toISOString() write date fields:
# 2019-01-16T00:00:00, 2019-01-15T17:00:00.000Z, 2019-01-16T00:00:00+07:00
_DATE_TIME = re.compile(r"\d{4}-\d{1,2}-\d{1,2}T.+")
# the zone of edXML's dates (QCVN 102: the sender's local time, Vietnam)
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def parse_date(text: str) -> date:
    """`yyyy/MM/dd`, `dd/MM/yyyy`, `yyyy-MM-dd` (also with `-` and `/` swapped), or an ISO 8601
    date and time, whose date is taken in Vietnam (`2019-01-15T17:00:00Z` is 2019/01/16)."""
    if _DATE_TIME.fullmatch(text):
        return _date_of(text)
    m = _YMD.fullmatch(text)
    if m:
        year, month, day = m[1], m[2], m[3]
    elif m := _DMY.fullmatch(text):
        year, month, day = m[3], m[2], m[1]
    else:
        raise ValueError(f"not a date: {text!r} (expected yyyy/MM/dd)")
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} ({exc})") from None


def _date_of(text: str) -> date:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text[:40]!r} (expected yyyy/MM/dd)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(VIETNAM)
    return moment.date()


def parse_timestamp(text: str) -> datetime:
    """A date and a time (`yyyy/MM/dd HH:mm:ss`, `dd/MM/yyyy HH:mm:ss`, ISO 8601) or a date."""
    m = _QCVN_TIMESTAMP.fullmatch(text)
    if m:
        try:
            y, mo, d, h, mi, sec = map(int, m.groups())
            return datetime(y, mo, d, h, mi, sec)
        except ValueError as exc:
            raise ValueError(f"not a date and time: {text!r} ({exc})") from None
    day_part, _, time_part = text.replace("T", " ", 1).partition(" ")
    if not time_part:
        return datetime.combine(parse_date(day_part), datetime.min.time())
    m = _TIME.fullmatch(time_part.strip())
    if m:
        day = parse_date(day_part)
        fraction = (m[4] or "").ljust(6, "0")
        try:
            return datetime(
                day.year, day.month, day.day, int(m[1]), int(m[2]), int(m[3] or 0), int(fraction)
            )
        except ValueError as exc:
            raise ValueError(f"not a date and time: {text!r} ({exc})") from None
    try:  # an offset or a zone (2025-10-23T16:28:42+07:00, ...Z)
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date and time: {text!r}") from None


def format_date(value: date) -> str:
    """`yyyy/MM/dd`."""
    return f"{value.year:04d}/{value.month:02d}/{value.day:02d}"


def format_timestamp(value: datetime) -> str:
    """`yyyy/MM/dd HH:mm:ss` when that loses nothing, else ISO 8601 (fractions, offsets)."""
    if value.tzinfo is None and value.microsecond == 0:
        return f"{format_date(value)} {value.hour:02d}:{value.minute:02d}:{value.second:02d}"
    return value.isoformat()
