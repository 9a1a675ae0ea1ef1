"""The order desk: owner and staff confirm, ship and cancel orders; the buyer hears of each step.

Every action re-checks that the person acting belongs to the order's shop (callback data is
never trusted) and that the step is legal for the order's current status.
"""

from __future__ import annotations

from enum import StrEnum
import logging
import math
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import BadRequest

from core import callbacks as taps
from core.i18n import N_, Translator, escape
from core.presale import week_end
from core.orders import OPEN, AwaitingPayment, IllegalTransition, Status, may_ship, next_steps
from core.text import TextRefused, accept_text, clean_text, shorten
from core.tracking import parse_shipment
from handlers.guards import order_for_member
from handlers.common import (
    Actor, Context, Services, actor, button, chat_of, current_membership, keyboard, message_text, present, query_of,
    reply, services, tapped_message,
)
from handlers import order_card
from handlers.my_orders import status_text
from handlers.notices import buyer_status_message, reach_of, settle_markup
from storage.models import Flow, Membership, Shop
from storage.orders import Order

PAGE = 8
FLOW_SHIP = "ship"
FLOW_CANCEL = "cancelorder"


class ShipStep(StrEnum):
    TRACKING = "input"  # the carrier and tracking number (or the Skip button)


class CancelStep(StrEnum):
    REASON = "input"  # why the order is cancelled (the buyer reads it)

FILTERS = {  # button code -> statuses shown
    "new": ("placed",), "conf": ("confirmed",), "wk": ("placed", "confirmed"), "ship": ("shipped",),
    "done": ("delivered",), "canc": ("cancelled",), "all": (),
}
FILTER_NAMES = {
    "new": N_("desk.filter_new"), "conf": N_("desk.filter_confirmed"), "wk": N_("desk.filter_this_week"),
    "ship": N_("desk.filter_shipped"), "done": N_("desk.filter_delivered"), "canc": N_("desk.filter_cancelled"),
    "all": N_("desk.filter_all"),
}
THIS_WEEK = "wk"  # to ship this week: in stock, or a pre-sale shipping by Sunday
REASON_MAX = 200
TRACKING_MAX = 100
log = logging.getLogger(__name__)


async def render_card(context: Context, who: Actor, order: Order, shop: Shop, back: str = "new",
                      page: int = 0) -> tuple[str, dict]:
    """The card as this member sees it: the owner also gets "Refund sent" for refunds due."""
    store = services(context).store
    buyer = await store.users.get(order.buyer_id)
    refunds = await store.refunds.of_order(order.id)
    text, markup = order_card.card(who.t, order, shop, buyer, back, page, refunds)
    if shop.owner_id == who.id and any(not r.settled for r in refunds):
        markup = keyboard(markup["inline_keyboard"] + settle_markup(who.t, order.id)["inline_keyboard"])
    return text, markup


async def show_order(update: Update, context: Context, who: Actor, order: Order, shop: Shop, back: str = "new",
                     page: int = 0) -> None:
    """Show the card on the tapped message (edited in place), and remember that it shows it."""
    await present(update, *(await render_card(context, who, order, shop, back, page)))
    message = query_of(update).message if update.callback_query else None
    if message is not None and not getattr(message, "photo", None):
        await services(context).store.orders.remember_card(order.id, message.chat.id, message.message_id)


