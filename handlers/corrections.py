"""Correcting an order before it ships: the owner or staff fix the recipient, the phone or the
address from the order's card; the buyer is told what changed, every copy of the card follows,
and each change is recorded with who and when (storage: Orders.correct, order_changes)."""

from __future__ import annotations

from telegram import Update

from core.contact import ContactError, check_address, check_recipient, display_phone, normalize_phone, phone_region
from core.i18n import N_
from handlers.checkout import CONTACT_PROBLEMS
from handlers.common import Actor, Context, actor, button, keyboard, message_text, reply
from handlers.guards import order_for_member
from handlers.notices import buyer_messages, reach_of
from handlers.order_card import card_edits
from storage.models import Flow
from storage.orders import CORRECTABLE

FLOW = "fixorder"
FIELD_LABELS = {"recipient": N_("desk.fix_button_recipient"), "phone": N_("desk.fix_button_phone"),
                "address": N_("desk.fix_button_address")}  # the buttons
FIELD_NAMES = {"recipient": N_("desk.field_recipient"), "phone": N_("desk.field_phone"),
               "address": N_("desk.field_address")}  # in a sentence


async def on_fix(update: Update, context: Context) -> None:
    """"✏️ Correct details" on the card: which detail?"""
    who = await actor(update, context)
    data = context.button
    found = await order_for_member(update, context, data.id(0) if data else None)
    if found is None:
        return
    order, _membership = found
    query = update.callback_query
    assert query is not None
    if order.status not in ("placed", "confirmed"):
        await query.answer(who.t.plain("desk.fix_too_late", number=order.number), show_alert=True)
        return
    await query.answer()
    await reply(update, who.t("desk.fix_which", number=order.number),
                keyboard([[button(who.t.plain(FIELD_LABELS[f]), "d.fixf", order.id, i)
                           for i, f in enumerate(CORRECTABLE)]]))


async def on_field(update: Update, context: Context) -> None:
    who = await actor(update, context)
    data = context.button
    index = data.opt_int(1, 0, len(CORRECTABLE) - 1) if data else None
    found = await order_for_member(update, context, data.id(0) if data else None)
    if found is None:
        return
    query = update.callback_query
    assert query is not None
    if index is None:
        await query.answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    order, membership = found
    field = CORRECTABLE[index]
    await query.answer()
    await context.services.store.flows.start(who.id, FLOW, field, {"order": order.id})
    now_value = display_phone(order.phone, phone_region(membership.shop.currency)) if field == "phone" \
        else getattr(order, field)
    await reply(update, who.t("desk.fix_ask", field=who.t.plain(FIELD_NAMES[field]), number=order.number,
                              value=now_value))


async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The new value: checked like the buyer's own, then applied and told."""
    store = context.services.store
    found = await order_for_member(update, context, flow.data.get("order"))
    if found is None:
        await store.flows.clear(who.id)
        return
    order, membership = found
    shop, field, text = membership.shop, flow.step, message_text(update)
    try:
        if field == "phone":
            value = normalize_phone(text, phone_region(shop.currency))
        elif field == "recipient":
            value = check_recipient(text)
        else:
            value = check_address(text)
    except ContactError as exc:
        await reply(update, who.t("checkout.try_again", problem=who.t.plain(CONTACT_PROBLEMS[exc.problem])))
        return
    await store.flows.clear(who.id)
    reach = await reach_of(context.services, shop, buyer_id=order.buyer_id, order_id=order.id)
    shown = (lambda v: display_phone(v, phone_region(shop.currency))) if field == "phone" else (lambda v: v)
    before = getattr(order, field)

    def messages(changed):
        return card_edits(reach, changed, shop) + buyer_messages(reach, lambda t: t(
            "desk.fix_buyer", shop=shop.name, number=changed.number, field=t.plain(FIELD_NAMES[field]),
            before=shown(before), after=shown(value)))

    changed = await store.orders.correct(order.id, field, value, who.id, messages=messages)
    if changed is None:
        await reply(update, who.t("desk.fix_unchanged", number=order.number))
        return
    await reply(update, who.t("desk.fix_done", number=order.number, field=who.t.plain(FIELD_NAMES[field]),
                              before=shown(before), after=shown(value)))
