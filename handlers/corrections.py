"""Correcting an order before it ships: the owner or staff fix the recipient, the phone or the
address from the order's card; the buyer is told what changed, every copy of the card follows,
and each change is recorded with who and when (storage: Orders.correct, order_changes)."""

from __future__ import annotations

from enum import StrEnum
from telegram import Update

from core import callbacks as taps
from core.contact import ContactError, check_address, check_recipient, display_phone, normalize_phone, phone_region
from core.i18n import N_
from handlers.checkout import CONTACT_PROBLEMS
from handlers.common import Actor, Context, actor, button, keyboard, message_text, query_of, reply, show
from handlers.guards import order_for_member
from handlers.my_orders import own_order_of_tap
from handlers.notices import buyer_messages, members_messages, reach_of
from handlers.order_card import card_edits
from storage.models import Flow
from storage.orders import CORRECTABLE

FLOW = "fixorder"


class FixField(StrEnum):
    """The detail being corrected (by the shop in FLOW, asked for by the buyer in BUYER_FLOW):
    storage.orders.CORRECTABLE's fields."""

    RECIPIENT = "recipient"
    PHONE = "phone"
    ADDRESS = "address"

FIELD_LABELS = {"recipient": N_("desk.fix_button_recipient"), "phone": N_("desk.fix_button_phone"),
                "address": N_("desk.fix_button_address")}  # the buttons
FIELD_NAMES = {"recipient": N_("desk.field_recipient"), "phone": N_("desk.field_phone"),
               "address": N_("desk.field_address")}  # in a sentence


async def on_fix(update: Update, context: Context) -> None:
    """"✏️ Correct details" on the card: which detail?"""
    who = await actor(update, context)
    found = await order_for_member(update, context, context.tap(taps.ShopFix).order)
    if found is None:
        return
    order, _membership = found
    query = query_of(update)
    if order.status not in ("placed", "confirmed"):
        await query.answer(who.t.plain("desk.fix_too_late", number=order.number), show_alert=True)
        return
    await query.answer()
    await reply(update, who.t("desk.fix_which", number=order.number),
                keyboard([[button(who.t.plain(FIELD_LABELS[f]), taps.ShopFixField(order.id, i))
                           for i, f in enumerate(CORRECTABLE)]]))


async def on_field(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.ShopFixField)
    index = tap.field
    found = await order_for_member(update, context, tap.order)
    if found is None:
        return
    query = query_of(update)
    if index >= len(CORRECTABLE):
        await query.answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    order, membership = found
    field = CORRECTABLE[index]
    await query.answer()
    await context.services.store.flows.start(who.id, FLOW, field, {"order": order.id})
    now_value = _shown(field, membership.shop.currency)(getattr(order, field))
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
    shop, field = membership.shop, flow.step
    try:
        value = _checked(field, message_text(update), shop.currency)
    except ContactError as exc:
        await reply(update, who.t("checkout.try_again", problem=who.t.plain(CONTACT_PROBLEMS[exc.problem])))
        return
    await store.flows.clear(who.id)
    reach = await reach_of(context.services, shop, buyer_id=order.buyer_id, order_id=order.id)
    shown = _shown(field, shop.currency)
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


# ---------------------------------------------------------------- the buyer asks, the shop decides

BUYER_FLOW = "askfix"


async def on_buyer_fix(update: Update, context: Context) -> None:
    """"✏️ Fix #1001" in /myorders: which detail?"""
    who = await actor(update, context)
    query = query_of(update)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    if order.status not in ("placed", "confirmed"):
        await query.answer(who.t.plain("desk.fix_too_late", number=order.number), show_alert=True)
        return
    await query.answer()
    await reply(update, who.t("myorders.fix_which", number=order.number),
                keyboard([[button(who.t.plain(FIELD_LABELS[f]), taps.BuyerFixField(order.id, i))
                           for i, f in enumerate(CORRECTABLE)]]))


