"""Live links 1..N, their QR codes, and live sessions: "Link 1 — scan and order now!"

A slot belongs to the shop and its link never changes; the merchant only changes which product
the slot shows. All actions work on the user's current shop and re-check that they own it.
"""

from __future__ import annotations

import math
from functools import partial

from telegram import Update

from core import callbacks as taps
from core import qr
from core.command_words import parse_live_word
from core.i18n import N_, Translator, translator
from core.links import shop_link, slot_link
from core.text import clean_text, shorten
from handlers.guards import shop_member
from handlers.live_board import BOARD_NAME_MAX, OnSlot, on_slot, products_on_slots, slot_line
from handlers.common import (
    Actor, Context, actor, button, chat_of, chunks, keyboard, opens_app, present, query_of, reply, services,
    session_title,
    with_notice,
)
from handlers.audience import alert_offer_button, queue_alert
from handlers.images import send_image
from storage.audience import AlertRefused
from storage.live import MAX_SLOTS, SlotTaken
from storage.models import Membership, Shop
from storage.products import Product
from storage.variants import Variant

PICK_PAGE = 8
MIN_BOARD_SLOTS = 3
TITLE_MAX = 64


async def live_owner(update: Update, context: Context) -> Membership | None:
    """The user's current shop if they own it (live links, sessions and deals are the owner's);
    otherwise refused, said, and None."""
    return await shop_member(update, context, owner=True, not_owner=N_("live.owner_only"))


async def _slot_tap(update: Update, context: Context) -> tuple[Actor, Membership, int] | None:
    """A button about one slot of the user's own shop: (who, membership, slot), or None when
    refused (not the owner) or stale (no such slot); the tap is answered in those cases."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return None
    return who, membership, context.tap(taps.OnSlot).slot


# ---------------------------------------------------------------- the board

async def live_command(update: Update, context: Context) -> None:
    """/live, /live start [title], /live end."""
    args = context.args or []
    word = parse_live_word(args[0]) if args else None
    if word == "start":
        await start_session(update, context, shorten(clean_text(" ".join(args[1:])), TITLE_MAX) or None)
    elif word == "end":
        await end_session(update, context)
    elif word == "report":
        await last_report(update, context)
    else:
        await board(update, context)


async def board(update: Update, context: Context, notice: str | None = None) -> None:
    """The live board: every slot with its product, price and stock left."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    if update.callback_query and notice is None:
        await query_of(update).answer()
    shop = membership.shop
    t = who.t
    store = services(context).store
    on_slots = await products_on_slots(store, shop)
    last = max([s for s, p in on_slots.items() if p is not None], default=0)
    count = min(MAX_SLOTS, max(MIN_BOARD_SLOTS, last + 1))
    session = await store.live.current_session(shop.id)
    lines = [t("live.board_title", shop=shop.name)]
    if session is not None:
        lines.append(t("live.on_air", title=session_title(t, session.title),
                       since=t.time(session.started_at, shop.timezone)))
    lines.append("")
    lines += [slot_line(t, shop, s, on_slots.get(s)) for s in range(1, count + 1)]
    lines += ["", t("live.board_hint")]
    slot_buttons = [button(str(s), taps.SlotMenu(s)) for s in range(1, count + 1)]
    rows = [slot_buttons[i:i + 5] for i in range(0, len(slot_buttons), 5)]
    rows.append([button(t.plain("live.button_sheet"), taps.QrSheet()), button(t.plain("live.button_shop_qr"), taps.ShopQr())])
    rows.append([button(t.plain("live.button_end"), taps.EndSession())] if session else
                [button(t.plain("live.button_start"), taps.StartSession())])
    if await store.chats.of_shop(shop.id):  # the shop's channel or group: the board goes there too
        rows.append([button(t.plain("chats.button_post_board"), taps.PostBoard())])
    text = "\n".join(lines)
    text = with_notice(notice, text)
    await present(update, text, keyboard(rows))


async def slot_menu(update: Update, context: Context) -> None:
    """One slot: its link and what can be done with it."""
    tapped = await _slot_tap(update, context)
    if tapped is None:
        return
    who, membership, slot = tapped
    await query_of(update).answer()
    shop = membership.shop
    t = who.t
    live = services(context).store.live
    shown = await on_slot(services(context).store, await live.product_on(shop.id, slot), await live.variant_on(shop.id, slot))
    text = t("live.slot_title", slot=slot) + "\n" + slot_line(t, shop, slot, shown) + "\n" + \
        t("live.slot_link", link=slot_link(services(context).bot_username, shop.slug, slot))
    rows = [
        [button(t.plain("live.button_put"), taps.PickForSlot(slot, 0)), button(t.plain("live.button_swap"), taps.SwapFrom(slot))],
        [button(t.plain("live.button_clear"), taps.ClearSlot(slot)), button(t.plain("live.button_qr"), taps.SlotQr(slot))],
        [button(t.plain("live.button_board"), taps.LiveBoard())],
    ]
    await present(update, text, keyboard(rows))


