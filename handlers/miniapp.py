"""The Mini App's API: what its pages show and do, on the same shop, stock and orders as the chat.

runtime/miniapp.py serves the pages and checks every call's init data (core/initdata.py); the
calls land here with the checked buyer. Nothing here has its own rules: a hold is the chat's
Buy now hold (storage/holds.py), an order is placed by the chat's `place_checkout` (stock, limits,
the idempotency token and the outbox in one transaction per order), a link opened here is
recorded as one opened in the chat. The only bot message is the receipt (and the payment code or
invoice where that method is chosen); a buyer the bot may not write to gets none, and the page
says where the receipt is (the orders view here).

Money and dates are formatted here, in the buyer's language, so the page shows what the chat
would; the page's own words come from the catalogs too (PAGE_TEXTS).
"""

from __future__ import annotations

import html
import json
import re
import time
from dataclasses import dataclass, replace
from typing import Any, TypeGuard
from urllib.parse import parse_qsl

from core.contact import ContactError, check_address, check_note, check_recipient, display_phone, normalize_phone, \
    phone_region
from core.i18n import N_, Translator, language_for, translator
from core.initdata import MAX_LENGTH, InitData
from core.links import MAX_QUANTITY, MAX_SLOT
from core.payments import Method
from core.shipping import Parcel
from handlers.checkout import (
    CONTACT_PROBLEMS, PlacingStopped, Receipt, by_ship_date, checkout_item, held_items, item_lines, item_variant,
    methods_of, place_checkout, problem_text, seen_key,
)
from handlers.abuse import FloodGate
from handlers.common import Services
from handlers.delivery_region import confirmation_lines, refusal_text, shipping_for
from handlers.my_orders import status_text
from handlers.notices import method_name
from handlers.presale import ship_date_of, ship_text
from handlers.shipping import place_name
from storage.models import Shop, User
from storage.orders import Order, OrderProblem
from storage.outbox import Priority
from storage.products import Product

RECENT_MINUTES = 10  # "N bought in the last 10 minutes" on the live bag
MAX_ITEMS = 20  # lines in one Mini App checkout (the chat's cart holds as many)
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,40}")
_TAG_RE = re.compile(r"<[^>]+>")

# The page's own words (miniapp/app.js asks for them once, with the bag).
PAGE_TEXTS = (
    N_("app.live_now"), N_("app.no_live"), N_("app.link"), N_("app.left"), N_("app.sold_out"), N_("app.bought_recently"),
    N_("app.deal_ends_in"), N_("app.add_to_cart"), N_("app.buy_now"), N_("app.cart"), N_("app.cart_empty"),
    N_("app.checkout"), N_("app.quantity"), N_("app.recipient"), N_("app.phone"), N_("app.share_phone"),
    N_("app.address"), N_("app.note"), N_("app.region_pick"), N_("app.payment"), N_("app.place_order"),
    N_("app.placing"), N_("app.placed_title"), N_("app.receipt_in_chat"), N_("app.receipt_here"), N_("app.my_orders"),
    N_("app.no_orders"), N_("app.total"), N_("app.goods"), N_("app.held_until"), N_("app.expired"),
    N_("app.reopen"), N_("app.back_to_bag"), N_("app.ask_write"), N_("app.choose_variant"), N_("app.error"),
    N_("app.order_number"), N_("app.ships"), N_("app.shipping"),
)


PAGE_FILLS = {name: "{" + name + "}" for name in ("n", "slot", "time", "total")}