async def edit_card(update: Update, context: Context, who: Actor, order: Order, shop: Shop,
                    message_id: int | None) -> None:
    """Edit the card a member acted on (remembered by message id) to the order as it is now;
    a new card only when that message cannot be edited any more."""
    text, markup = await render_card(context, who, order, shop)
    if message_id is not None:
        try:
            await update.get_bot().do_api_request("editMessageText", api_kwargs={
                "chat_id": chat_of(update).id, "message_id": message_id, "text": text, "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True}, "reply_markup": markup})
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return
            log.info("could not edit order card %s (%s); sending a new one", message_id, exc)
    await reply(update, text, markup)


def refusal(t: Translator, order: Order, wanted: Status, exc: IllegalTransition | None = None) -> str:
    """Why a step cannot be taken, in one line for an alert."""
    unpaid = wanted is Status.SHIPPED and Status(order.status) in OPEN and not may_ship(order.status,
                                                                                       order.payment_status)
    if isinstance(exc, AwaitingPayment) or (exc is None and unpaid):
        return t.plain("desk.ship_awaiting_payment", number=order.number)
    status = exc.current if exc is not None else order.status
    if Status(status) is wanted:  # e.g. shipped by someone else a moment ago
        return t.plain("desk.already", number=order.number, status=status_text(t, status))
    return t.plain("desk.illegal", number=order.number, status=status_text(t, status),
                   wanted=status_text(t, wanted))


async def refuse(update: Update, context: Context, who: Actor, order: Order, shop: Shop, wanted: Status,
                 exc: IllegalTransition | None = None) -> None:
    """Say why not, in an alert on the tap (or a message for typed input), and bring the tapped
    card up to date so an old copy stops offering what the order no longer allows."""
    text = refusal(who.t, order, wanted, exc)
    if update.callback_query is None:
        await reply(update, escape(text))
        return
    await query_of(update).answer(text, show_alert=True)
    fresh = await services(context).store.orders.get(order.id)
    message = query_of(update).message
    if fresh is not None and message is not None and not getattr(message, "photo", None) \
            and _is_order_card(message, order):
        await show_order(update, context, who, fresh, shop)


def _is_order_card(message, order: Order) -> bool:
    """Whether the tapped message is a card of this order (not a prompt or a list)."""
    markup = getattr(message, "reply_markup", None)
    datas = [b.callback_data for row in (markup.inline_keyboard if markup else ()) for b in row]
    return any(d and d.split(":")[0] in ("d.conf", "d.ship", "d.cancel", "d.done") and d.endswith(f":{order.id}")
               for d in datas)


async def on_view(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.ViewOrder)
    found = await order_for_member(update, context, tap.order)
    if found is None:
        return
    back = tap.back if tap.back in FILTERS else "new"
    await query_of(update).answer()
    await show_order(update, context, who, found[0], found[1].shop, back, page=tap.page or 0)


async def _step(svc: Services, who: Actor, order: Order, shop: Shop, wanted: Status,
                skip: tuple[int, int] | None, **fields) -> Order:
    """Move the order, tell the buyer and bring every copy of its card up to date, atomically
    (IllegalTransition if not allowed). `skip`: the card this answer edits itself."""

    reach = await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id)

    def messages(changed: Order):
        return [*buyer_status_message(reach, changed, shop), *order_card.card_edits(reach, changed, shop, skip)]

    return await svc.store.orders.transition(order.id, wanted, who.id, messages=messages, **fields)


async def take_step(svc: Services, who: Actor, order: Order, shop: Shop, wanted: Status, **fields) -> Order:
    """Move an order from outside a card (bulk shipping, a multi-select): buyer told, every
    copy of its card edited; IllegalTransition if not allowed."""
    return await _step(svc, who, order, shop, wanted, None, **fields)


async def on_confirm(update: Update, context: Context) -> None:
    await _simple_step(update, context, Status.CONFIRMED)


async def on_delivered(update: Update, context: Context) -> None:
    await _simple_step(update, context, Status.DELIVERED)


async def _simple_step(update: Update, context: Context, wanted: Status) -> None:
    who = await actor(update, context)
    found = await order_for_member(update, context, context.tap(taps.OnOrder).order)
    if found is None:
        return
    order, membership = found
    if wanted not in next_steps(order.status, order.payment_status):
        await refuse(update, context, who, order, membership.shop, wanted)
        return
    try:
        message = query_of(update).message
        tapped = (message.chat.id, message.message_id) if message is not None else None
        changed = await _step(services(context), who, order, membership.shop, wanted, tapped)
    except IllegalTransition as exc:  # changed by someone else a moment ago
        await refuse(update, context, who, order, membership.shop, wanted, exc)
        return
    await query_of(update).answer(who.t.plain("desk.done", number=changed.number,
                                                   status=status_text(who.t, changed.status)))
    await show_order(update, context, who, changed, membership.shop)


async def on_ship(update: Update, context: Context) -> None:
    """Ship: ask for carrier and tracking number (or skip)."""
    await _ask(update, context, Status.SHIPPED)


async def on_cancel(update: Update, context: Context) -> None:
    """Cancel: ask for a reason the buyer will read."""
    await _ask(update, context, Status.CANCELLED)


async def _ask(update: Update, context: Context, wanted: Status) -> None:
    who = await actor(update, context)
    found = await order_for_member(update, context, context.tap(taps.OnOrder).order)
    if found is None:
        return
    order, membership = found
    if wanted not in next_steps(order.status, order.payment_status):
        await refuse(update, context, who, order, membership.shop, wanted)
        return
    await query_of(update).answer()
    tapped = tapped_message(update)
    card = tapped.message_id if tapped is not None else None
    prompt = None
    if wanted is Status.SHIPPED:
        markup = keyboard([[button(who.t.plain("desk.button_skip_tracking"), taps.ShipWithoutTracking(order.id))]])
        prompt = await _send_prompt(update, who.t("desk.ask_tracking", number=order.number), markup)
    else:
        await reply(update, who.t("desk.ask_reason", number=order.number))
    flow_name, step = (FLOW_SHIP, ShipStep.TRACKING) if wanted is Status.SHIPPED else (FLOW_CANCEL, CancelStep.REASON)
    await services(context).store.flows.start(who.id, flow_name, step,
                                              {"order": order.id, "card": card, "prompt": prompt})


async def _send_prompt(update: Update, text: str, markup: dict) -> int | None:
    """Send the ship prompt and return its message id (its button is taken off once answered)."""
    result = await update.get_bot().do_api_request("sendMessage", api_kwargs={
        "chat_id": chat_of(update).id, "text": text, "parse_mode": "HTML", "reply_markup": markup,
        "link_preview_options": {"is_disabled": True}})
    return result.get("message_id") if isinstance(result, dict) else None


async def _close_prompt(update: Update, prompt: int | None) -> None:
    """Take "Ship without tracking number" off a prompt that has been answered by typing."""
    if prompt is None:
        return
    try:
        await update.get_bot().do_api_request("editMessageReplyMarkup", api_kwargs={
            "chat_id": chat_of(update).id, "message_id": prompt, "reply_markup": {"inline_keyboard": []}})
    except BadRequest as exc:  # too old or already without it: nothing left to offer anyway
        log.info("could not take the button off ship prompt %s: %s", prompt, exc)


async def on_ship_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    store = services(context).store
    try:  # the buyer reads it: one clean line, like everything typed (core.text)
        text = accept_text(message_text(update), max_length=TRACKING_MAX)
    except TextRefused:
        text = None
    shipment = parse_shipment(text) if text else None
    if shipment is None or not (shipment.carrier or shipment.number):
        await reply(update, who.t("desk.tracking_invalid"))
        return
    await store.flows.clear(who.id)
    await _close_prompt(update, flow.data.get("prompt"))
    found = await order_for_member(update, context, flow.data.get("order"))
    if found is not None:
        await _finish(update, context, who, found, Status.SHIPPED, flow.data.get("card"),
                      carrier=shipment.carrier, tracking_number=shipment.number)


async def on_ship_without_tracking(update: Update, context: Context) -> None:
    """The prompt's button: ship with no tracking number. The tap is answered once, after the
    step, so a refusal (the order shipped or was cancelled meanwhile) still gets its alert."""
    who = await actor(update, context)
    found = await order_for_member(update, context, context.tap(taps.ShipWithoutTracking).order)
    if found is None:
        return
    store = services(context).store
    flow = await store.flows.get(who.id)
    card = flow.data.get("card") if flow and flow.name == FLOW_SHIP and flow.data.get("order") == found[0].id else None
    if flow and flow.name == FLOW_SHIP:
        await store.flows.clear(who.id)
    await _finish(update, context, who, found, Status.SHIPPED, card)


async def _finish(update: Update, context: Context, who: Actor, found: tuple[Order, Membership], wanted: Status,
                  card: int | None, **fields) -> None:
    """End a ship or cancel prompt: take the step, answer, and edit the card in place."""
    order, membership = found
    try:
        skip = (chat_of(update).id, card) if card is not None else None
        changed = await _step(services(context), who, order, membership.shop, wanted, skip, **fields)
    except IllegalTransition as exc:
        await refuse(update, context, who, order, membership.shop, wanted, exc)
        prompt_message = tapped_message(update)
        if prompt_message is not None:  # the prompt's button can do nothing any more
            await _close_prompt(update, prompt_message.message_id)
        return
    done = who.t.plain("desk.done", number=changed.number, status=status_text(who.t, changed.status))
    if update.callback_query is not None:
        await query_of(update).answer(done)
        await present(update, escape(done))  # the prompt says what became of it; its button goes
    else:
        await reply(update, escape(done))
    await edit_card(update, context, who, changed, membership.shop, card)


async def on_cancel_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    store = services(context).store
    try:  # the buyer reads it: one clean line, like everything typed (core.text)
        reason = accept_text(message_text(update), max_length=REASON_MAX)
    except TextRefused:
        await reply(update, who.t("desk.reason_invalid", max=REASON_MAX))
        return
    found = await order_for_member(update, context, flow.data.get("order"))
    await store.flows.clear(who.id)
    if found is None:
        return
    await _finish(update, context, who, found, Status.CANCELLED, flow.data.get("card"), cancel_reason=reason)


# ---------------------------------------------------------------- /orders

async def orders_command(update: Update, context: Context) -> None:
    """/orders: the current shop's orders, new ones first, filterable by status."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    if membership is None:
        await reply(update, who.t("catalog.no_shop"), keyboard([[button(who.t.plain("button.open_shop"), taps.OpenShop())]]))
        return
    await _list(update, context, who, membership.shop, "new", 0)


async def on_list(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.OrderList)
    code, page = tap.code, tap.page
    membership = await current_membership(who, context)
    if membership is None or code not in FILTERS:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    await query_of(update).answer()
    await _list(update, context, who, membership.shop, code, page)


async def _list(update: Update, context: Context, who: Actor, shop: Shop, code: str, page: int) -> None:
    t = who.t
    by = week_end(datetime.now(ZoneInfo(shop.timezone)).date()).isoformat() if code == THIS_WEEK else None
    orders, total = await services(context).store.orders.of_shop(shop.id, FILTERS[code], page * PAGE, PAGE, by)
    rows = _order_buttons(t, orders, code)
    nav = []
    if page > 0:
        nav.append(button("◀", taps.OrderList(code, page - 1)))
    if page + 1 < math.ceil(total / PAGE):
        nav.append(button("▶", taps.OrderList(code, page + 1)))
    rows.append(nav)
    if total:  # several orders at once: handlers/order_select.py
        rows.append([button(t.plain("desk.button_select"), taps.StartSelect(code, page, 1))])
    filters = [button(("• " if c == code else "") + t.plain(FILTER_NAMES[c]), taps.OrderList(c, 0)) for c in FILTERS]
    rows += [filters[:3], filters[3:5], filters[5:]]  # new, confirmed, this week / shipped, delivered / …
    text = t("desk.list_title", shop=shop.name, filter=t.plain(FILTER_NAMES[code]), total=total)
    if total == 0:
        text += "\n" + t("desk.list_empty")
    await present(update, text, keyboard(rows))
    message = query_of(update).message if update.callback_query else None
    if message is not None:  # a card went back to being the list: no order's copy any more
        await services(context).store.orders.forget_card(message.chat.id, message.message_id)


async def show_list(update: Update, context: Context, who: Actor, shop: Shop, code: str, page: int) -> None:
    """The shop's orders of one filter, a page at a time (also where a selection returns)."""
    await _list(update, context, who, shop, code, page)


LIST_RECIPIENT_MAX = 20  # a recipient typed as "Bob · CN¥0.01 · delivered" must not read as the bot's words


def _order_buttons(t: Translator, orders: list[Order], code: str = "new") -> list[list]:
    def label(o: Order) -> str:
        text = t.plain("desk.list_item", number=o.number, recipient=shorten(clean_text(o.recipient), LIST_RECIPIENT_MAX),
                       total=t.money(o.total, o.currency), status=status_text(t, o.status))
        # packed in one box with an earlier order of the same buyer
        return text + t.plain("desk.list_item_parcel", number=o.parcel_number) if o.parcel_number else text

    return [[button(label(o), taps.ViewOrder(o.id, code))] for o in orders]


async def on_range(update: Update, context: Context) -> None:
    """The digest's button: the orders #first..#last."""
    who = await actor(update, context)
    tap = context.tap(taps.OrderRange)
    store = services(context).store
    first, last = tap.first, tap.last
    membership = await store.shops.membership(who.id, tap.shop)
    if membership is None or last < first:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await query_of(update).answer()
    t = who.t
    orders = await store.orders.by_numbers(tap.shop, first, last)
    rows = _order_buttons(t, orders)
    await reply(update, t("desk.range_title", first=first, last=last, shop=membership.shop.name), keyboard(rows))
