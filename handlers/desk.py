"""The order desk: owner and staff confirm, ship and cancel orders; the buyer hears of each step.

Every action re-checks that the person acting belongs to the order's shop (callback data is
never trusted) and that the step is legal for the order's current status.
"""

from __future__ import annotations

import math

from telegram import Update

from core.i18n import N_, Translator
from core.orders import TRANSITIONS, IllegalTransition, Status
from core.telegram_text import TEXT_LIMIT, pages, visible_length
from core.text import TextRefused, accept_text, clean_text, shorten
from handlers.common import (
    Actor, Context, Keyboard, actor, button, current_membership, keyboard, message_text, parse_callback, present,
    reply, services,
)
from handlers.flows import register_flow
from handlers.my_orders import status_text
from handlers.notices import buyer_status_message, merchant_order_text, order_desk_buttons, order_item_lines
from storage.models import Flow, Membership, Shop
from storage.orders import Order

PAGE = 8
FLOW_SHIP = "ship"
FLOW_CANCEL = "cancelorder"
FILTERS = {  # button code -> statuses shown
    "new": ("placed",), "conf": ("confirmed",), "ship": ("shipped",), "done": ("delivered",),
    "canc": ("cancelled",), "all": (),
}
FILTER_NAMES = {
    "new": N_("desk.filter_new"), "conf": N_("desk.filter_confirmed"), "ship": N_("desk.filter_shipped"),
    "done": N_("desk.filter_delivered"), "canc": N_("desk.filter_cancelled"), "all": N_("desk.filter_all"),
}
REASON_MAX = 200
TRACKING_MAX = 100


async def order_for_member(update: Update, context: Context, who: Actor, order_id: int | None
                           ) -> tuple[Order, Membership] | None:
    """The order, if the user is the owner or staff of its shop; otherwise refuse and None."""
    store = services(context).store
    order = await store.orders.get(order_id) if order_id else None
    membership = await store.shops.membership(who.id, order.shop_id) if order else None
    if order is None or membership is None:
        if update.callback_query:
            await update.callback_query.answer(who.t.plain("common.not_allowed"), show_alert=True)
        else:
            await reply(update, who.t("common.not_allowed"))
        return None
    return order, membership


def order_view(t: Translator, order: Order, shop: Shop, buyer, page: int = 0) -> tuple[str, Keyboard]:
    """The order with its desk buttons. An order too long for one message (Telegram takes 4,096
    characters) shows its lines a page at a time, with ◀ ▶ under them."""
    status = [t("desk.status_line", status=status_text(t, order.status),
                time=t.datetime(order.created_at, shop.timezone))]
    if order.tracking_number:
        status.append(t("notice.tracking", carrier=order.carrier or "", tracking=order.tracking_number))
    if order.cancel_reason:
        status.append(t("desk.cancel_reason", reason=order.cancel_reason))
    lines = order_item_lines(t, order)
    page_line = t("desk.items_page", first=len(lines), last=len(lines), total=len(lines))  # the longest it gets
    overhead = visible_length(merchant_order_text(t, order, shop, buyer, status_lines=status, items=[page_line]))
    item_pages = pages(lines, TEXT_LIMIT - overhead - 1)
    page = min(max(page, 0), len(item_pages) - 1)
    shown = list(item_pages[page])
    markup = order_desk_buttons(t, order)
    if len(item_pages) > 1:
        first = sum(len(p) for p in item_pages[:page]) + 1
        shown.append(t("desk.items_page", first=first, last=first + len(shown) - 1, total=len(lines)))
        nav = []
        if page > 0:
            nav.append(button("◀", "d.view", order.id, page - 1))
        if page + 1 < len(item_pages):
            nav.append(button("▶", "d.view", order.id, page + 1))
        markup = keyboard([nav, *markup["inline_keyboard"]])
    return merchant_order_text(t, order, shop, buyer, status_lines=status, items=shown), markup


async def show_order(update: Update, context: Context, who: Actor, order: Order, shop: Shop, *, new: bool = False,
                     page: int = 0) -> None:
    buyer = await services(context).store.users.get(order.buyer_id)
    text, markup = order_view(who.t, order, shop, buyer, page)
    if new:
        await reply(update, text, markup)
    else:
        await present(update, text, markup)