class ApiError(Exception):
    """A call the page must show as refused: `status` (400, 404, 409) and the words to show."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status, self.text = status, text


@dataclass(frozen=True)
class Buyer:
    """Who is calling (from checked init data) and the language they read."""

    user: User
    init: InitData
    t: Translator

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def can_message(self) -> bool:
        """Whether the bot may write to them (receipts, payment codes, notices)."""
        return not self.user.webapp_only and self.user.blocked_at is None


async def buyer_of(svc: Services, init: InitData, flood: FloodGate | None = None) -> Buyer:
    """The caller, refused as in the chat when the operator suspended them or they flood (the
    page's calls count in a gate of their own, twice the chat's: a checkout is several calls)."""
    if flood is not None and not flood.allow(init.user_id):
        raise ApiError(429, _first_words(svc, init).plain("abuse.slow_down"))
    reason = await svc.store.operator.user_suspension(init.user_id)
    if reason is not None:
        raise ApiError(403, _first_words(svc, init).plain("account.suspended", reason=reason))
    user = await svc.store.users.seen_in_webapp(init.user_id, init.first_name, init.username, init.language_code,
                                                may_write=init.allows_write_to_pm)
    language = language_for(user.language, init.language_code, svc.config.language)
    return Buyer(user, init, translator(language))


def refusal_texts(svc: Services, unchecked_init_data: str) -> dict[str, str]:
    """The words of the page's "reopen" notice, in the language the (unchecked) init data names."""
    try:
        user = json.loads(dict(parse_qsl(unchecked_init_data[:MAX_LENGTH])).get("user") or "{}")
        code = user.get("language_code") if isinstance(user, dict) else None
    except ValueError:
        code = None
    t = translator(language_for(None, code if isinstance(code, str) else None, svc.config.language))
    return {key: t.plain(key) for key in (N_("app.expired"), N_("app.reopen"))}


def plain(text: str) -> str:
    """A catalog text made for Telegram's HTML, as plain text for the page (it escapes itself)."""
    return html.unescape(_TAG_RE.sub("", text))


def _first_words(svc: Services, init: InitData) -> Translator:
    """The language of someone not stored yet (or refused before being stored)."""
    return translator(language_for(None, init.language_code, svc.config.language))


async def _shop(svc: Services, buyer: Buyer, slug: object) -> Shop:
    """The shop a call names; refused when there is none or the operator paused it (as its links are)."""
    shop = await svc.store.shops.by_slug(slug) if isinstance(slug, str) and len(slug) <= 16 else None
    if shop is None:
        raise ApiError(404, plain(buyer.t("landing.no_shop")))
    if await svc.store.operator.shop_suspension(shop.id) is not None:
        raise ApiError(403, plain(buyer.t("landing.shop_paused", shop=shop.name)))
    return shop


# ---------------------------------------------------------------- the live bag

class LinkCache:
    """The live bag's links as made for a shop and a language, kept `ttl` seconds: every viewer's
    page asks for the bag every 10 s during a live, and making it costs a few reads a link on the
    event loop that the sale's taps need. Units left may lag by `ttl`; Buy now holds what is real."""

    def __init__(self, ttl: float = 2.0) -> None:
        self._ttl = ttl
        self._made: dict[tuple[int, str], tuple[float, list[dict[str, Any]]]] = {}

    async def links(self, svc: Services, t: Translator, shop: Shop) -> list[dict[str, Any]]:
        now = time.monotonic()
        made = self._made.get((shop.id, t.language))
        if made is not None and made[0] > now:
            return made[1]
        links = await _links(svc, t, shop)
        if len(self._made) > 1000:  # forget shops no longer looked at
            self._made = {key: value for key, value in self._made.items() if value[0] > now}
        self._made[(shop.id, t.language)] = (now + self._ttl, links)
        return links


async def _links(svc: Services, t: Translator, shop: Shop) -> list[dict[str, Any]]:
    store = svc.store
    recent = await store.orders.recent_units(shop.id, time.time() - 60 * RECENT_MINUTES)
    links = []
    for pin in await store.live.pins(shop.id):
        product = await store.products.get(pin.product_id)
        if product is None or not product.on_sale:
            continue
        links.append({"slot": pin.slot, **await _product(svc, t, shop, product, recent, only_variant=pin.variant_id)})
    return links


async def live_bag(svc: Services, buyer: Buyer, slug: object, cache: LinkCache | None = None) -> dict[str, Any]:
    """The shop's live links at a glance: photo, price, variants, units left, a flash deal's end,
    how many bought in the last minutes; and the page's words in the buyer's language."""
    t = buyer.t
    shop = await _shop(svc, buyer, slug)
    session = await svc.store.live.current_session(shop.id)
    links = await cache.links(svc, t, shop) if cache is not None else await _links(svc, t, shop)
    return {
        "shop": {"slug": shop.slug, "name": shop.name, "currency": shop.currency,
                 "live": session is not None, "title": session.title if session else None},
        "links": links,
        "language": t.language,
        # The page fills in {n}, {slot}, {time} and {total} itself.
        "texts": {key: t.plain(key, minutes=RECENT_MINUTES, **PAGE_FILLS) for key in PAGE_TEXTS},
        "me": await _me(svc, buyer, shop),
    }


