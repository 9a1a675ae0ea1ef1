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
