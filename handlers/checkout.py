"""Checkout: from Buy now (or the cart) to a placed order with a receipt.

A returning buyer goes card -> "Ship to ... [Use this]" -> confirmation -> receipt, each an edit
of the same message. A new buyer shares a phone (or types it), the recipient's name and an
address, all remembered for next time. The conversation is stored, so it survives a restart.
"""

from __future__ import annotations

import secrets
import time

from telegram import KeyboardButton, ReplyKeyboardMarkup, Update

from core.contact import (
    ContactError, check_address, check_note, check_recipient, display_phone, normalize_phone, phone_region,
)
from core.i18n import N_, Safe, Translator
from core.payments import PREPAID, Method, PaymentStatus
from handlers.common import (
    Actor, Context, actor, button, keyboard, message_text, parse_callback, reply, services, show,
)
from handlers.flows import REMOVE_KEYBOARD, register_flow
from handlers.landing import max_quantity, tapped_product
from handlers.notices import method_name, new_order_messages
from handlers.payments import available_methods, payment_messages
from storage.models import Flow, Shop
from storage.outbox import Outgoing
from storage.orders import Delivery, LimitReached, Order, OrderProblem, SoldOut, TooManyOpenOrders, Unavailable

FLOW = "checkout"
# The steps that show a reply keyboard (share phone, a name suggestion, share location).
KEYBOARD_STEPS = ("phone", "recipient", "address")
CONTACT_PROBLEMS = {
    "phone_invalid": N_("checkout.phone_invalid"),
    "name_empty": N_("checkout.name_empty"),
    "name_too_long": N_("checkout.name_too_long"),
    "address_short": N_("checkout.address_short"),
    "address_too_long": N_("checkout.address_too_long"),
    "note_empty": N_("checkout.note_empty"),
    "note_too_long": N_("checkout.note_too_long"),
}


def new_token() -> str:
    """The checkout's idempotency key: the same token can only ever place one order."""
    return secrets.token_urlsafe(12)


def items_text(t: Translator, lines: list[tuple[str, int, int]], currency: str) -> str:
    """`lines` are (name, unit price, quantity)."""
    return "\n".join(t("order.item_line", name=name, quantity=qty, subtotal=t.money(price * qty, currency))
                     for name, price, qty in lines)


# ---------------------------------------------------------------- starting a checkout

async def on_buy_now(update: Update, context: Context) -> None:
    """Buy now on a product card: check out just this product."""
    who = await actor(update, context)
    tapped = await tapped_product(update, context, who)
    if tapped is None:
        return
    product, quantity, slot = tapped
    bound = await max_quantity(context, who, product)
    if bound < 1:
        key = "buyer.sold_out" if product.stock < 1 else "buyer.limit_reached"
        await update.callback_query.answer(who.t.plain(key, left=0, limit=product.per_buyer_limit or 0), show_alert=True)
        return
    quantity = min(quantity, bound)
    await begin(update, context, who, product.shop_id, [[product.id, quantity, slot or None]], from_cart=False)


async def begin(update: Update, context: Context, who: Actor, shop_id: int, items: list[list], *, from_cart: bool) -> None:
    """Start the checkout conversation: offer the saved address, or ask for the details."""
    store = services(context).store
    data = {"shop": shop_id, "items": items, "from_cart": from_cart, "token": new_token()}
    user = who.user
    if user.has_delivery:
        data.update(phone=user.phone, recipient=user.recipient, address=user.address)
        await store.flows.start(who.id, FLOW, "saved", data)
        await update.callback_query.answer()
        shop = await store.shops.get(shop_id)
        text = who.t("checkout.ship_to_saved", recipient=user.recipient, address=user.address,
                     phone=display_phone(user.phone, phone_region(shop.currency)))
        markup = keyboard([[button(who.t.plain("checkout.button_use_saved"), "b.use"),
                            button(who.t.plain("checkout.button_change"), "b.chg")],
                           [button(who.t.plain("checkout.button_cancel"), "b.x")]])
        await show(update, text, markup)
        return
    await store.flows.start(who.id, FLOW, "phone", data)
    await update.callback_query.answer()
    await ask_phone(update, who)