async def on_view(update: Update, context: Context) -> None:
    who = await actor(update, context)
    data = parse_callback(update)
    found = await order_for_member(update, context, who, data.id(0) if data else None)
    if found is None:
        return
    await update.callback_query.answer()
    await show_order(update, context, who, found[0], found[1].shop, page=(data.page(1) or 0) if data else 0)


async def _step(update: Update, context: Context, who: Actor, order: Order, shop: Shop, wanted: Status, **fields) -> Order | None:
    """Move the order and tell the buyer, atomically; report an illegal step."""
    svc = services(context)

    async def messages(changed: Order):
        return await buyer_status_message(svc, changed, shop)

    try:
        return await svc.store.orders.transition(order.id, wanted, who.id, messages=messages, **fields)
    except IllegalTransition as exc:
        text = who.t.plain("desk.illegal", number=order.number, status=status_text(who.t, exc.current),
                           wanted=status_text(who.t, exc.wanted))
        if update.callback_query:
            await update.callback_query.answer(text, show_alert=True)
        else:
            await reply(update, who.t("desk.illegal", number=order.number, status=status_text(who.t, exc.current),
                                      wanted=status_text(who.t, exc.wanted)))
        return None


async def on_confirm(update: Update, context: Context) -> None:
    await _simple_step(update, context, Status.CONFIRMED)


async def on_delivered(update: Update, context: Context) -> None:
    await _simple_step(update, context, Status.DELIVERED)


async def _simple_step(update: Update, context: Context, wanted: Status) -> None:
    who = await actor(update, context)
    data = parse_callback(update)
    found = await order_for_member(update, context, who, data.id(0) if data else None)
    if found is None:
        return
    order, membership = found
    changed = await _step(update, context, who, order, membership.shop, wanted)
    if changed is None:
        return
    await update.callback_query.answer(who.t.plain("desk.done", number=changed.number,
                                                   status=status_text(who.t, changed.status)))
    await show_order(update, context, who, changed, membership.shop)


async def on_ship(update: Update, context: Context) -> None:
    """Ship: ask for carrier and tracking number (or skip)."""
    await _ask(update, context, FLOW_SHIP, "desk.ask_tracking", "d.shipnow")


async def on_cancel(update: Update, context: Context) -> None:
    """Cancel: ask for a reason the buyer will read."""
    await _ask(update, context, FLOW_CANCEL, "desk.ask_reason", None)


async def _ask(update: Update, context: Context, flow_name: str, prompt: str, skip_action: str | None) -> None:
    who = await actor(update, context)
    data = parse_callback(update)
    found = await order_for_member(update, context, who, data.id(0) if data else None)
    if found is None:
        return
    order = found[0]
    wanted = Status.SHIPPED if flow_name == FLOW_SHIP else Status.CANCELLED
    if wanted not in _next(order):
        await _step(update, context, who, order, found[1].shop, wanted)  # says why not
        return
    await update.callback_query.answer()
    await services(context).store.flows.start(who.id, flow_name, "input", {"order": order.id})
    markup = keyboard([[button(who.t.plain("desk.button_skip_tracking"), skip_action, order.id)]]) if skip_action else None
    await reply(update, who.t(prompt, number=order.number), markup)


def _next(order: Order) -> frozenset[Status]:
    return TRANSITIONS[Status(order.status)]


def split_tracking(text: str) -> tuple[str | None, str]:
    """"SF Express SF1234567890" -> ("SF Express", "SF1234567890"): the last word is the number."""
    words = text.split()
    return (" ".join(words[:-1]) or None), words[-1]


async def on_ship_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    store = services(context).store
    try:  # the buyer reads it: one clean line, like everything typed (core.text)
        text = accept_text(message_text(update), max_length=TRACKING_MAX)
    except TextRefused:
        await reply(update, who.t("desk.tracking_invalid"))
        return
    carrier, tracking = split_tracking(text)
    await store.flows.clear(who.id)
    found = await order_for_member(update, context, who, flow.data.get("order"))
    if found is not None:
        await _finish_ship(update, context, who, found, carrier, tracking)