async def pick_product(update: Update, context: Context) -> None:
    """Choose which product goes on a slot."""
    tapped = await _slot_tap(update, context)
    if tapped is None:
        return
    who, membership, slot = tapped
    page = context.tap(taps.PickForSlot).page
    await query_of(update).answer()
    t = who.t
    shop = membership.shop
    products, total = await services(context).store.products.page(shop.id, page * PICK_PAGE, PICK_PAGE,
                                                                  visible_only=True)
    if total == 0:
        await present(update, t("live.no_products"), keyboard([[button(t.plain("button.add_product"), taps.AddProduct())]]))
        return
    rows = [[button(t.plain("live.pick_item", name=p.name, price=t.money(p.price, shop.currency), stock=p.stock),
                    taps.PutOnSlot(slot, p.id))] for p in products]
    nav = []
    if page > 0:
        nav.append(button("◀", taps.PickForSlot(slot, page - 1)))
    if page + 1 < math.ceil(total / PICK_PAGE):
        nav.append(button("▶", taps.PickForSlot(slot, page + 1)))
    rows += [nav, [button(t.plain("live.button_board"), taps.LiveBoard())]]
    await present(update, t("live.pick_title", slot=slot), keyboard(rows))


async def pin_product(update: Update, context: Context) -> None:
    """Put the chosen product on the slot; the slot's link now opens it."""
    tapped = await _slot_tap(update, context)
    if tapped is None:
        return
    who, membership, slot = tapped
    store = services(context).store
    product = await store.products.get(context.tap(taps.PutOnSlot).product)
    if product is None or product.shop_id != membership.shop.id or product.deleted:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await store.live.pin(membership.shop.id, slot, product.id)
    await query_of(update).answer(who.t.plain("live.pinned", slot=slot, name=product.name))
    await board(update, context, notice=who.t("live.pinned", slot=slot, name=product.name))


async def put_on_next_free(update: Update, context: Context) -> None:
    """From a product's view: put it on the lowest empty link."""
    who = await actor(update, context)
    store = services(context).store
    product = await store.products.get(context.tap(taps.PutOnNextSlot).product)
    await _put_next(update, context, who, product, None)


async def put_variant_on_next_free(update: Update, context: Context) -> None:
    """From a variant's view: put that variant alone on the lowest empty link ("link 3 = 10斤 only")."""
    who = await actor(update, context)
    store = services(context).store
    variant = await store.variants.get(context.tap(taps.PutVariantOnNextSlot).variant)
    product = await store.products.get(variant.product_id) if variant is not None and variant.on_sale else None
    await _put_next(update, context, who, product, variant)


async def _put_next(update: Update, context: Context, who: Actor, product: Product | None,
                    variant: Variant | None) -> None:
    store = services(context).store
    membership = await store.shops.membership(who.id, product.shop_id) if product else None
    if product is None or product.deleted or membership is None or not membership.is_owner:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    existing = [pin.slot for pin in await store.live.pins(product.shop_id) if pin.product_id == product.id
                and pin.variant_id == (variant.id if variant else None)]
    if existing:
        await query_of(update).answer(who.t.plain("live.already_on", slot=existing[0]), show_alert=True)
        return
    try:
        slot = await store.live.pin_next_free(product.shop_id, product.id, variant.id if variant else None)
    except SlotTaken:
        await query_of(update).answer(who.t.plain("live.all_full", max=MAX_SLOTS), show_alert=True)
        return
    name = OnSlot(product, variant).name
    await query_of(update).answer(who.t.plain("live.pinned", slot=slot, name=name))
    await store.users.set_current_shop(who.id, product.shop_id)
    await reply(update, who.t("live.pinned_with_link", slot=slot, name=name,
                              link=slot_link(services(context).bot_username, membership.shop.slug, slot)),
                keyboard([[button(who.t.plain("button.live_board"), taps.LiveBoard())]]))


async def clear_slot(update: Update, context: Context) -> None:
    tapped = await _slot_tap(update, context)
    if tapped is None:
        return
    who, membership, slot = tapped
    await services(context).store.live.pin(membership.shop.id, slot, None)
    await query_of(update).answer(who.t.plain("live.cleared", slot=slot))
    await board(update, context, notice=who.t("live.cleared", slot=slot))


