"""/myorders: a buyer's orders with their status; cancel before shipping, confirm receipt."""

from __future__ import annotations

from telegram import Update

from core import callbacks as taps
from core.i18n import N_, Safe, Translator
from core.telegram_text import TEXT_LIMIT, fit_lines, visible_length
from core.orders import IllegalTransition, Status, buyer_may
from handlers.common import Context, actor, button, keyboard, present, query_of, services
from handlers.notices import (
    damage_button, members_messages, order_item_lines, payment_line, reach_of, refund_due, settle_markup,
    ship_date_lines,
)
from storage.orders import Order

ORDER_ITEMS_BUDGET = 600  # characters of item lines per order in the list; the order's receipt has them all
MORE_ROOM = 100  # for the line saying older orders were left out

STATUS = {
    Status.PLACED: N_("status.placed"),
    Status.CONFIRMED: N_("status.confirmed"),
    Status.SHIPPED: N_("status.shipped"),
    Status.DELIVERED: N_("status.delivered"),
    Status.CANCELLED: N_("status.cancelled"),
}


def status_text(t: Translator, status: str) -> str:
    return t.plain(STATUS[Status(status)])


async def my_orders(update: Update, context: Context) -> None:
    """/myorders (or its button): the latest orders, newest first."""
    who = await actor(update, context)
    if update.callback_query:
        await query_of(update).answer()
    await show_my_orders(update, context, who)


async def show_my_orders(update: Update, context: Context, who) -> None:
    store = services(context).store
    orders = await store.orders.of_buyer(who.id, limit=10)
    t = who.t
    if not orders:
        await present(update, t("myorders.none"))
        return
    blocks, rows = [t("myorders.title")], []
    used = visible_length(blocks[0])
    for shown, order in enumerate(orders):
        shop = await store.shops.require(order.shop_id)
        items = fit_lines(order_item_lines(t, order), ORDER_ITEMS_BUDGET, lambda n: t("checkout.items_more", count=n))
        block = t("myorders.order", number=order.number, shop=shop.name, date=t.date(order.created_at, shop.timezone),
                  status=status_text(t, order.status), items=Safe("\n".join(items)),
                  total=t.money(order.total, order.currency))
        if order.payment_method != "cod":
            block += "\n" + payment_line(t, order)
        for line in ship_date_lines(t, order) if order.status in ("placed", "confirmed") else ():
            block += "\n" + line  # a pre-sale: when it ships
        if order.tracking_number or order.carrier:  # a carrier alone ("顺丰") is worth telling too
            block += "\n" + t("myorders.tracking", carrier=order.carrier or "", tracking=order.tracking_number or "")
        # Ten long orders would pass Telegram's 4,096 characters: the newest that fit are shown.
        if shown and used + 2 + visible_length(block) > TEXT_LIMIT - MORE_ROOM:
            blocks.append(t("myorders.more_orders", count=len(orders) - shown))
            break
        used += 2 + visible_length(block)
        blocks.append(block)
        if buyer_may(order.status, Status.CANCELLED):
            rows.append([button(t.plain("myorders.button_cancel", number=order.number), taps.AskCancelOrder(order.id)),
                         button(t.plain("myorders.button_fix", number=order.number), taps.BuyerFix(order.id))])
        if buyer_may(order.status, Status.DELIVERED):
            rows.append([button(t.plain("myorders.button_received", number=order.number), taps.Received(order.id))])
        if order.status in (Status.SHIPPED, Status.DELIVERED) and (await store.claims.policy(order.shop_id)).enabled:
            rows.append([damage_button(t, order)])
        rows.append([button(t.plain("chat.button_ask", number=order.number), taps.AskShop(order.id))])
    await present(update, "\n\n".join(blocks), keyboard(rows))


async def own_order_of_tap(update: Update, context: Context) -> Order | None:
    """The order the tapped button names, if it is the user's own; otherwise refused and None."""
    who = await actor(update, context)
    order = await services(context).store.orders.get(context.tap(taps.OnOrder).order)
    if order is None or order.buyer_id != who.id:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return None
    return order


async def ask_cancel(update: Update, context: Context) -> None:
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    if not buyer_may(order.status, Status.CANCELLED):
        await query_of(update).answer(who.t.plain("myorders.too_late"), show_alert=True)
        return
    await query_of(update).answer()
    markup = keyboard([[button(who.t.plain("myorders.button_cancel_yes"), taps.CancelOrder(order.id)),
                        button(who.t.plain("myorders.button_cancel_no"), taps.MyOrders())]])
    await present(update, who.t("myorders.cancel_confirm", number=order.number), markup)


async def confirm_cancel(update: Update, context: Context) -> None:
    """The buyer cancels an order not yet shipped: stock returns, the shop is told."""
    await _buyer_step(update, context, Status.CANCELLED, N_("myorders.cancelled"))


async def confirm_received(update: Update, context: Context) -> None:
    """The buyer says the parcel arrived."""
    await _buyer_step(update, context, Status.DELIVERED, N_("myorders.received"))


async def _buyer_step(update: Update, context: Context, wanted: Status, done_key: str) -> None:
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    if not buyer_may(order.status, wanted):
        await query_of(update).answer(who.t.plain("myorders.too_late"), show_alert=True)
        return
    svc = services(context)
    shop = await svc.store.shops.require(order.shop_id)

    from handlers.order_card import card_edits  # it renders statuses with this module's names
    reach = await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id)

    def messages(changed: Order):
        key = "notice.buyer_cancelled" if wanted is Status.CANCELLED else "notice.buyer_received"

        def render(t):
            notice = {"text": t(key, number=changed.number, shop=shop.name), "parse_mode": "HTML"}
            if refund_due(changed):  # it was paid: the shop must send the money back
                notice["text"] += "\n" + t("refund.due_notice", amount=t.money(changed.total, changed.currency))
                notice["reply_markup"] = settle_markup(t, changed.id)
            return notice

        # the shop's cards stop offering Ship
        return members_messages(reach, render) + card_edits(reach, changed, shop)

    try:
        changed = await svc.store.orders.transition(order.id, wanted, who.id, messages=messages)
    except IllegalTransition:
        await query_of(update).answer(who.t.plain("myorders.too_late"), show_alert=True)
        return
    if refund_due(changed):
        await query_of(update).answer(who.t.plain("refund.cancelled_toast", number=order.number,
                                                       amount=who.t.money(changed.total, changed.currency)),
                                           show_alert=True)
    else:
        await query_of(update).answer(who.t.plain(done_key, number=order.number))
    await show_my_orders(update, context, who)
