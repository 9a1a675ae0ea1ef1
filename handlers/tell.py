"""/tell: the owner writes once to the buyers of the last live session or to those whose orders
wait to ship ("rain: everything ships on Thursday"), sees how many it reaches, confirms; the
messages go out as bulk sends, after buyers' answers and owners' notices (storage/outbox.py),
each headed in its reader's language. Buyers who blocked the bot are left out."""

from __future__ import annotations

from enum import StrEnum
from telegram import Update

from core import callbacks as taps
from core.i18n import N_
from core.text import TextRefused, accept_text
from handlers.flows import flow_of_tap
from handlers.common import Actor, Context, actor, button, keyboard, message_text, query_of, reply, show, translator_for
from handlers.guards import shop_member
from storage.models import Flow
from storage.outbox import Outgoing, Priority

FLOW = "tell"


class TellStep(StrEnum):
    TEXT = "text"  # the message to the buyers
    CONFIRM = "confirm"  # its preview: Send to N / Cancel

TEXT_MAX = 1000
AUDIENCES = ("session", "waiting")


async def _buyers(context: Context, shop_id: int, audience: str) -> list[int]:
    store = context.services.store
    if audience == "session":
        session = await store.live.last_session(shop_id)
        return await store.orders.buyers_of_session(session.id) if session else []
    return await store.orders.buyers_waiting(shop_id)


async def tell_command(update: Update, context: Context) -> None:
    """Who should hear it: buttons with how many each reaches."""
    who = await actor(update, context)
    membership = await shop_member(update, context, owner=True, not_owner=N_("tell.owner_only"))
    if membership is None:
        return
    shop = membership.shop
    session = len(await _buyers(context, shop.id, "session"))
    waiting = len(await _buyers(context, shop.id, "waiting"))
    if not session and not waiting:
        await reply(update, who.t("tell.nobody"))
        return
    rows = []
    if session:
        rows.append([button(who.t.plain("tell.button_session", count=session), taps.TellAudience(shop.id, 0))])
    if waiting:
        rows.append([button(who.t.plain("tell.button_waiting", count=waiting), taps.TellAudience(shop.id, 1))])
    rows.append([button(who.t.plain("tell.button_cancel"), taps.TellCancel())])
    await reply(update, who.t("tell.ask_audience", shop=shop.name), keyboard(rows))


async def on_audience(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.TellAudience)
    shop_id, which = tap.shop, tap.waiting
    membership = await shop_member(update, context, shop_id, owner=True, not_owner=N_("tell.owner_only"))
    if membership is None:
        return
    await query_of(update).answer()
    await context.services.store.flows.start(who.id, FLOW, TellStep.TEXT, {"shop": shop_id, "to": AUDIENCES[which]})
    await show(update, who.t("tell.ask_text", max=TEXT_MAX))


async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The message typed: previewed with how many it reaches, then Send / Cancel."""
    try:
        text = accept_text(message_text(update), max_length=TEXT_MAX, multiline=True)
    except TextRefused:
        await reply(update, who.t("tell.text_invalid", max=TEXT_MAX))
        return
    shop_id, audience = flow.data["shop"], flow.data["to"]
    count = len(await _buyers(context, shop_id, audience))
    await context.services.store.flows.save(Flow(who.id, FLOW, TellStep.CONFIRM, {**flow.data, "text": text}))
    await reply(update, who.t("tell.preview", count=count, text=text),
                keyboard([[button(who.t.plain("tell.button_send", count=count), taps.TellSend(shop_id))],
                          [button(who.t.plain("tell.button_cancel"), taps.TellCancel())]]))


async def on_send(update: Update, context: Context) -> None:
    who = await actor(update, context)
    store = context.services.store
    shop_id = context.tap(taps.TellSend).shop
    membership = await shop_member(update, context, shop_id, owner=True, not_owner=N_("tell.owner_only"))
    if membership is None:
        return
    flow = await flow_of_tap(update, context)  # at the preview (handlers/registry.py), else answered
    if flow is None:
        return
    if shop_id != flow.data["shop"]:
        await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    shop = membership.shop
    messages = []
    for buyer_id in await _buyers(context, shop.id, flow.data["to"]):
        buyer = await store.users.get(buyer_id)
        if buyer is None or buyer.blocked_at:
            continue
        t = translator_for(buyer, context.services.config)
        messages.append(Outgoing(buyer_id, "sendMessage", {"text": t("tell.to_buyer", shop=shop.name,
                                                                     text=flow.data["text"]), "parse_mode": "HTML"},
                                 priority=Priority.BULK))
    sent = await store.outbox.send_all_later(messages)
    await store.flows.clear(who.id)
    await query_of(update).answer()
    await show(update, who.t.plural("tell.sent", sent))


async def on_cancel(update: Update, context: Context) -> None:
    who = await actor(update, context)
    await context.services.store.flows.end(who.id, FLOW)
    await query_of(update).answer()
    await show(update, who.t("tell.cancelled"))
