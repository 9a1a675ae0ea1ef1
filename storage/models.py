"""Typed rows the store returns. Plain frozen dataclasses: no Telegram, no SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    username: str | None
    language_code: str | None
    language: str | None
    current_shop_id: int | None
    blocked_at: float | None
    phone: str | None = None  # saved delivery details, offered at the next checkout
    recipient: str | None = None
    address: str | None = None
    region: str | None = None  # the saved address's region, when the buyer picked it (core/regions.py)
    # Known only from the Mini App: the bot may not write to them until they allow it or message it.
    webapp_only: bool = False

    @property
    def has_delivery(self) -> bool:
        return bool(self.phone and self.recipient and self.address)


@dataclass(frozen=True)
class Shop:
    id: int
    slug: str
    name: str
    owner_id: int
    currency: str
    timezone: str
    created_at: float
    hold_minutes: int = 3  # how long Buy now holds the units for the buyer
    opens_in: str = "chat"  # what its QR codes and posted cards open: "chat" or "app" (the Mini App)


@dataclass(frozen=True)
class Membership:
    """A user's role in a shop."""

    shop: Shop
    role: str  # "owner" or "staff"

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"


@dataclass(frozen=True)
class ShopCounts:
    products: int
    orders: int


@dataclass(frozen=True)
class Flow:
    """Where a user is in a multi-step conversation."""

    user_id: int
    name: str
    step: str
    data: dict[str, Any]
