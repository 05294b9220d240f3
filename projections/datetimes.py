"""Datetimes as Qdrant reads them in payloads and range bounds, and the integer it orders them by.

Accepted forms: RFC 3339, or `YYYY-MM-DD[T ]HH:MM[:SS[.f]]` optionally followed (when seconds are
given) by an offset `±HH[:MM]`/`±HHMM`, `Z` or ` UTC`; or `YYYY-MM-DD`. A naive datetime is UTC.
Fractions beyond microseconds are dropped. Every parsed datetime is timezone-aware, so any two
compare as instants.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

_DATETIME = re.compile(
    r"\s*(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])| UTC|\s?([+-])(\d{2})(?::?(\d{2}))?)?)?)?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# Payload values are parsed again at every evaluation; the same strings recur across requests.
@lru_cache(maxsize=8192)
def parse_datetime(text: str) -> datetime | None:
    """A datetime in one of the forms Qdrant accepts, timezone-aware; None if not one."""
    found = _DATETIME.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = found.groups()
    offset = 0 if sign is None else int(off_h) * 60 + int(off_m or 0)
    try:
        zone = timezone(timedelta(minutes=-offset if sign == "-" else offset))
        return datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
            int((fraction or "")[:6].ljust(6, "0")), tzinfo=zone,
        )  # fmt: skip
    except ValueError:  # out-of-range day, hour or offset
        return None


def to_micros(moment: datetime) -> int:
    """Microseconds since the Unix epoch of a timezone-aware datetime, exactly: Qdrant's integer
    form of a datetime, which datetime indexes and `order_by` sort by. Integer arithmetic, as
    going through float seconds is off by one for some instants."""
    return (moment - _EPOCH) // _MICROSECOND
