"""Where a scanned QR code or tapped link lands: the product card, or the shop's catalog.

A slot link shows whatever product is on the slot now; an empty slot, or a hidden or deleted
product, shows the catalog with one polite line. Every open is recorded for the funnel.
"""

from __future__ import annotations

import math

from telegram import Update

from core.deals import PriceNow
from core.i18n import Translator
from core.links import LinkTarget, PayloadError, decode
from handlers.audience import follow_button
from handlers.staff import accept_invite
from handlers.common import (
    Actor, Context, Keyboard, actor, button, keyboard, parse_callback, present, reply, services,
)
from storage.models import Shop
from storage.products import Product

MAX_QTY = 99
CATALOG_PAGE = 8
# While a buyer looks at a card, a number they type sets its quantity (handlers/typed_quantity.py).
FLOW_CARD = "card"


# ---------------------------------------------------------------- the product card

def buyer_card_text(t: Translator, product: Product, shop: Shop, price: PriceNow | None = None) -> str:
    """The card; `price` is the price in force (storage.deals.Deals.price_now): during a flash
    deal the deal price, the regular one struck through, the units left at it and its end."""
    lines = [t("buyer.card_title", name=product.name)]
    deal = price.deal if price is not None else None
    if deal is None:
        lines.append(t("buyer.card_price", price=t.money(product.price, shop.currency)))
    else:
        lines.append(t("deal.card_price", price=t.money(deal.price, shop.currency),
                       regular=t.money(price.regular, shop.currency)))
        if deal.left is not None:
            lines.append(t("deal.card_left", left=min(deal.left, product.stock)))
        if deal.ends_at is not None:
            lines.append(t("deal.card_ends", time=t.time(deal.ends_at, shop.timezone)))
        if deal.per_buyer:
            lines.append(t("deal.card_per_buyer", limit=deal.per_buyer))
    lines.append(t("buyer.card_stock", stock=product.stock) if product.stock > 0 else t("buyer.card_sold_out"))
    if product.per_buyer_limit:
        lines.append(t("buyer.card_limit", limit=product.per_buyer_limit))
    if product.description:
        lines += ["", t("catalog.card_description", description=product.description)]
    lines += ["", t("buyer.card_shop", shop=shop.name)]
    return "\n".join(lines)


def buyer_card_buttons(t: Translator, product: Product, shop: Shop, quantity: int, slot: int, *,
                       following: bool = False, price: PriceNow | None = None) -> Keyboard:
    # The shop's catalog and following it share the last row (handlers/audience.py).
    catalog = [button(t.plain("buyer.button_catalog"), "b.shop", shop.id, 0), follow_button(t, shop.id, following)]
    if product.stock <= 0:
        return keyboard([[button(t.plain("buyer.button_notify"), "b.wait", product.id)], catalog])
    p = product.id
    unit = price.price if price is not None else product.price
    return keyboard([
        [button("−", "b.q", p, max(1, quantity - 1), slot), button(str(quantity), "b.noop"),
         button("+", "b.q", p, quantity + 1, slot)],
        # Buy now carries the price it shows, so the confirmation can say if it changed meanwhile.
        [button(t.plain("buyer.button_buy", total=t.money(unit * quantity, shop.currency)), "b.now", p,
                quantity, slot, unit),
         button(t.plain("buyer.button_add_to_cart"), "b.cart", p, quantity, slot)],
        catalog,
    ])


async def max_quantity(context: Context, who: Actor, product: Product) -> int:
    """What this buyer may order now: bounded by stock and the product's per-buyer limit."""
    bound = min(product.stock, MAX_QTY)
    if product.per_buyer_limit:
        already = await services(context).store.orders.units_bought(who.id, product.id)
        bound = min(bound, max(0, product.per_buyer_limit - already))
    return bound


def card_flow(product: Product, slot: int) -> tuple[str, str, dict]:
    """The quiet conversation of a card on screen: a number typed next sets its quantity."""
    return FLOW_CARD, "quantity", {"product": product.id, "slot": slot}