async def swap_from(update: Update, context: Context) -> None:
    """Pick the slot to swap with."""
    tapped = await _slot_tap(update, context)
    if tapped is None:
        return
    who, membership, slot = tapped
    await query_of(update).answer()
    on_slots = await products_on_slots(services(context).store, membership.shop)
    count = min(MAX_SLOTS, max(MIN_BOARD_SLOTS, max(on_slots, default=0) + 1, slot))
    others = [button(str(s), taps.SwapSlots(slot, s)) for s in range(1, count + 1) if s != slot]
    rows = [others[i:i + 5] for i in range(0, len(others), 5)]
    rows.append([button(who.t.plain("live.button_board"), taps.LiveBoard())])
    await present(update, who.t("live.swap_title", slot=slot), keyboard(rows))


async def swap_slots(update: Update, context: Context) -> None:
    who = await actor(update, context)
    membership = await live_owner(update, context)
    tap = context.tap(taps.SwapSlots)
    if membership is None:
        return
    a, b = tap.slot, tap.other
    if a == b:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await services(context).store.live.swap(membership.shop.id, a, b)
    await query_of(update).answer(who.t.plain("live.swapped", a=a, b=b))
    await board(update, context, notice=who.t("live.swapped", a=a, b=b))


# ---------------------------------------------------------------- QR codes

def qr_price(svc, minor: int, currency: str) -> str:
    """The price on a QR label, written the way the shop's viewers read it: in the shop's default
    language (a Chinese shop shows ¥39.90 whatever its merchant's own language; "CN¥" is how an
    English reader is told which yuan)."""
    label = translator(svc.config.language)
    return label.plain("live.qr_price", price=label.money(minor, currency))


async def slot_qr(update: Update, context: Context) -> None:
    """The QR code of one slot, for the stream overlay or print."""
    tapped = await _slot_tap(update, context)
    if tapped is None:
        return
    who, membership, slot = tapped
    await query_of(update).answer()
    svc = services(context)
    shop = membership.shop
    t = who.t
    product_id = await svc.store.live.product_on(shop.id, slot)
    product = await svc.store.products.get(product_id) if product_id else None
    url = slot_link(svc.bot_username, shop.slug, slot, app=opens_app(svc, shop))
    on_sale = product if product is not None and product.on_sale else None
    name = on_sale.name if on_sale else None
    price = qr_price(svc, on_sale.price, shop.currency) if on_sale else None
    render = partial(qr.render_slot_qr, url, slot, shop.name, name, price)
    await send_image(context.bot, chat_of(update).id, svc.store,
                     qr.content_key("slot", url, slot, shop.name, name, price), render,
                     filename=f"link-{slot}.png", caption=t("live.qr_caption", slot=slot, link=url))


async def shop_qr(update: Update, context: Context) -> None:
    """The QR code of the shop's catalog."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    await query_of(update).answer()
    svc = services(context)
    shop = membership.shop
    url = shop_link(svc.bot_username, shop.slug, app=opens_app(svc, shop))
    line = who.t.plain("live.shop_qr_line")
    await send_image(context.bot, chat_of(update).id, svc.store, qr.content_key("shop", url, shop.name, line),
                     partial(qr.render_shop_qr, url, shop.name, line), filename="shop.png",
                     caption=who.t("live.shop_qr_caption", shop=shop.name, link=url))


async def qr_sheet(update: Update, context: Context) -> None:
    """All filled slots on one sheet: a document for print and a photo for the overlay."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    svc = services(context)
    shop = membership.shop
    t = who.t
    on_slots = await products_on_slots(services(context).store, shop)
    items = [
        qr.SheetItem(slot, slot_link(svc.bot_username, shop.slug, slot, app=opens_app(svc, shop)), p.name,
                     qr_price(svc, p.price, shop.currency))
        for slot, p in sorted(on_slots.items()) if p is not None and p.on_sale
    ]
    if not items:
        await query_of(update).answer(t.plain("live.sheet_empty"), show_alert=True)
        return
    await query_of(update).answer()
    title = t.plain("live.sheet_title", shop=shop.name)
    key = qr.content_key("sheet", title, items)
    render = partial(qr.render_qr_sheet, items, title)
    chat_id = chat_of(update).id
    await send_image(context.bot, chat_id, svc.store, key, render, filename="live-links.png", as_document=True,
                     caption=t("live.sheet_print_caption", count=len(items)))
    await send_image(context.bot, chat_id, svc.store, key, render, filename="live-links.png",
                     caption=t("live.sheet_overlay_caption"))