async def _product(svc: Services, t: Translator, shop: Shop, product: Product, recent: dict[int, int], *,
                   only_variant: int | None = None) -> dict[str, Any]:
    store = svc.store
    price = await store.deals.price_now(product)
    variants = []
    if product.has_variants:
        for v in await store.variants.of_product(product.id, on_sale_only=True):
            if only_variant is not None and v.id != only_variant:
                continue
            variants.append({"id": v.id, "name": v.name, "price": v.price, "price_text": t.money(v.price, shop.currency),
                             "left": v.stock, "photo": f"photo/v{v.id}" if v.photo_file_id else None,
                             "ships": ship_text(t, *ship_date_of(product, v))})
    deal = price.deal
    return {
        "product": product.id, "name": product.name, "description": product.description or "",
        "price": price.price, "price_text": t.money(price.price, shop.currency),
        "regular_text": t.money(price.regular, shop.currency) if deal is not None else None,
        "deal_ends_at": deal.ends_at if deal is not None else None,
        "left": product.stock, "limit": product.per_buyer_limit,
        "photo": f"photo/p{product.id}" if product.photo_file_id else None,
        "variants": variants, "recent": recent.get(product.id, 0),
        "ships": ship_text(t, *ship_date_of(product)),
    }


async def product(svc: Services, buyer: Buyer, slug: object, product_id: object) -> dict[str, Any]:
    """One product of the shop, on a live link or not (a posted card's or a product link's)."""
    shop = await _shop(svc, buyer, slug)
    found = await svc.store.products.get(int(product_id)) \
        if isinstance(product_id, str) and product_id.isdigit() and len(product_id) <= 12 else None
    if found is None or found.shop_id != shop.id or not found.on_sale:
        raise ApiError(404, plain(buyer.t("landing.product_gone")))
    slots = await svc.store.live.slots_of(found.id)
    recent = await svc.store.orders.recent_units(shop.id, time.time() - 60 * RECENT_MINUTES)
    return {"slot": slots[0] if slots else None, **await _product(svc, buyer.t, shop, found, recent)}


async def record_open(svc: Services, buyer: Buyer, body: dict[str, Any]) -> dict[str, Any]:
    """A link opened in the Mini App counts in the funnel as one opened in the chat."""
    shop = await _shop(svc, buyer, body.get("shop"))
    slot = body.get("slot")
    store = svc.store
    session = await store.live.current_session(shop.id)
    if isinstance(slot, int) and not isinstance(slot, bool) and 1 <= slot <= MAX_SLOT:
        product_id = await store.live.product_on(shop.id, slot)
        await store.live.record_open(shop.id, "slot", slot, product_id, session.id if session else None, buyer.id)
    else:
        await store.live.record_open(shop.id, "shop", None, None, session.id if session else None, buyer.id)
    return {"ok": True}


# ---------------------------------------------------------------- the buyer

async def _me(svc: Services, buyer: Buyer, shop: Shop) -> dict[str, Any]:
    user = await svc.store.users.get(buyer.id) or buyer.user
    return {"recipient": user.recipient or " ".join(filter(None, [buyer.init.first_name, buyer.init.last_name])),
            "phone": user.phone, "phone_text": display_phone(user.phone, phone_region(shop.currency)) if user.phone
            else None, "address": user.address or "", "can_message": buyer.can_message}


async def me(svc: Services, buyer: Buyer, slug: object) -> dict[str, Any]:
    """The saved delivery details (the phone arrives here after the Mini App's contact request
    posts it into the chat: handlers/contact_shared.py stores it) and whether we may write."""
    return await _me(svc, buyer, await _shop(svc, buyer, slug))


async def allow_messages(svc: Services, buyer: Buyer) -> dict[str, Any]:
    """The buyer granted the Mini App's write-access request: receipts may go to the chat."""
    user = await svc.store.users.seen_in_webapp(buyer.id, buyer.init.first_name, buyer.init.username,
                                                buyer.init.language_code, may_write=True)
    return {"can_message": not user.webapp_only and user.blocked_at is None}