async def show_card(update: Update, context: Context, who: Actor, product: Product, shop: Shop, slot: int,
                    notice: str | None = None, *, remembered: bool = False) -> None:
    price = await services(context).store.deals.price_now(product)
    text = buyer_card_text(who.t, product, shop, price)
    if notice:
        text = notice + "\n\n" + text
    following = await services(context).store.audience.is_following(who.id, shop.id)
    await present(update, text, buyer_card_buttons(who.t, product, shop, 1, slot, following=following, price=price),
                  product.photo_file_id)
    if not remembered:
        await services(context).store.flows.offer(who.id, *card_flow(product, slot))


# ---------------------------------------------------------------- landing from a link

async def open_link(update: Update, context: Context, payload: str) -> None:
    """`/start <payload>`: a slot, product or shop link."""
    who = await actor(update, context)
    store = services(context).store
    try:
        target = decode(payload)
    except PayloadError:
        await reply(update, who.t("landing.bad_link"))
        return
    if target.kind == "join":
        await accept_invite(update, context, who, target.slug)
        return
    shop = await store.shops.by_slug(target.slug)
    if shop is None:
        await reply(update, who.t("landing.no_shop"))
        return
    session = await store.live.current_session(shop.id)
    product, slot = await _resolve(context, target, shop)
    on_sale = product is not None and product.on_sale
    await store.live.record_open(shop.id, target.kind, target.number if target.kind == "slot" else None,
                                 product.id if product else None, session.id if session else None, who.id,
                                 card_flow=card_flow(product, slot or 0) if on_sale else None)
    if on_sale:
        await show_card(update, context, who, product, shop, slot or 0, remembered=True)
        return
    notice = None
    if target.kind == "slot":
        notice = who.t("landing.slot_empty", slot=target.number)
    elif target.kind == "product":
        notice = who.t("landing.product_gone")
    await show_catalog(update, context, who, shop, 0, notice)


async def _resolve(context: Context, target: LinkTarget, shop: Shop) -> tuple[Product | None, int | None]:
    store = services(context).store
    if target.kind == "slot":
        product_id = await store.live.product_on(shop.id, target.number)
        return (await store.products.get(product_id) if product_id else None), target.number
    if target.kind == "product":
        product = await store.products.get(target.number)
        return (product if product and product.shop_id == shop.id else None), None
    return None, None


# ---------------------------------------------------------------- the buyer's catalog

async def show_catalog(update: Update, context: Context, who: Actor, shop: Shop, page: int,
                       notice: str | None = None) -> None:
    t = who.t
    products, total = await services(context).store.products.page(shop.id, page * CATALOG_PAGE, CATALOG_PAGE,
                                                                   visible_only=True)
    lines = [notice, ""] if notice else []
    lines.append(t("buyer.catalog_title", shop=shop.name))
    lines.append(t("buyer.catalog_hint") if total else t("buyer.catalog_empty"))
    rows = [[button(t.plain("buyer.catalog_item", name=p.name, price=t.money(p.price, shop.currency))
                    if p.stock > 0 else t.plain("buyer.catalog_item_sold_out", name=p.name), "b.p", p.id, 0)]
            for p in products]
    nav = []
    if page > 0:
        nav.append(button("◀", "b.shop", shop.id, page - 1))
    if page + 1 < math.ceil(total / CATALOG_PAGE):
        nav.append(button("▶", "b.shop", shop.id, page + 1))
    rows.append(nav)
    rows.append([follow_button(t, shop.id, await services(context).store.audience.is_following(who.id, shop.id))])
    await present(update, "\n".join(lines), keyboard(rows))


async def on_catalog(update: Update, context: Context) -> None:
    """The "Shop catalog" button (and its pages)."""
    who = await actor(update, context)
    data = parse_callback(update)
    shop = await services(context).store.shops.get(data.id(0)) if data and data.id(0) else None
    page = data.page(1) if data else None
    if shop is None or page is None or page < 0:
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    await update.callback_query.answer()
    await show_catalog(update, context, who, shop, page)


