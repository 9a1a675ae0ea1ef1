"""Conversations about an order: the buyer writes to the shop from /myorders ("💬 Ask about
#1001"), the owner or staff answer from the relayed message ("↩ Answer"); text or a photo, relayed
by the bot with the order number, so neither side sees the other's Telegram account. Messages the
shop has not answered are listed in its daily summary (handlers/summaries.py)."""

from __future__ import annotations

from enum import StrEnum
import html

from telegram import Update

from core import callbacks as taps
from core.text import TextRefused, accept_text
from handlers.common import Actor, Context, actor, button, keyboard, largest_photo, message_text, query_of, reply
from handlers.guards import order_for_member
from handlers.my_orders import own_order_of_tap
from handlers.notices import members_messages, reach_of
from storage.models import Flow
from storage.outbox import Outgoing, Priority

BUYER_FLOW, SHOP_FLOW = "asktheshop", "answerbuyer"


class MessageStep(StrEnum):
    MESSAGE = "message"  # what the buyer (or the shop) writes about the order

TEXT_MAX = 1000


async def on_buyer_ask(update: Update, context: Context) -> None:
    """"💬 Ask about #1001": the buyer's next message goes to the shop."""
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    assert update.callback_query is not None
    await query_of(update).answer()
    await context.services.store.flows.start(who.id, BUYER_FLOW, MessageStep.MESSAGE, {"order": order.id})
    await reply(update, who.t("chat.ask_buyer", number=order.number))


async def on_shop_answer(update: Update, context: Context) -> None:
    """"↩ Answer" under a relayed message: the member's next message goes to the buyer."""
    who = await actor(update, context)
    found = await order_for_member(update, context, context.tap(taps.WriteBuyer).order)
    if found is None:
        return
    order, _membership = found
    await query_of(update).answer()
    await context.services.store.flows.start(who.id, SHOP_FLOW, MessageStep.MESSAGE, {"order": order.id})
    await reply(update, who.t("chat.ask_shop", number=order.number))


def _text_and_photo(update: Update) -> tuple[str | None, str | None]:
    """What was sent: a text, or a photo with its caption (TextRefused when it is neither)."""
    photo = largest_photo(update)
    message = update.effective_message
    raw = (message.caption if photo and message is not None else message_text(update)) or ""
    text = accept_text(raw, max_length=TEXT_MAX, multiline=True) if (raw.strip() or not photo) else None
    return text, photo


def _relay(chat_id: int, header: str, text: str | None, photo: str | None, markup) -> Outgoing:
    body = header + ("\n" + html.escape(text, quote=False) if text else "")  # typed text shown as typed
    if photo:
        return Outgoing(chat_id, "sendPhoto", {"photo": photo, "caption": body, "parse_mode": "HTML",
                                               "reply_markup": markup}, priority=Priority.OWNER)
    return Outgoing(chat_id, "sendMessage", {"text": body, "parse_mode": "HTML", "reply_markup": markup},
                    priority=Priority.OWNER)


async def on_buyer_message(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    store = context.services.store
    order = await store.orders.get(int(flow.data.get("order") or 0))
    if order is None or order.buyer_id != who.id:
        await store.flows.clear(who.id)
        return
    try:
        text, photo = _text_and_photo(update)
    except TextRefused:
        await reply(update, who.t("chat.invalid", max=TEXT_MAX))
        return
    shop = await store.shops.require(order.shop_id)
    assert shop is not None
    reach = await reach_of(context.services, shop)
    relays = members_messages(reach, lambda t: _relay(
        0, t("chat.from_buyer", number=order.number), text, photo,
        keyboard([[button(t.plain("chat.button_answer"), taps.WriteBuyer(order.id))]])))
    await store.flows.clear(who.id)
    await store.conversations.relay(order.id, who.id, from_buyer=True, text=text, photo=photo, messages=relays)
    await reply(update, who.t("chat.sent_to_shop", shop=shop.name, number=order.number))


async def on_shop_message(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    store = context.services.store
    found = await order_for_member(update, context, flow.data.get("order"))
    if found is None:
        await store.flows.clear(who.id)
        return
    order, membership = found
    try:
        text, photo = _text_and_photo(update)
    except TextRefused:
        await reply(update, who.t("chat.invalid", max=TEXT_MAX))
        return
    reach = await reach_of(context.services, membership.shop, buyer_id=order.buyer_id)
    relays = []
    if reach.buyer_reachable:
        assert reach.buyer is not None
        t = reach.t(reach.buyer)
        relays.append(_relay(order.buyer_id, t("chat.from_shop", shop=membership.shop.name, number=order.number),
                             text, photo, keyboard([[button(t.plain("chat.button_reply"), taps.AskShop(order.id))]])))
    await store.flows.clear(who.id)
    await store.conversations.relay(order.id, who.id, from_buyer=False, text=text, photo=photo, messages=relays)
    await reply(update, who.t("chat.sent_to_buyer", number=order.number) if relays else
                who.t("chat.buyer_unreachable", number=order.number))