async def orders(svc: Services, buyer: Buyer) -> dict[str, Any]:
    """The buyer's latest orders, any shop, newest first."""
    found = await svc.store.orders.of_buyer(buyer.id, limit=20)
    shops: dict[int, Shop] = {}
    for order in found:
        if order.shop_id not in shops:
            shops[order.shop_id] = await svc.store.shops.require(order.shop_id)
    return {"orders": [_order(buyer.t, o, shops[o.shop_id]) for o in found]}


def _order(t: Translator, order: Order, shop: Shop) -> dict[str, Any]:
    return {"number": order.number, "shop": shop.name, "status": status_text(t, order.status),
            "total_text": t.money(order.total, order.currency),
            "items": [{"name": i.name, "quantity": i.quantity, "subtotal_text": t.money(i.subtotal, order.currency)}
                      for i in order.items],
            "fee_text": t.money(order.shipping_fee, order.currency) if order.shipping_fee else None,
            "payment": method_name(t, order.payment_method), "address": order.address,
            "ships": ship_text(t, order.ships_from, order.ships_until)}


# ---------------------------------------------------------------- checkout

def _items(buyer: Buyer, body: dict[str, Any]) -> list[list]:
    """The checkout's items as the chat's checkout stores them: [product, quantity, slot, variant]
    (a malformed list is no buyer's doing: the page's general "try again" answers it)."""
    raw = body.get("items")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ITEMS:
        raise ApiError(400, buyer.t.plain("app.error"))
    items = []
    for entry in raw:
        if not isinstance(entry, dict):
            raise ApiError(400, buyer.t.plain("app.error"))
        product, quantity = entry.get("product"), entry.get("quantity")
        variant, slot = entry.get("variant"), entry.get("slot")
        if not (_whole(product) and _whole(quantity) and 1 <= quantity <= MAX_QUANTITY
                and (variant is None or _whole(variant)) and (slot is None or _whole(slot) and slot <= MAX_SLOT)):
            raise ApiError(400, buyer.t.plain("app.error"))
        items.append(checkout_item(product, quantity, slot, variant))
    return items


