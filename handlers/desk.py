"""The order desk: owner and staff confirm, ship and cancel orders; the buyer hears of each step.

Every action re-checks that the person acting belongs to the order's shop (callback data is
never trusted) and that the step is legal for the order's current status.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from telegram import Update

from core.i18n import N_, Translator
from core.orders import TRANSITIONS, IllegalTransition, Status
from handlers.common import (
    Actor, Context, actor, button, current_membership, keyboard, message_text, parse_callback, present, reply,
    services,
)
from handlers.flows import register_flow
from handlers.my_orders import status_text
from handlers.notices import buyer_status_message, merchant_order_text, order_desk_buttons, settle_markup
from storage.models import Flow, Membership, Shop
from storage.orders import Order
from storage.refunds import Refund

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


def order_view(t: Translator, order: Order, shop: Shop, buyer, refunds: Sequence[Refund] = ()) -> str:
    text = merchant_order_text(t, order, shop, buyer)
    text += "\n\n" + t("desk.status_line", status=status_text(t, order.status),
                       time=t.datetime(order.created_at, shop.timezone))
    if order.tracking_number:
        text += "\n" + t("notice.tracking", carrier=order.carrier or "", tracking=order.tracking_number)
    if order.cancel_reason:
        text += "\n" + t("desk.cancel_reason", reason=order.cancel_reason)
    for refund in refunds:
        text += "\n" + t("refund.line", amount=t.money(refund.amount, refund.currency),
                         state=t.plain("refund.state_settled" if refund.settled else "refund.state_open"))
    return text


async def show_order(update: Update, context: Context, who: Actor, order: Order, shop: Shop, *, new: bool = False) -> None:
    store = services(context).store
    buyer = await store.users.get(order.buyer_id)
    refunds = await store.refunds.of_order(order.id)
    text = order_view(who.t, order, shop, buyer, refunds)
    markup = order_desk_buttons(who.t, order)
    if shop.owner_id == who.id and any(not r.settled for r in refunds):
        markup = keyboard(markup["inline_keyboard"] + settle_markup(who.t, order.id)["inline_keyboard"])
    if new:
        await reply(update, text, markup)
    else:
        await present(update, text, markup)


async def on_view(update: Update, context: Context) -> None:
    who = await actor(update, context)
    data = parse_callback(update)
    found = await order_for_member(update, context, who, data.opt_int(0) if data else None)
    if found is None:
        return
    await update.callback_query.answer()
    await show_order(update, context, who, found[0], found[1].shop)


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
    found = await order_for_member(update, context, who, data.opt_int(0) if data else None)
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
    found = await order_for_member(update, context, who, data.opt_int(0) if data else None)
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
    text = message_text(update)
    if not text or len(text) > 100:
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
    found = await order_for_member(update, context, who, data.opt_int(0) if data else None)
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
    reason = message_text(update)
    if not reason or len(reason) > REASON_MAX:
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
    page = data.opt_int(1) if data else None
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


def _order_buttons(t: Translator, orders: list[Order]) -> list[list]:
    return [[button(t.plain("desk.list_item", number=o.number, recipient=o.recipient,
                            total=t.money(o.total, o.currency), status=status_text(t, o.status)), "d.view", o.id)]
            for o in orders]


async def on_range(update: Update, context: Context) -> None:
    """The digest's button: the orders #first..#last."""
    who = await actor(update, context)
    data = parse_callback(update)
    store = services(context).store
    shop_id, first, last = (data.opt_int(0), data.opt_int(1), data.opt_int(2)) if data else (None, None, None)
    membership = await store.shops.membership(who.id, shop_id) if shop_id else None
    if membership is None or first is None or last is None:
        await update.callback_query.answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await update.callback_query.answer()
    t = who.t
    orders = await store.orders.by_numbers(shop_id, first, last)
    rows = _order_buttons(t, orders)
    await reply(update, t("desk.range_title", first=first, last=last, shop=membership.shop.name), keyboard(rows))


register_flow(FLOW_SHIP, on_ship_input)
register_flow(FLOW_CANCEL, on_cancel_input)