async def on_open_product(update: Update, context: Context) -> None:
    """A product in the catalog (or in a restock note): its card."""
    who = await actor(update, context)
    data = parse_callback(update)
    store = services(context).store
    product = await store.products.get(data.id(0)) if data and data.id(0) else None
    slot = (data.slot(1) or 0) if data else 0
    if product is None or not product.on_sale:
        await update.callback_query.answer(who.t.plain("landing.product_gone"), show_alert=True)
        return
    await update.callback_query.answer()
    shop = await store.shops.get(product.shop_id)
    await show_card(update, context, who, product, shop, slot)


async def tapped_product(update: Update, context: Context, who: Actor) -> tuple[Product, int, int] | None:
    """A card button `action:product:quantity:slot` for a product still on sale: (product,
    quantity, slot); otherwise the tap is answered with why not and None returned."""
    data = parse_callback(update)
    product_id = data.id(0) if data else None
    product = await services(context).store.products.get(product_id) if product_id else None
    quantity, slot = (data.quantity(1), data.slot(2)) if data else (None, None)
    if product is None or not product.on_sale or quantity is None or slot is None:
        await update.callback_query.answer(who.t.plain("landing.product_gone"), show_alert=True)
        return None
    return product, quantity, slot


async def on_quantity(update: Update, context: Context) -> None:
    """− / +: edit the card's buttons in place (one call), bounded by stock and the limit."""
    who = await actor(update, context)
    tapped = await tapped_product(update, context, who)
    if tapped is None:
        return
    product, wanted, slot = tapped
    store = services(context).store
    bound = await max_quantity(context, who, product)
    if wanted > bound:
        key = "buyer.limit_reached" if product.per_buyer_limit and bound < min(product.stock, MAX_QTY) \
            else "buyer.only_left"
        await update.callback_query.answer(who.t.plain(key, left=bound, limit=product.per_buyer_limit or 0))
        wanted = max(1, bound)
    else:  # "−" at 1 changes nothing: say so rather than a tap that seems to do nothing
        minus_at_one = wanted == 1 and shown_quantity(update) == 1
        await update.callback_query.answer(who.t.plain("buyer.qty_minus_at_one") if minus_at_one else None)
    shop = await store.shops.get(product.shop_id)
    markup = buyer_card_buttons(who.t, product, shop, wanted, slot,
                                following=await store.audience.is_following(who.id, shop.id),
                                price=await store.deals.price_now(product))
    current = update.callback_query.message.reply_markup if update.callback_query.message else None
    if current is not None and current.to_dict() == markup:
        return  # nothing changes on screen: spare the call
    await update.callback_query.edit_message_reply_markup(markup)


def shown_quantity(update: Update) -> int | None:
    """The quantity on the tapped card (the label between − and +)."""
    message = update.callback_query.message if update.callback_query else None
    rows = message.reply_markup.inline_keyboard if message is not None and message.reply_markup else ()
    label = rows[0][1].text if rows and len(rows[0]) == 3 else ""
    return int(label) if label.isdigit() else None


async def on_noop(update: Update, context: Context) -> None:
    """The quantity label in the middle of − qty +: say how to change it."""
    who = await actor(update, context)
    await update.callback_query.answer(who.t.plain("buyer.qty_label_hint"))


async def on_notify_when_back(update: Update, context: Context) -> None:
    """Sold out: remember the buyer and tell them once when stock returns."""
    who = await actor(update, context)
    data = parse_callback(update)
    store = services(context).store
    product = await store.products.get(data.id(0)) if data and data.id(0) else None
    if product is None or not product.on_sale:
        await update.callback_query.answer(who.t.plain("landing.product_gone"), show_alert=True)
        return
    await store.products.add_waiter(product.id, who.id)
    await update.callback_query.answer(who.t.plain("buyer.will_notify", name=product.name), show_alert=True)
