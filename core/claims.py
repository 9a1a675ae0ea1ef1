"""Damaged-goods claims (坏果包赔): a shop's policy, when a claim may be made, and what it pays.

The policy: claims on or off; the window (hours after delivery, or days after shipping when
delivery was never confirmed); what is paid back: each damaged unit at the price paid, capped at
what the line cost (`per_unit`), or a percentage of the damaged units' value once at least
`threshold` units are damaged (`percent`); and a short text shown on the card and the receipt.
Pure: no Telegram, no database. Amounts are minor units.
"""

from __future__ import annotations

from dataclasses import dataclass

PER_UNIT, PERCENT = "per_unit", "percent"
MAX_PHOTOS = 5
HOUR = 3600.0


@dataclass(frozen=True)
class Policy:
    enabled: bool = False
    hours_after_delivery: int = 48
    days_after_shipping: int = 7
    mode: str = PER_UNIT
    percent: int = 100
    threshold: int = 1  # units, for the percent mode
    text: str | None = None  # "坏果包赔：签收48小时内拍照"


class ClaimRefused(ValueError):
    """`reason`: off, not_shipped, window, units, below_threshold."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_window(policy: Policy, now: float, shipped_at: float | None, delivered_at: float | None) -> None:
    """ClaimRefused unless a claim may be made now: within the hours after delivery, or (no
    delivery confirmed) within the days after shipping."""
    if not policy.enabled:
        raise ClaimRefused("off")
    if delivered_at is not None:
        if now > delivered_at + policy.hours_after_delivery * HOUR:
            raise ClaimRefused("window")
        return
    if shipped_at is None:
        raise ClaimRefused("not_shipped")
    if now > shipped_at + policy.days_after_shipping * 24 * HOUR:
        raise ClaimRefused("window")


def amount_due(policy: Policy, unit_price: int, quantity: int, damaged: int) -> int:
    """What a claim of `damaged` units of a line (`quantity` bought at `unit_price`) pays back."""
    if not 1 <= damaged <= quantity:
        raise ClaimRefused("units")
    value = min(damaged * unit_price, quantity * unit_price)
    if policy.mode == PERCENT:
        if damaged < policy.threshold:
            raise ClaimRefused("below_threshold")
        return value * policy.percent // 100
    return value
