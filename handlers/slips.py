"""Packing slips, and the box's QR code that brings the buyer back.

`/slips` sends a PDF of every order waiting to ship (A4, four slips a page; `/slips a6` one
label a page; `/slips week` only what ships this week), the pack list has the same as buttons,
and an order's card has 🧾 Slip (that order, A6). Owner and staff (packers) may print them.
Each slip's QR opens the order in the bot (`o_<shop>_<number>`): its buyer sees the order with
Order again (the same items into the cart at today's price), Follow the shop and Ask about it;
anyone else who scans a box sees only whose shop it came from.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import InputFile, Update

from core import callbacks as taps
from core.contact import display_phone, phone_region
from core.i18n import LANGUAGES, Translator, translator
from core.links import order_link
from core.presale import week_end
from core.slips import Slip, render
from handlers.audience import follow_button
from handlers.common import Actor, Context, actor, button, keyboard, present, query_of, reply, services
from handlers.guards import order_for_member, shop_member
from handlers.notices import damage_button, order_item_lines
from handlers.presale import ship_text
from storage.models import Shop
from storage.orders import Order

SIZES = {"a6": "A6", "a4": "A4"}
# `/slips week`, `/packlist week` (本周): in stock, and pre-sales shipping by this Sunday.
WEEK_KEYWORDS = frozenset(translator(language).plain("packlist.keyword_week").lower()
                          for language in LANGUAGES) | {"week"}


def slip_of(t: Translator, order: Order, shop: Shop, bot_username: str) -> Slip:
    """One order's slip, in the language of whoever prints it."""
    items = tuple(f"{i.name} × {i.quantity}" for i in order.items)
    return Slip(shop=shop.name, number=order.number, recipient=order.recipient,
                phone=display_phone(order.phone, phone_region(shop.currency)), address=order.address, items=items,
                qr_url=order_link(bot_username, shop.slug, order.number), note=order.note,
                ships=ship_text(t, order.ships_from, order.ships_until),
                labels=(t.plain("slip.to"), t.plain("slip.items"), t.plain("slip.note"), t.plain("slip.scan")))


async def send_slips(update: Update, context: Context, who: Actor, shop: Shop, orders: list[Order], size: str,
                     name: str) -> None:
    """Render off the event loop (a sheet of slips takes a fraction of a second) and send."""
    if not orders:
        await reply(update, who.t("slip.none"))
        return
    bot = services(context).bot_username
    slips = [slip_of(who.t, order, shop, bot) for order in orders]
    data = await asyncio.to_thread(render, slips, size)
    chat = update.effective_chat
    assert chat is not None
    await chat.send_document(InputFile(data, filename=f"{shop.slug}-{name}-{size}.pdf"),
                             caption=who.t.plain("slip.caption", count=len(orders), size=size))


async def slips_command(update: Update, context: Context) -> None:
    """/slips [a6|a4] [week]: every order waiting to ship whose money is settled."""
    who = await actor(update, context)
    membership = await shop_member(update, context)
    if membership is None:
        return
    words = [w.lower() for w in context.args or []]
    size = next((SIZES[w] for w in words if w in SIZES), "A4")
    shop = membership.shop
    ship_by = week_end(datetime.now(ZoneInfo(shop.timezone)).date()).isoformat() \
        if any(w in WEEK_KEYWORDS for w in words) else None
    orders = await services(context).store.orders.ready_to_pack(shop.id, ship_by)
    await send_slips(update, context, who, shop, orders, size, "slips")


async def on_pack_slips(update: Update, context: Context) -> None:
    """🧾 Slips A4 / 🏷 Labels A6 under the pack list."""
    who = await actor(update, context)
    tap = context.tap(taps.PackSlips)
    membership = await shop_member(update, context, tap.shop)
    size = SIZES.get(tap.size)
    if membership is None or size is None:
        if membership is not None:
            await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await query_of(update).answer()
    orders = await services(context).store.orders.ready_to_pack(membership.shop.id)
    await send_slips(update, context, who, membership.shop, orders, size, "slips")


async def on_order_slip(update: Update, context: Context) -> None:
    """🧾 Slip on an order's card: that order's label (A6)."""
    who = await actor(update, context)
    found = await order_for_member(update, context, context.tap(taps.OrderSlip).order)
    if found is None:
        return
    order, membership = found
    await query_of(update).answer()
    await send_slips(update, context, who, membership.shop, [order], "A6", f"order-{order.number}")


def pack_slip_buttons(t: Translator, shop: Shop):
    return keyboard([[button(t.plain("slip.button_a4"), taps.PackSlips(shop.id, "a4")),
                      button(t.plain("slip.button_a6"), taps.PackSlips(shop.id, "a6"))]])


# ---------------------------------------------------------------- the box's QR code

async def open_box(update: Update, context: Context, who: Actor, shop: Shop, number: int) -> None:
    """A slip's QR scanned: the order for its buyer; who else scans it sees whose shop it is."""
    store = services(context).store
    orders = await store.orders.by_numbers(shop.id, number, number)
    order = orders[0] if orders else None
    following = await store.audience.is_following(who.id, shop.id)
    if order is None or order.buyer_id != who.id:
        await present(update, who.t("slip.box_of_shop", shop=shop.name),
                      keyboard([[button(who.t.plain("buyer.button_catalog"), taps.ShopCatalog(shop.id, 0)),
                                 follow_button(who.t, shop.id, following)]]))
        return
    t = who.t
    from handlers.my_orders import status_text  # (it imports the notices this module imports)
    lines = [t("slip.your_order", number=order.number, shop=shop.name, status=status_text(t, order.status)),
             *order_item_lines(t, order)]
    damaged = [[damage_button(t, order)]] if order.status in ("shipped", "delivered") and \
        (await store.claims.policy(shop.id)).enabled else []
    await present(update, "\n".join(lines), keyboard([
        [button(t.plain("slip.button_again"), taps.OrderAgain(order.id))],
        *damaged,
        [button(t.plain("chat.button_ask", number=order.number), taps.AskShop(order.id)),
         follow_button(t, shop.id, following)],
        [button(t.plain("checkout.button_my_orders"), taps.MyOrders())],
    ]))


async def on_order_again(update: Update, context: Context) -> None:
    """Order again: the order's items, still on sale, into the cart at today's price."""
    from handlers.cart import show_cart
    from handlers.my_orders import own_order_of_tap
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    store = services(context).store
    added = 0
    for item in order.items:
        product = await store.products.get(item.product_id)
        if product is None or not product.on_sale:
            continue
        if item.variant_id is not None:
            variant = await store.variants.get(item.variant_id)
            if variant is None or not variant.on_sale:
                continue
        if await store.carts.add(who.id, order.shop_id, item.product_id, item.quantity, None, item.variant_id):
            added += 1
    shop = await store.shops.require(order.shop_id)
    if shop is None or not added:
        await query_of(update).answer(who.t.plain("slip.nothing_again"), show_alert=True)
        return
    await query_of(update).answer(who.t.plain("slip.added_again", count=added))
    await show_cart(update, context, who, shop)