async def on_buyer_field(update: Update, context: Context) -> None:
    who = await actor(update, context)
    query = query_of(update)
    tap = context.tap(taps.BuyerFixField)
    order = await context.services.store.orders.get(tap.order)
    index = tap.field
    if order is None or order.buyer_id != who.id or index >= len(CORRECTABLE):
        await query.answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    field = CORRECTABLE[index]
    await query.answer()
    await context.services.store.flows.start(who.id, BUYER_FLOW, field, {"order": order.id})
    await reply(update, who.t("myorders.fix_ask", field=who.t.plain(FIELD_NAMES[field]), number=order.number))


async def on_buyer_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The corrected value: checked, then the shop is asked to apply it."""
    store = context.services.store
    order = await store.orders.get(int(flow.data.get("order") or 0))
    if order is None or order.buyer_id != who.id:
        await store.flows.clear(who.id)
        return
    shop = await store.shops.require(order.shop_id)
    assert shop is not None
    field = flow.step
    try:
        value = _checked(field, message_text(update), shop.currency)
    except ContactError as exc:
        await reply(update, who.t("checkout.try_again", problem=who.t.plain(CONTACT_PROBLEMS[exc.problem])))
        return
    await store.flows.clear(who.id)
    reach = await reach_of(context.services, shop)
    shown = _shown(field, shop.currency)
    before = getattr(order, field)

    def messages(request):
        return members_messages(reach, lambda t: {
            "text": t("desk.fix_requested", number=order.number, field=t.plain(FIELD_NAMES[field]),
                      before=shown(before), after=shown(request.value)),
            "parse_mode": "HTML",
            "reply_markup": keyboard([[button(t.plain("desk.button_apply_fix"), taps.ApplyFix(request.id)),
                                       button(t.plain("desk.button_decline_fix"), taps.DeclineFix(request.id))]])})

    request = await store.orders.request_correction(order.id, field, value, messages=messages)
    if request is None:
        await reply(update, who.t("desk.fix_too_late", number=order.number))
        return
    await reply(update, who.t("myorders.fix_sent", number=order.number, shop=shop.name))


async def on_apply(update: Update, context: Context) -> None:
    await _decide(update, context, apply=True)


async def on_decline(update: Update, context: Context) -> None:
    await _decide(update, context, apply=False)


async def _decide(update: Update, context: Context, *, apply: bool) -> None:
    who = await actor(update, context)
    query = query_of(update)
    store = context.services.store
    request = await store.orders.correction_request(context.tap(taps.OnFixRequest).request)
    found = await order_for_member(update, context, request.order_id if request else None)
    if request is None or found is None:
        return
    order, membership = found
    shop = membership.shop
    reach = await reach_of(context.services, shop, buyer_id=order.buyer_id, order_id=order.id)
    shown = _shown(request.field, shop.currency)
    before = getattr(order, request.field)

    def messages(changed):
        key = "myorders.fix_applied" if apply else "myorders.fix_declined"
        told = buyer_messages(reach, lambda t: t(key, shop=shop.name, number=changed.number,
                                                 field=t.plain(FIELD_NAMES[request.field]),
                                                 before=shown(before), after=shown(request.value)))
        return (card_edits(reach, changed, shop) if apply else []) + told

    changed = await store.orders.decide_correction(request.id, apply, who.id, messages=messages)
    if changed is None:
        await query.answer(who.t.plain("desk.fix_request_done"), show_alert=True)
        return
    await query.answer()
    await show(update, who.t("desk.fix_request_applied" if apply else "desk.fix_request_declined",
                             number=order.number, field=who.t.plain(FIELD_NAMES[request.field]),
                             after=shown(request.value)))


def _checked(field: str, text: str | None, currency: str) -> str:
    """The value as the buyer's own checkout would take it (ContactError otherwise)."""
    if field == "phone":
        return normalize_phone(text or "", phone_region(currency))
    if field == "recipient":
        return check_recipient(text or "")
    return check_address(text or "")


def _shown(field: str, currency: str):
    """How a value reads in a message: a phone as people there write it."""
    if field == "phone":
        return lambda value: display_phone(value, phone_region(currency))
    return lambda value: value
