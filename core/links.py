"""The deep-link payload codec (`https://t.me/<bot>?start=<payload>`).

Telegram allows at most 64 characters of A-Z a-z 0-9 _ - in a start payload. Ours are short
and stable: a printed QR code for "link 1" keeps working while products rotate through it.

    s_<slug>             the shop's catalog
    l_<slug>_<slot>      live link slot 1..50 of the shop
    l_<slug>_<slot>_<n>  the same with n units ready to buy (an order typed in the shop's group)
    p_<slug>_<id>        one product, permanently
    v_<slug>_<id>        one variant of a product (the card opens with it ticked), permanently
    o_<slug>_<number>    an order of the shop, from the QR on its packing slip (its buyer sees it)
    j_<token>            a one-time staff invite
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, cast

MAX_SLOT = 50
MAX_QUANTITY = 99  # units of one product in one tap, link, cart line or order line
# Used with fullmatch: `$` would also accept a trailing newline.
_PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SLUG_RE = re.compile(r"[a-z0-9]{4,16}")
_TOKEN_RE = re.compile(r"[a-f0-9]{16,48}")
_NUMBER_RE = re.compile(r"[1-9]\d{0,17}")
MAX_NUMBER = 10**18 - 1  # what _NUMBER_RE reads; SQLite ids stay far below in practice

Kind = Literal["shop", "slot", "product", "variant", "order", "join"]
_PREFIX = {"shop": "s", "slot": "l", "product": "p", "variant": "v", "order": "o", "join": "j"}
_KIND = {v: k for k, v in _PREFIX.items()}


class PayloadError(ValueError):
    """The payload is not one of ours."""


@dataclass(frozen=True)
class LinkTarget:
    kind: Kind
    slug: str  # the shop's slug; for an invite, its token
    number: int | None = None  # the slot, or the product or variant id
    quantity: int | None = None  # a slot link's units to buy, 2..MAX_QUANTITY (None: one)

    def payload(self) -> str:
        return encode(self)


def encode(target: LinkTarget) -> str:
    if target.kind == "join":
        if not _TOKEN_RE.fullmatch(target.slug) or target.number is not None:
            raise ValueError(f"bad invite token {target.slug!r}")
        return f"j_{target.slug}"
    if not _SLUG_RE.fullmatch(target.slug):
        raise ValueError(f"bad shop slug {target.slug!r}")
    if target.kind == "shop":
        if target.number is not None:
            raise ValueError("a shop link has no number")
        payload = f"s_{target.slug}"
    else:
        if target.number is None or not 1 <= target.number <= MAX_NUMBER:
            raise ValueError(f"a {target.kind} link needs a number from 1 to {MAX_NUMBER}")
        if target.kind == "slot" and target.number > MAX_SLOT:
            raise ValueError(f"slots go up to {MAX_SLOT}")
        payload = f"{_PREFIX[target.kind]}_{target.slug}_{target.number}"
        if target.quantity is not None:
            if target.kind != "slot" or not 2 <= target.quantity <= MAX_QUANTITY:
                raise ValueError(f"a quantity 2..{MAX_QUANTITY} goes only on a slot link")
            payload += f"_{target.quantity}"
    return payload


def decode(payload: str) -> LinkTarget:
    if not isinstance(payload, str) or not _PAYLOAD_RE.fullmatch(payload):
        raise PayloadError("not a start payload")
    parts = payload.split("_")
    kind = _KIND.get(parts[0])
    if kind is None:
        raise PayloadError(f"unknown link kind {parts[0]!r}")
    if kind == "join":
        if len(parts) != 2 or not _TOKEN_RE.fullmatch(parts[1]):
            raise PayloadError("malformed invite link")
        return LinkTarget("join", parts[1])
    if kind == "shop":
        if len(parts) != 2 or not _SLUG_RE.fullmatch(parts[1]):
            raise PayloadError("malformed shop link")
        return LinkTarget("shop", parts[1])
    quantity = None
    if kind == "slot" and len(parts) == 4:  # units ready to buy
        if len(parts[3]) > 3 or not _NUMBER_RE.fullmatch(parts[3]) or not 2 <= int(parts[3]) <= MAX_QUANTITY:
            raise PayloadError("malformed quantity")
        quantity, parts = int(parts[3]), parts[:3]
    if len(parts) != 3 or not _SLUG_RE.fullmatch(parts[1]) or not _NUMBER_RE.fullmatch(parts[2]):
        raise PayloadError(f"malformed {kind} link")
    number = int(parts[2])
    if kind == "slot" and number > MAX_SLOT:
        raise PayloadError("no such slot")
    return LinkTarget(cast(Kind, kind), parts[1], number, quantity)  # one of the kinds: checked above


def url(bot_username: str, target: LinkTarget, *, app: bool = False) -> str:
    """The t.me link: the chat with the bot (`start`), or the bot's Main Mini App (`startapp`, the
    page reads the same payload as its start parameter)."""
    return f"https://t.me/{bot_username}?{'startapp' if app else 'start'}={encode(target)}"


def shop_link(bot_username: str, slug: str, *, app: bool = False) -> str:
    return url(bot_username, LinkTarget("shop", slug), app=app)


def slot_link(bot_username: str, slug: str, slot: int, *, app: bool = False) -> str:
    return url(bot_username, LinkTarget("slot", slug, slot), app=app)


def slot_quantity_link(bot_username: str, slug: str, slot: int, quantity: int) -> str:
    """Link `slot` with `quantity` units ready to buy (one: the plain slot link)."""
    return url(bot_username, LinkTarget("slot", slug, slot, quantity if quantity > 1 else None))


def product_link(bot_username: str, slug: str, product_id: int, *, app: bool = False) -> str:
    return url(bot_username, LinkTarget("product", slug, product_id), app=app)


def variant_link(bot_username: str, slug: str, variant_id: int) -> str:
    return url(bot_username, LinkTarget("variant", slug, variant_id))


def order_link(bot_username: str, slug: str, number: int) -> str:
    return url(bot_username, LinkTarget("order", slug, number))


def invite_link(bot_username: str, token: str) -> str:
    return url(bot_username, LinkTarget("join", token))
