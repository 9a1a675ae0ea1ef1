"""Pre-sale ship dates (预售): "ships from 2026-12-20", or a range ("12月20日~27日", "Dec 20 - Dec 27").

A date is stored as ISO text ("2026-12-20"); a range as its first and last day. A merchant may
leave the year out: it is this year's date, or next year's when this year's was more than two
months ago (a harvest in January typed in November); a date that has just passed is refused as
past, not moved a year on. Pure: no Telegram, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from babel.dates import format_skeleton

MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                      "dec"), start=1)}
_NUMERIC = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_NAMED = re.compile(r"([a-z]{3})[a-z]*\.?\s*(\d{1,2})(?:st|nd|rd|th)?(?:,?\s*(\d{4}))?|(\d{1,2})\s*([a-z]{3})[a-z]*"
                    r"\.?(?:\s*(\d{4}))?")
_DAY_ONLY = re.compile(r"(\d{1,2})\s*[日号]?")
_RANGE = re.compile(r"\s*(?:~|～|至|到|–|—|\bto\b|\buntil\b|-)\s*")
RECENT_PAST = timedelta(days=60)
MAX_AHEAD = timedelta(days=400)  # a harvest more than a year out is a typo


class ShipDateError(ValueError):
    """`reason`: unreadable, past, too_far, backwards."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ShipDate:
    start: date
    end: date | None = None  # the last day of a range; None for "from this day"

    @property
    def iso(self) -> tuple[str, str | None]:
        return self.start.isoformat(), self.end.isoformat() if self.end else None

    @classmethod
    def from_iso(cls, start: str | None, end: str | None = None) -> ShipDate | None:
        if not start:
            return None
        return cls(date.fromisoformat(start), date.fromisoformat(end) if end else None)


def parse_ship_date(text: str, today: date) -> ShipDate:
    """A ship date or range typed by a merchant; ShipDateError with the reason otherwise."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not cleaned:
        raise ShipDateError("unreadable")
    first = _date_at(cleaned, 0, today, None)
    if first is None:
        raise ShipDateError("unreadable")
    start, consumed = first
    rest = cleaned[consumed:]
    end = None
    if rest.strip():
        separator = _RANGE.match(rest)
        if separator is None:
            raise ShipDateError("unreadable")
        tail = rest[separator.end():]
        second = _date_at(tail, 0, today, start) if tail else None
        if second is None or tail[second[1]:].strip():
            raise ShipDateError("unreadable")
        end = second[0]
        if end < start:
            raise ShipDateError("backwards")
        if end == start:
            end = None
    if start < today:
        raise ShipDateError("past")
    if start - today > MAX_AHEAD:
        raise ShipDateError("too_far")
    return ShipDate(start, end)


def _date_at(text: str, pos: int, today: date, after: date | None) -> tuple[date, int] | None:
    """The date at the start of `text` and how many characters it took. `after`: the range's first
    day, whose year and month a bare second day ("12月20日~27日") takes."""
    text = text[pos:]
    match = _NUMERIC.match(text)
    if match:
        year, month, day = match.group(1), int(match.group(2)), int(match.group(3))
        return _make(year, month, day, today, after), match.end()
    match = _NAMED.match(text)
    if match:
        if match.group(1):
            name, day, year = match.group(1), int(match.group(2)), match.group(3)
        else:
            day, name, year = int(match.group(4)), match.group(5), match.group(6)
        if name not in MONTHS:
            return None
        return _make(year, MONTHS[name], day, today, after), match.end()
    if after is not None and (match := _DAY_ONLY.fullmatch(text.strip())):
        return _make(str(after.year), after.month, int(match.group(1)), today, None), len(text)
    return None


def _make(year: str | None, month: int, day: int, today: date, after: date | None) -> date:
    try:
        if year:
            return date(int(year), month, day)
        base = after.year if after is not None else today.year
        candidate = date(base, month, day)
        if after is not None and candidate < after:  # "Dec 28 ~ Jan 3" crosses the new year; "12/20~12/10" is backwards
            rolled = date(base + 1, month, day)
            return rolled if rolled - after <= RECENT_PAST else candidate
        if after is None and candidate < today - RECENT_PAST:
            return date(base + 1, month, day)
        return candidate
    except ValueError:
        raise ShipDateError("unreadable") from None


def format_ship_date(ship: ShipDate, locale: str) -> str:
    """"Dec 20" / "12月20日", or "Dec 20 – Dec 27" for a range (the year when it is not this year's)."""
    def one(day: date) -> str:
        skeleton = "MMMd" if day.year == date.today().year else "yMMMd"
        return format_skeleton(skeleton, day, fuzzy=True, locale=locale)
    return one(ship.start) if ship.end is None else f"{one(ship.start)} – {one(ship.end)}"


def week_end(today: date) -> date:
    """The last day (Sunday) of the week `today` is in: "what to pack this week" ships by then."""
    return today + timedelta(days=6 - today.weekday())