def _whole(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10**12


def _token(buyer: Buyer, body: dict[str, Any]) -> str:
    """The checkout's idempotency key: the page's random token, scoped to the buyer (another
    buyer's token can never find this buyer's order)."""
    token = body.get("token")
    if not isinstance(token, str) or not _TOKEN_RE.fullmatch(token):
        raise ApiError(400, buyer.t.plain("app.error"))
    return f"w{buyer.id}.{token}"


async def hold(svc: Services, buyer: Buyer, body: dict[str, Any]) -> dict[str, Any]:
    """Buy now (or Checkout from the page's cart): the units are held as at the chat's Buy now,
    so whoever cannot get one learns it at this tap."""
    store, t = svc.store, buyer.t
    shop = await _shop(svc, buyer, body.get("shop"))
    items, token = _items(buyer, body), _token(buyer, body)
    held_until = time.time() + 60 * shop.hold_minutes
    try:
        held = await store.holds.take(buyer_id=buyer.id, shop_id=shop.id, token=token, items=held_items(items),
                                      expires_at=held_until, flow=None, allow_fewer=len(items) == 1)
    except OrderProblem as problem:
        raise ApiError(409, problem_text(t, problem, plain=True)) from None
    fewer = [t.plain("checkout.fewer_held", name=(await _name(svc, h.product_id)), held=h.quantity, wanted=h.wanted)
             for h in held if h.quantity != h.wanted]
    got = {(h.product_id, h.variant_id): h.quantity for h in held}
    return {"items": [{"product": i[0], "quantity": got.get((i[0], item_variant(i)), i[1]), "slot": i[2],
                       "variant": item_variant(i)} for i in items],
            "held_until": held_until, "held_text": t.plain("checkout.held_until", time=t.time(held_until, shop.timezone)),
            "notices": [plain(n) for n in fewer]}


async def _name(svc: Services, product_id: int) -> str:
    product = await svc.store.products.get(product_id)
    return product.name if product else ""


def _delivery(buyer: Buyer, shop: Shop, body: dict[str, Any], *, complete: bool) -> dict[str, Any]:
    """The address (and, to place, the recipient and phone) checked like the chat's answers."""
    data: dict[str, Any] = {}
    try:
        data["address"] = check_address(str(body.get("address") or ""))
        if complete:
            data["recipient"] = check_recipient(str(body.get("recipient") or ""))
            data["phone"] = normalize_phone(str(body.get("phone") or ""), phone_region(shop.currency))
            if body.get("note"):
                data["note"] = check_note(str(body["note"]))
    except ContactError as exc:
        raise ApiError(400, buyer.t.plain(CONTACT_PROBLEMS[exc.problem])) from None
    region = body.get("region")
    if isinstance(region, str) and 0 < len(region) <= 16:
        data["region"] = region
    return data


async def quote(svc: Services, buyer: Buyer, body: dict[str, Any]) -> dict[str, Any]:
    """What the order will cost to this address: the lines, shipping (or which region to pick,
    or that the shop does not ship there), the total and the payment methods."""
    store, t = svc.store, buyer.t
    shop = await _shop(svc, buyer, body.get("shop"))
    items, token = _items(buyer, body), _token(buyer, body)
    data = {"shop": shop.id, "items": items, "token": token, **_delivery(buyer, shop, body, complete=False)}
    locked = {seen_key(h.product_id, h.variant_id): h.unit_price
              for h in await store.holds.of_token(token) if h.unit_price is not None}
    # Units held during a flash deal keep its price (storage/deals.py), as on the chat's confirmation.
    lines = [replace(line, price=locked.get(line.key, line.price)) for line in await item_lines(store, items)]
    goods = sum(line.subtotal for line in lines)
    fee, notes, choices, refused = 0, [], [], None
    for group in by_ship_date(lines):
        shipping = await shipping_for(store, buyer.id, shop, data, Parcel(sum(x.subtotal for x in group),
                                                                         sum(x.quantity for x in group),
                                                                         sum(x.grams * x.quantity for x in group)),
                                      ships_from=group[0].ships[0])
        if shipping.choices:
            choices = [{"code": c, "name": place_name(t, c)} for c in shipping.choices]
        elif shipping.refused:
            refused = plain(refusal_text(t, shipping, shop))
        else:
            fee += shipping.fee
            notes += [plain(x) for x in confirmation_lines(t, shipping, shop.currency)]
    methods = await methods_of(svc, shop.id)
    if not buyer.can_message:  # a payment code or an invoice needs the chat
        methods = [m for m in methods if m is Method.COD] or methods[:1]
    return {
        "lines": [{"name": x.name, "quantity": x.quantity, "subtotal_text": t.money(x.subtotal, shop.currency),
                   "ships": ship_text(t, *x.ships)} for x in lines],
        "goods_text": t.money(goods, shop.currency), "shipping": notes, "fee": fee,
        "total_text": t.money(goods + fee, shop.currency), "region_choices": choices, "refused": refused,
        "methods": [{"value": m.value, "name": method_name(t, m.value)} for m in methods],
        "orders": len(by_ship_date(lines)),
    }


async def place(svc: Services, buyer: Buyer, body: dict[str, Any]) -> dict[str, Any]:
    """Place order: the chat's `place_checkout`, once per token however often it is sent."""
    store, t = svc.store, buyer.t
    shop = await _shop(svc, buyer, body.get("shop"))
    items, token = _items(buyer, body), _token(buyer, body)
    earlier = await store.orders.by_token(token)
    if earlier is not None:  # sent again (a retry after a lost answer): the same order
        return {"orders": [_order(t, earlier, shop)], "receipt_in_chat": buyer.can_message}
    data = {"shop": shop.id, "items": items, "token": token, **_delivery(buyer, shop, body, complete=True)}
    methods = await methods_of(svc, shop.id)
    method = next((m for m in methods if m.value == body.get("method")), methods[0])
    if not buyer.can_message and method is not Method.COD:
        raise ApiError(409, t.plain("app.ask_write"))
    user = await store.users.get(buyer.id) or buyer.user
    try:
        placed = await place_checkout(svc, user, t, shop, data, method,
                                      Receipt(send=buyer.can_message, priority=Priority.OWNER),
                                      clear_cart=False, end_conversation=False)
    except PlacingStopped as stopped:
        if not stopped.placed:
            raise ApiError(409, problem_text(t, stopped.problem, plain=True)) from None
        placed = stopped.placed
    return {"orders": [_order(t, o, shop) for o in placed], "receipt_in_chat": buyer.can_message}
