"""Flash deals: the price in force for a product, and when a deal is open.

A deal gives a product a lower price until a time (`ends_at`) or until `units` are gone, with
at most `per_buyer` units to one buyer at that price. The price is locked when Buy now holds the
units: a hold taken during the deal keeps the deal price until the hold expires (the shop's
hold_minutes), so a checkout that crosses the end still pays what the card showed.

The confirm-step grace: Buy now taps reach the bot a little after they leave the buyer's phone,
more so in a rush. A tap on a button that showed the deal price, arriving up to GRACE_SECONDS
after a timed deal's end, still gets the deal price (if the deal has units left); later taps
get the regular price and the confirmation says the price changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GRACE_SECONDS = 5.0


@dataclass(frozen=True)
class Deal:
    id: int
    product_id: int
    price: int
    units: int | None  # None: no cap on units (the deal ends by time)
    taken: int
    per_buyer: int | None
    ends_at: float | None  # None: ends when the units are gone
    started_at: float
    stopped_at: float | None = None

    @property
    def left(self) -> int | None:
        """Units still to be had at the deal price (None: no cap)."""
        return None if self.units is None else max(0, self.units - self.taken)

    def open_at(self, at: float, *, grace: float = 0.0) -> bool:
        if self.stopped_at is not None and self.stopped_at <= at:
            return False
        if self.ends_at is not None and at >= self.ends_at + grace:
            return False
        return self.left is None or self.left > 0


@dataclass(frozen=True)
class PriceNow:
    """What a product costs now: `price`, and the deal that sets it (None: the regular price)."""

    price: int
    regular: int
    deal: Deal | None = None


def price_in_force(regular: int, deal: Deal | None, at: float) -> PriceNow:
    """The one rule for the price of a product now, used by the card, the hold and the order."""
    if deal is not None and deal.open_at(at) and deal.price < regular:
        return PriceNow(deal.price, regular, deal)
    return PriceNow(regular, regular)


# ---------------------------------------------------------------- the owner's /deal command

MAX_DEAL_MINUTES = 24 * 60
MAX_DEAL_UNITS = 100_000
_MINUTES_RE = re.compile(r"(\d{1,5})\s*(?:m|min|mins|minutes?|分钟|分)", re.IGNORECASE)
_UNITS_RE = re.compile(r"(\d{1,6})\s*(?:u|units?|件|份|个)", re.IGNORECASE)
_CAP_RE = re.compile(r"(?:x|×|/)?(\d{1,3})(?:/人|每人)?", re.IGNORECASE)


_STOP_WORDS = frozenset({"off", "stop", "end", "结束", "停止", "关闭"})


def is_stop_word(word: str) -> bool:
    """`/deal 1 off` (or 结束…): end the link's deal now."""
    return word.strip().lower() in _STOP_WORDS


class DealTermsError(ValueError):
    """The owner's /deal words could not be read; `problem` names what is wrong."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class DealTerms:
    minutes: int | None
    units: int | None
    per_buyer: int | None


def parse_deal_terms(words: list[str]) -> DealTerms:
    """`15m`, `100u` (either or both: the deal ends at whichever comes first) and an optional
    per-buyer cap as a plain number: `15m 2`, `100件 每人2`, `30分钟 50件 x3`."""
    minutes = units = per_buyer = None
    for word in words:
        if m := _MINUTES_RE.fullmatch(word):
            minutes = int(m.group(1))
        elif m := _UNITS_RE.fullmatch(word):
            units = int(m.group(1))
        elif (m := _CAP_RE.fullmatch(word.replace("每人", ""))) and per_buyer is None:
            per_buyer = int(m.group(1))
        else:
            raise DealTermsError("unreadable")
    if minutes is None and units is None:
        raise DealTermsError("no_end")
    if (minutes is not None and not 1 <= minutes <= MAX_DEAL_MINUTES) or \
            (units is not None and not 1 <= units <= MAX_DEAL_UNITS) or (per_buyer is not None and per_buyer < 1):
        raise DealTermsError("out_of_range")
    return DealTerms(minutes, units, per_buyer)