async def ask_phone(update: Update, who: Actor) -> None:
    share = ReplyKeyboardMarkup([[KeyboardButton(who.t.plain("checkout.button_share_phone"), request_contact=True)]],
                                resize_keyboard=True, one_time_keyboard=True)
    await reply(update, who.t("checkout.ask_phone"), share)


async def on_use_saved(update: Update, context: Context) -> None:
    """"Use this address": straight to the confirmation."""
    who = await actor(update, context)
    flow = await services(context).store.flows.get(who.id)
    # "confirm" too: the same tap replayed after a crash shows the confirmation again.
    if flow is None or flow.name != FLOW or flow.step not in ("saved", "confirm"):
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    await update.callback_query.answer()
    flow = Flow(flow.user_id, FLOW, "confirm", flow.data)
    await services(context).store.flows.save(flow)
    await show_confirmation(update, context, who, flow, edit=True)


async def on_change_details(update: Update, context: Context) -> None:
    """"Change": ask for the details again (they replace the saved ones once the order is placed)."""
    who = await actor(update, context)
    store = services(context).store
    flow = await store.flows.get(who.id)
    if flow is None or flow.name != FLOW:
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    await update.callback_query.answer()
    await store.flows.save(Flow(flow.user_id, FLOW, "phone", flow.data))
    await ask_phone(update, who)


async def on_add_note(update: Update, context: Context) -> None:
    who = await actor(update, context)
    store = services(context).store
    flow = await store.flows.get(who.id)
    if flow is None or flow.name != FLOW or flow.step != "confirm":
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    await update.callback_query.answer()
    await store.flows.save(Flow(flow.user_id, FLOW, "note", flow.data))
    await reply(update, who.t("checkout.ask_note"))


async def on_cancel_checkout(update: Update, context: Context) -> None:
    who = await actor(update, context)
    store = services(context).store
    flow = await store.flows.get(who.id)
    if flow is not None and flow.name == FLOW:
        await store.flows.clear(who.id)
    await update.callback_query.answer()
    if flow is not None and flow.name == FLOW and flow.step in KEYBOARD_STEPS:
        await reply(update, who.t("checkout.cancelled"), REMOVE_KEYBOARD)  # an edit cannot remove it
        return
    await show(update, who.t("checkout.cancelled"))


# ---------------------------------------------------------------- what the buyer types