async def on_ship_without_tracking(update: Update, context: Context) -> None:
    who = await actor(update, context)
    data = parse_callback(update)
    found = await order_for_member(update, context, who, data.id(0) if data else None)
    if found is None:
        return
    await services(context).store.flows.clear(who.id)
    await update.callback_query.answer()
    await _finish_ship(update, context, who, found, None, None)


async def _finish_ship(update: Update, context: Context, who: Actor, found: tuple[Order, Membership],
                       carrier: str | None, tracking: str | None) -> None:
    order, membership = found
    changed = await _step(update, context, who, order, membership.shop, Status.SHIPPED,
                          carrier=carrier, tracking_number=tracking)
    if changed is not None:
        await show_order(update, context, who, changed, membership.shop, new=True)


async def on_cancel_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    store = services(context).store
    try:  # the buyer reads it: one clean line, like everything typed (core.text)
        reason = accept_text(message_text(update), max_length=REASON_MAX)
    except TextRefused:
        await reply(update, who.t("desk.reason_invalid", max=REASON_MAX))
        return
    found = await order_for_member(update, context, who, flow.data.get("order"))
    await store.flows.clear(who.id)
    if found is None:
        return
    order, membership = found
    changed = await _step(update, context, who, order, membership.shop, Status.CANCELLED, cancel_reason=reason)
    if changed is not None:
        await show_order(update, context, who, changed, membership.shop, new=True)


# ---------------------------------------------------------------- /orders

async def orders_command(update: Update, context: Context) -> None:
    """/orders: the current shop's orders, new ones first, filterable by status."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"), keyboard([[button(who.t.plain("button.open_shop"), "shop.new")]]))
        return
    await _list(update, context, who, membership.shop, "new", 0)


async def on_list(update: Update, context: Context) -> None:
    who = await actor(update, context)
    data = parse_callback(update)
    code = data.args[0] if data and data.args else None
    page = data.page(1) if data else None
    membership = await current_membership(who, context)
    if membership is None or code not in FILTERS or page is None or page < 0:
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    await update.callback_query.answer()
    await _list(update, context, who, membership.shop, code, page)


async def _list(update: Update, context: Context, who: Actor, shop: Shop, code: str, page: int) -> None:
    t = who.t
    orders, total = await services(context).store.orders.of_shop(shop.id, FILTERS[code], page * PAGE, PAGE)
    rows = _order_buttons(t, orders)
    nav = []
    if page > 0:
        nav.append(button("◀", "d.list", code, page - 1))
    if page + 1 < math.ceil(total / PAGE):
        nav.append(button("▶", "d.list", code, page + 1))
    rows.append(nav)
    filters = [button(("• " if c == code else "") + t.plain(FILTER_NAMES[c]), "d.list", c, 0) for c in FILTERS]
    rows += [filters[:3], filters[3:]]
    text = t("desk.list_title", shop=shop.name, filter=t.plain(FILTER_NAMES[code]), total=total)
    if total == 0:
        text += "\n" + t("desk.list_empty")
    await present(update, text, keyboard(rows))


LIST_RECIPIENT_MAX = 20  # a recipient typed as "Bob · CN¥0.01 · delivered" must not read as the bot's words


def _order_buttons(t: Translator, orders: list[Order]) -> list[list]:
    return [[button(t.plain("desk.list_item", number=o.number,
                            recipient=shorten(clean_text(o.recipient), LIST_RECIPIENT_MAX),
                            total=t.money(o.total, o.currency), status=status_text(t, o.status)), "d.view", o.id)]
            for o in orders]


async def on_range(update: Update, context: Context) -> None:
    """The digest's button: the orders #first..#last."""
    who = await actor(update, context)
    data = parse_callback(update)
    store = services(context).store
    shop_id, first, last = (data.id(0), data.id(1), data.id(2)) if data else (None, None, None)
    membership = await store.shops.membership(who.id, shop_id) if shop_id else None
    if membership is None or first is None or last is None or last < first:
        await update.callback_query.answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await update.callback_query.answer()
    t = who.t
    orders = await store.orders.by_numbers(shop_id, first, last)
    rows = _order_buttons(t, orders)
    await reply(update, t("desk.range_title", first=first, last=last, shop=membership.shop.name), keyboard(rows))


register_flow(FLOW_SHIP, on_ship_input)
register_flow(FLOW_CANCEL, on_cancel_input)