# ---------------------------------------------------------------- sessions

async def start_session(update: Update, context: Context, title: str | None = None) -> None:
    """/live start [title] (or the button): opens and orders from now on count for this session."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    session, new = await services(context).store.live.start_session(membership.shop.id, title)
    t = who.t
    key = "live.started" if new else "live.already_running"
    since = t.time(session.started_at, membership.shop.timezone)
    notice = t(key, title=session_title(t, session.title), since=since)
    if update.callback_query:
        # The board is edited in place, above where the merchant looks on a phone: a toast says it too.
        toast = t.plain("live.started_toast") if new else t.plain(
            key, title=t.plain("live.title_fragment", title=session.title) if session.title else "", since=since)
        await query_of(update).answer(toast, show_alert=not new)
        await board(update, context, notice=notice)
    else:
        await reply(update, notice, keyboard([[button(t.plain("button.live_board"), taps.LiveBoard())]]))
    if new:  # the owner chooses each time whether the followers hear of it
        followers = await services(context).store.audience.follower_count(membership.shop.id)
        if followers:
            await reply(update, t("alert.offer", count=followers),
                        keyboard([[alert_offer_button(t, session.id, followers)]]))


async def on_alert(update: Update, context: Context) -> None:
    """"Tell followers" under a session just started: queue the alert (once per session, at most
    the operator's number a day); the followers hear of it after buyers' answers and notices."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    wanted = context.tap(taps.AlertFollowers).session
    shop = membership.shop
    session = await services(context).store.live.current_session(shop.id)
    if session is None or wanted != session.id:
        await query_of(update).answer(who.t.plain("alert.session_over"), show_alert=True)
        return
    try:
        count = await queue_alert(context, shop, session)
    except AlertRefused as refused:
        key = "alert.already_sent" if refused.reason == "sent" else "alert.cap_reached"
        await query_of(update).answer(who.t.plain(key, limit=refused.limit), show_alert=True)
        return
    if not count:
        await query_of(update).answer(who.t.plain("alert.no_followers"), show_alert=True)
        return
    await query_of(update).answer(who.t.plain("alert.queued", count=count), show_alert=True)
    await reply(update, who.t("alert.queued", count=count))


async def end_session(update: Update, context: Context) -> None:
    """/live end (or the button): close the session and report opens, orders and revenue per link."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    if update.callback_query:
        await query_of(update).answer()
    store = services(context).store
    session = await store.live.end_session(membership.shop.id)
    if session is None:
        await reply(update, who.t("live.no_session"))
        return
    for text in chunks(await session_report(context, who.t, membership.shop, session)):
        await reply(update, text)


async def last_report(update: Update, context: Context) -> None:
    """/live report: the report of the last session again (or of the running one so far)."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    session = await services(context).store.live.last_session(membership.shop.id)
    if session is None:
        await reply(update, who.t("live.no_session"))
        return
    for text in chunks(await session_report(context, who.t, membership.shop, session)):
        await reply(update, text)


async def session_report(context: Context, t: Translator, shop: Shop, session) -> list[str]:
    """The report's lines: per link, opens -> orders (conversion), units, revenue; then the total."""
    store = services(context).store
    figures = await store.live.session_figures(session.id)
    end = t.time(session.ended_at, shop.timezone) if session.ended_at else t.plain("live.report_running")
    lines = [t("live.report_heading", title=session_title(t, session.title),
               start=t.datetime(session.started_at, shop.timezone), end=end)]
    total_opens = total_orders = total_units = total_revenue = 0
    for row in figures:
        if row.slot is None:
            label = t.plain("live.report_other_links")
        else:
            # The products this link showed during the session (it may have rotated).
            label = t.plain("live.report_link", slot=row.slot, name=shorten(row.names or "—", BOARD_NAME_MAX * 2))
        lines.append(t("live.report_line", label=label, opens=row.opens, orders=row.orders,
                       conversion=_percent(row.orders, row.opens), units=row.units,
                       revenue=t.money(row.revenue, shop.currency)))
        total_opens += row.opens
        total_orders += row.orders
        total_units += row.units
        total_revenue += row.revenue
    if not figures:
        lines.append(t("live.report_nothing"))
    lines.append(t("live.report_total", opens=total_opens, orders=total_orders,
                   conversion=_percent(total_orders, total_opens), units=total_units,
                   revenue=t.money(total_revenue, shop.currency)))
    return lines


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "—"