async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Phone, recipient, address or note, depending on the step."""
    store = services(context).store
    message = update.effective_message
    data = dict(flow.data)
    try:
        if flow.step == "phone":
            contact = message.contact if message else None
            shop = await store.shops.get(data["shop"])
            data["phone"] = normalize_phone(contact.phone_number if contact else message_text(update),
                                            phone_region(shop.currency), shared=contact is not None)
            next_step = "recipient"
        elif flow.step == "recipient":
            data["recipient"] = check_recipient(message_text(update))
            next_step = "address"
        elif flow.step == "address":
            if message is not None and message.location is not None:
                data["lat"], data["lon"] = message.location.latitude, message.location.longitude
                await store.flows.save(Flow(flow.user_id, FLOW, "address", data))
                await reply(update, who.t("checkout.location_noted"), REMOVE_KEYBOARD)
                return
            data["address"] = check_address(message_text(update))
            next_step = "confirm"
        elif flow.step == "note":
            data["note"] = check_note(message_text(update))
            next_step = "confirm"
        else:  # waiting for a button: the typed text is not an answer
            await reply(update, who.t("checkout.use_buttons"))
            return
    except ContactError as exc:
        await reply(update, who.t("checkout.try_again", problem=who.t.plain(CONTACT_PROBLEMS[exc.problem])))
        return
    answered = flow.step
    flow = Flow(flow.user_id, FLOW, next_step, data)
    await store.flows.save(flow)
    if next_step == "recipient":
        suggestion = ReplyKeyboardMarkup([[KeyboardButton(who.user.first_name or "-")]], resize_keyboard=True,
                                         one_time_keyboard=True)
        await reply(update, who.t("checkout.ask_recipient"), suggestion)
    elif next_step == "address":
        location = ReplyKeyboardMarkup([[KeyboardButton(who.t.plain("checkout.button_share_location"),
                                                        request_location=True)]],
                                       resize_keyboard=True, one_time_keyboard=True)
        await reply(update, who.t("checkout.ask_address"), location)
    else:
        if answered == "address":  # the location keyboard ends with its step
            await reply(update, who.t("checkout.address_noted"), REMOVE_KEYBOARD)
        await show_confirmation(update, context, who, flow, edit=False)


# ---------------------------------------------------------------- confirmation and placing

async def _lines(context: Context, items: list[list]) -> list[tuple[str, int, int]]:
    store = services(context).store
    lines = []
    for product_id, quantity, _slot in items:
        product = await store.products.get(product_id)
        if product is not None:
            lines.append((product.name, product.price, quantity))
    return lines


async def _methods(context: Context, shop_id: int) -> list[Method]:
    svc = services(context)
    settings = await svc.store.payments.settings(shop_id)
    return available_methods(svc, settings.methods, settings.code_file_id)


async def show_confirmation(update: Update, context: Context, who: Actor, flow: Flow, *, edit: bool) -> None:
    store = services(context).store
    shop = await store.shops.get(flow.data["shop"])
    t = who.t
    lines = await _lines(context, flow.data["items"])
    total = sum(price * qty for _, price, qty in lines)
    d = flow.data
    methods = await _methods(context, shop.id)
    chosen = d.get("method") if d.get("method") in methods else methods[0].value
    text = t("checkout.confirm", items=Safe(items_text(t, lines, shop.currency)), total=t.money(total, shop.currency),
             recipient=d["recipient"], phone=display_phone(d["phone"], phone_region(shop.currency)),
             address=d["address"],
             payment=method_name(t, chosen), shop=shop.name)
    if d.get("note"):
        text += "\n" + t("checkout.confirm_note", note=d["note"])
    rows = [[button(t.plain("checkout.button_confirm"), "b.ok", d["token"])]]
    if len(methods) > 1:  # the buyer picks how to pay; the chosen one is ticked
        rows.append([button(("✅ " if m.value == chosen else "") + method_name(t, m.value), "b.m", m.value)
                     for m in methods])
    rows.append([button(t.plain("checkout.button_note"), "b.note"), button(t.plain("checkout.button_cancel"), "b.x")])
    markup = keyboard(rows)
    if edit:
        await show(update, text, markup)
    else:
        await reply(update, text, markup)


async def on_pick_method(update: Update, context: Context) -> None:
    """A payment method button on the confirmation: tick it."""
    who = await actor(update, context)
    data = parse_callback(update)
    store = services(context).store
    flow = await store.flows.get(who.id)
    if flow is None or flow.name != FLOW or flow.step != "confirm" or not data or not data.args:
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    if data.args[0] not in [m.value for m in await _methods(context, flow.data["shop"])]:
        await update.callback_query.answer(who.t.plain("common.stale_button"))
        return
    await update.callback_query.answer()
    flow = Flow(flow.user_id, FLOW, "confirm", {**flow.data, "method": data.args[0]})
    await store.flows.save(flow)
    await show_confirmation(update, context, who, flow, edit=True)


async def on_confirm(update: Update, context: Context) -> None:
    """Confirm: place the order (once, however often this is tapped or delivered)."""
    who = await actor(update, context)
    data = parse_callback(update)
    token = data.args[0] if data and data.args else None
    svc = services(context)
    store = svc.store
    flow = await store.flows.get(who.id)
    query = update.callback_query
    if flow is None or flow.name != FLOW or flow.data.get("token") != token or flow.step != "confirm":
        placed = await store.orders.by_token(token) if token else None
        if placed is not None and placed.buyer_id == who.id:
            await query.answer(who.t.plain("checkout.already_placed", number=placed.number))
        else:
            await query.answer(who.t.plain("common.stale_button"), show_alert=True)
        return
    d = flow.data
    shop = await store.shops.get(d["shop"])
    session = await store.live.current_session(shop.id)
    slot = next((s for _, _, s in d["items"] if s), None)
    message = query.message
    receipt_method = "editMessageCaption" if message is not None and message.photo else "editMessageText"
    methods = await _methods(context, shop.id)
    method = Method(d["method"]) if d.get("method") in methods else methods[0]
    deadline = None
    if method in PREPAID:
        deadline = time.time() + 60 * (await store.payments.settings(shop.id)).timeout_minutes

    async def messages(order: Order):
        receipt = receipt_text(who.t, order, shop)
        params = {"message_id": message.message_id, "parse_mode": "HTML",
                  "reply_markup": receipt_buttons(who.t, order)}
        params["caption" if receipt_method == "editMessageCaption" else "text"] = receipt
        return [Outgoing(who.id, receipt_method, params), *await payment_messages(svc, order, shop, who.t),
                *await new_order_messages(context, order, shop, who.user)]

    try:
        order, _created = await store.orders.place(
            token=token, shop_id=shop.id, buyer_id=who.id, items=[(p, q) for p, q, _ in d["items"]],
            delivery=Delivery(d["phone"], d["recipient"], d["address"], d.get("lat"), d.get("lon")),
            note=d.get("note"), slot=slot, session_id=session.id if session else None,
            max_open_orders=svc.config.limits.open_orders_per_buyer_per_shop,
            payment_method=method.value, payment_deadline=deadline,
            messages=messages, clear_cart=d.get("from_cart", False), end_conversation=True)
    except OrderProblem as problem:
        await store.flows.clear(who.id)
        await query.answer()
        await show(update, problem_text(who.t, problem), keyboard([[button(who.t.plain("buyer.button_catalog"),
                                                                           "b.shop", shop.id, 0)]]))
        return
    await query.answer(who.t.plain("checkout.placed_toast", number=order.number))


def problem_text(t: Translator, problem: OrderProblem) -> str:
    if isinstance(problem, SoldOut):
        if problem.left == 0:
            return t("checkout.sold_out", name=problem.name)
        return t("checkout.only_left", name=problem.name, left=problem.left)
    if isinstance(problem, LimitReached):
        return t("checkout.limit", name=problem.name, limit=problem.limit, already=problem.already)
    if isinstance(problem, TooManyOpenOrders):
        return t("checkout.too_many_open", limit=problem.limit)
    assert isinstance(problem, Unavailable)
    return t("checkout.unavailable", name=problem.name)


def receipt_text(t: Translator, order: Order, shop: Shop) -> str:
    lines = [(i.name, i.unit_price, i.quantity) for i in order.items]
    text = t("checkout.receipt", number=order.number, shop=shop.name,
             items=Safe(items_text(t, lines, order.currency)), total=t.money(order.total, order.currency),
             recipient=order.recipient, phone=display_phone(order.phone, phone_region(shop.currency)),
             address=order.address,
             payment=method_name(t, order.payment_method))
    if order.note:
        text += "\n" + t("checkout.confirm_note", note=order.note)
    if order.payment_status == PaymentStatus.AWAITING:
        return text + "\n\n" + t("checkout.next_steps_prepaid", minutes=round((order.payment_deadline - order.created_at) / 60))
    return text + "\n\n" + t("checkout.next_steps", shop=shop.name)


def receipt_buttons(t: Translator, order: Order):
    return keyboard([[button(t.plain("checkout.button_my_orders"), "o.mine")]])


register_flow(FLOW, on_input)
