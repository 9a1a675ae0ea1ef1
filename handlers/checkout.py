"""Checkout: from Buy now (or the cart) to a placed order with a receipt.

Buy now holds the units for a few minutes (the shop's setting; storage/holds.py), so whoever
cannot get one learns it at that first tap. A returning buyer then sees the confirmation at once
(saved address, [Change]) and taps Confirm: two taps, the card edited twice. A new buyer shares a
phone (the recipient's name comes from the shared contact, changeable on the confirmation) and
types or shares an address, all remembered for next time. The conversation is stored, so it
survives a restart; every checkout button carries its checkout's token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, Update
from telegram.error import TelegramError

from core import callbacks as taps
from core.contact import (
    ContactError, check_address, check_note, check_recipient, display_phone, normalize_phone, phone_region,
)
from core.i18n import N_, Safe, Translator
from core.payments import PREPAID, Method, PaymentStatus
from core.telegram_text import fit_lines
from core.regions import region_name
from core.shipping import Parcel, Quote
from core.claims import Policy
from handlers.audience import follow_button
from handlers.claim_policy import claim_promise
from handlers.delivery_region import (
    Shipping, confirmation_lines, picked_region, picker, order_regions, refusal_text, shipping_for,
)
from handlers.presale import ship_date_of, ship_text
from handlers.shipping import home_of
from handlers.common import (
    Actor, Context, Services, actor, button, edit_message, keyboard, message_text, query_of, reply, services, set_buttons,
    show, tapped_message,
)
from handlers.flows import REMOVE_KEYBOARD, flow_of_tap
from handlers.landing import (
    buyer_card_buttons, buyer_card_text, card_variants, shop_app_url, tapped_product, tapped_variant,
)
from handlers.notices import method_name, new_order_notices, reach_of, ship_date_lines, shipping_lines
from handlers.payments import available_methods, payment_messages
from storage import Store
from storage.models import Flow, Shop, User
from storage.outbox import Outgoing, Priority
from storage.orders import (
    Delivery, LimitReached, NotServed, Order, OrderProblem, ShopSuspended, SoldOut, TooManyOpenOrders, TooManyUnpaidUnits,
    Unavailable,
    line_name,
)

log = logging.getLogger(__name__)

FLOW = "checkout"


class CheckoutStep(StrEnum):
    """Where a checkout is (what it takes at each: handlers/registry.py)."""

    PHONE = "phone"  # a new buyer shares or types a phone
    RECIPIENT = "recipient"  # another recipient's name, from the confirmation
    ADDRESS = "address"  # typed, or a shared location then the typed address
    NOTE = "note"  # a note for the shop, from the confirmation
    REGION = "region"  # which region an ambiguous address is in (buttons)
    CONFIRM = "confirm"  # the confirmation: Confirm, payment method, change a detail


# The steps that show a reply keyboard (share phone, a name suggestion, share location).
KEYBOARD_STEPS = (CheckoutStep.PHONE, CheckoutStep.RECIPIENT, CheckoutStep.ADDRESS)
CONTACT_PROBLEMS = {
    "phone_invalid": N_("checkout.phone_invalid"),
    "name_empty": N_("checkout.name_empty"),
    "name_too_long": N_("checkout.name_too_long"),
    "address_short": N_("checkout.address_short"),
    "address_too_long": N_("checkout.address_too_long"),
    "note_empty": N_("checkout.note_empty"),
    "note_too_long": N_("checkout.note_too_long"),
    "name_invisible": N_("checkout.name_invisible"),
    "address_invisible": N_("checkout.address_invisible"),
    "note_invisible": N_("checkout.note_invisible"),
}


def new_token() -> str:
    """The checkout's idempotency key: the same token can only ever place one order."""
    return secrets.token_urlsafe(12)


ITEMS_BUDGET = 3000  # of a message's 4,096 characters; the rest is the address, note and totals


def items_text(t: Translator, lines: list[tuple[str, int, int]], currency: str) -> str:
    """`lines` are (name, unit price, quantity); a list too long for one message ends in a line
    saying how many more there are (core.telegram_text)."""
    return "\n".join(fit_lines([t("order.item_line", name=name, quantity=qty, subtotal=t.money(price * qty, currency))
                                for name, price, qty in lines], ITEMS_BUDGET,
                               lambda n: t("checkout.items_more", count=n)))


# ---------------------------------------------------------------- starting a checkout

# A checkout's items, as its stored conversation keeps them: [product, quantity, slot] for a
# product without variants (as before variants existed), [product, quantity, slot, variant] for one.

def checkout_item(product_id: int, quantity: int, slot: int | None, variant_id: int | None = None) -> list:
    return [product_id, quantity, slot] if variant_id is None else [product_id, quantity, slot, variant_id]


def item_variant(item: list) -> int | None:
    return item[3] if len(item) > 3 else None


def held_items(items: list[list]) -> list[tuple[int, int, int | None]]:
    """The items as storage holds and orders them: (product, quantity, variant)."""
    return [(item[0], item[1], item_variant(item)) for item in items]


def seen_key(product_id: int, variant_id: int | None) -> str:
    return str(product_id) if variant_id is None else f"{product_id}:{variant_id}"


async def on_buy_now(update: Update, context: Context) -> None:
    """Buy now on a product card: hold the units and check out just this product."""
    who = await actor(update, context)
    tapped = await tapped_product(update, context, who)
    if tapped is None:
        return
    product, quantity, slot = tapped
    ok, variant = await tapped_variant(update, context, who, product)
    if not ok:
        return
    variant_id = variant.id if variant is not None else None
    tap = context.button
    seen_price = tap.unit_price if isinstance(tap, taps.BuyNow) else None  # the price on the button tapped
    seen = {seen_key(product.id, variant_id): seen_price} if seen_price is not None else {}
    await begin(update, context, who, product.shop_id, [checkout_item(product.id, quantity, slot or None, variant_id)],
                from_cart=False, seen_prices=seen, card_slot=slot)


async def begin(update: Update, context: Context, who: Actor, shop_id: int, items: list[list], *, from_cart: bool,
                seen_prices: dict[str, int] | None = None, card_slot: int | None = None) -> None:
    """Hold the units and start the checkout: a returning buyer sees the confirmation at once
    (saved address, [Change]); a new buyer is asked for a phone. Sold out is said at this tap.
    `card_slot` is given when the tap came from a product card (Buy now), which is then edited."""
    store = services(context).store
    shop = await store.shops.require(shop_id)
    # The tap's own id keys the checkout: the same tap replayed after a crash finds its checkout
    # (or the order it became) instead of starting another.
    token = "q" + query_of(update).id if update.callback_query else new_token()
    if await store.orders.by_token(token) is not None:
        await query_of(update).answer()
        return  # this tap's checkout became an order already; its receipt is on screen
    held_until = time.time() + 60 * shop.hold_minutes
    data = {"shop": shop_id, "items": items, "from_cart": from_cart, "token": token, "seen": seen_prices or {},
            "held_until": held_until}
    user = who.user
    returning = user.has_delivery
    if returning:
        data.update(phone=user.phone, recipient=user.recipient, address=user.address)
        if user.region:  # picked from buttons for this address last time
            data["region"] = user.region
    flow = Flow(who.id, FLOW, CheckoutStep.CONFIRM if returning else CheckoutStep.PHONE, data)
    try:
        held = await store.holds.take(buyer_id=who.id, shop_id=shop_id, token=token,
                                      items=held_items(items), expires_at=held_until,
                                      flow=flow, allow_fewer=len(items) == 1,
                                      seen_prices={int(k): v for k, v in (seen_prices or {}).items() if k.isdigit()})
    except OrderProblem as problem:
        await refuse_at_first_tap(update, context, who, shop, problem, card_slot)
        return
    toast = None
    if any(h.quantity != h.wanted for h in held):  # fewer were left than the buyer asked for: say so
        got = {(h.product_id, h.variant_id): h.quantity for h in held}
        fewer = {seen_key(h.product_id, h.variant_id): h.wanted for h in held if h.quantity != h.wanted}
        shortened = [checkout_item(i[0], got[(i[0], item_variant(i))], i[2], item_variant(i)) for i in items]
        flow = Flow(who.id, FLOW, flow.step, {**data, "items": shortened, "fewer": fewer})
        await store.flows.save(flow)
        short = next(h for h in held if h.quantity != h.wanted)
        product = await store.products.get(short.product_id)
        toast = who.t.plain("checkout.fewer_held", name=product.name if product else "", held=short.quantity,
                            wanted=short.wanted)
    await query_of(update).answer(toast)
    if returning:
        await show_confirmation(update, context, who, flow, edit=True)
    else:  # the hold is said at once, as on a returning buyer's confirmation: it is why to hurry
        await ask_phone(update, who, who.t("checkout.held_until", time=who.t.time(held_until, shop.timezone)))


async def refuse_at_first_tap(update: Update, context: Context, who: Actor, shop: Shop, problem: OrderProblem,
                              card_slot: int | None) -> None:
    """Nothing could be held: say why at this first tap. A sold-out product's card is edited in
    place to its sold-out state (with "notify me"), one edit and no further steps."""
    query = query_of(update)
    if isinstance(problem, SoldOut) and problem.left == 0 and card_slot is not None:
        services(context).told("buyer.sold_out")
        product = await services(context).store.products.get(problem.product_id)
        if product is not None:
            await query.answer(who.t.plain("buyer.sold_out_toast", name=problem.name))
            store = services(context).store
            variants, chosen = await card_variants(context, product, slot=card_slot)  # another may be left
            price = await store.deals.price_now(product)
            await show(update, buyer_card_text(who.t, product, shop, variants, chosen, price,
                                               claims=await store.claims.policy(shop.id)),
                       buyer_card_buttons(who.t, product, shop, 1, card_slot, variants, chosen, price=price,
                                          following=await store.audience.is_following(who.id, shop.id),
                                          app=shop_app_url(services(context).config, shop, card_slot)))
            return
    if isinstance(problem, (LimitReached, Unavailable, ShopSuspended)):
        await query.answer(problem_text(who.t, problem, plain=True), show_alert=True)
        return
    await query.answer()
    count_sold_out(context, problem)
    await show(update, problem_text(who.t, problem),
               keyboard([[button(who.t.plain("buyer.button_catalog"), taps.ShopCatalog(shop.id, 0))]]))


async def ask_phone(update: Update, who: Actor, held: str | None = None) -> None:
    share = ReplyKeyboardMarkup([[KeyboardButton(who.t.plain("checkout.button_share_phone"), request_contact=True)]],
                                resize_keyboard=True, one_time_keyboard=True)
    await reply(update, who.t("checkout.ask_phone") + ("\n\n" + held if held else ""), share)


async def ask_address(update: Update, who: Actor) -> None:
    location = ReplyKeyboardMarkup([[KeyboardButton(who.t.plain("checkout.button_share_location"),
                                                    request_location=True)]],
                                   resize_keyboard=True, one_time_keyboard=True)
    await reply(update, who.t("checkout.ask_address"), location)


async def checkout_of_tap(update: Update, context: Context) -> Flow | None:
    """The checkout a button belongs to, at the steps handlers/registry.py declares for the
    button; its token must be this checkout's too, so a button of an earlier checkout never
    touches the current one. None when not (the tap is answered with what became of it)."""
    flow = await flow_of_tap(update, context)
    if flow is None:
        return None
    tap = context.button
    if isinstance(tap, taps.CHECKOUT_TAPS) and flow.data.get("token") != tap.token:
        await on_stale_tap(update, context)
        return None
    return flow


async def on_stale_tap(update: Update, context: Context) -> None:
    """A checkout's button when that checkout is over or at another step: what became of it."""
    who = await actor(update, context)
    tap = context.button
    token = tap.token if isinstance(tap, taps.CHECKOUT_TAPS) else None
    placed = await services(context).store.orders.by_token(token) if token else None
    query = query_of(update)
    if placed is not None and placed.buyer_id == who.id:
        if isinstance(tap, taps.Confirm):  # tapped twice: this message is its receipt already
            await query.answer(who.t.plain("checkout.already_placed", number=placed.number))
        else:
            await query.answer(who.t.plain("checkout.already_placed_see_orders", number=placed.number),
                               show_alert=True)
    elif isinstance(tap, taps.Confirm):  # a confirmation the buyer has since changed, or another's
        await query.answer(who.t.plain("common.stale_button"), show_alert=True)
    else:
        await query.answer(who.t.plain("checkout.no_longer_open"), show_alert=True)


async def on_use_saved(update: Update, context: Context) -> None:
    """"Use this address" on a message from before the two-tap checkout: the confirmation."""
    who = await actor(update, context)
    flow = await checkout_of_tap(update, context)
    if flow is None:
        return
    await query_of(update).answer()
    await show_confirmation(update, context, who, flow, edit=True)


async def on_change_details(update: Update, context: Context) -> None:
    """"Change address": ask for the address (it replaces the saved one once the order is placed);
    the units stay held meanwhile. The new summary comes below the answer, so the one tapped keeps
    only Cancel: a Confirm under an address that is no longer the one ordered would mislead."""
    who = await actor(update, context)
    flow = await checkout_of_tap(update, context)
    if flow is None:
        return
    await query_of(update).answer()
    data = {k: v for k, v in flow.data.items() if k != "summary"}  # several messages come between
    await services(context).store.flows.save(Flow(flow.user_id, FLOW, CheckoutStep.ADDRESS, data))
    if tapped_message(update) is not None:
        try:
            await set_buttons(update,
                keyboard([[button(who.t.plain("checkout.button_cancel"), taps.CancelCheckout(flow.data["token"]))]]))
        except TelegramError as exc:  # the prompt below still works without it
            log.info("could not take the buttons off an old summary: %s", exc)
    await ask_address(update, who)


def remember_summary(update: Update, data: dict) -> dict:
    """The summary a typed answer (a note, a recipient) belongs to: edited in place once it is
    typed, the prompt and the answer sitting just below it, instead of a second live copy."""
    message = query_of(update).message if update.callback_query else None
    if message is not None:
        return {**data, "summary": [message.message_id, bool(getattr(message, "photo", None))]}
    return data


async def _ask_on_confirmation(update: Update, context: Context, step: CheckoutStep) -> Actor | None:
    """A detail of the confirmation to give again (recipient, phone, note): the checkout moves to
    that step, remembering the summary the answer will edit in place; None when stale (answered)."""
    who = await actor(update, context)
    flow = await checkout_of_tap(update, context)
    if flow is None:
        return None
    await query_of(update).answer()
    await services(context).store.flows.save(Flow(flow.user_id, FLOW, step, remember_summary(update, flow.data)))
    return who


async def on_change_recipient(update: Update, context: Context) -> None:
    """The recipient's name on the confirmation: type another."""
    who = await _ask_on_confirmation(update, context, CheckoutStep.RECIPIENT)
    if who is not None:
        await reply(update, who.t("checkout.ask_recipient_typed"))


async def on_change_phone(update: Update, context: Context) -> None:
    """The phone on the confirmation: share or type another (a returning buyer whose number
    changed need not retype the address)."""
    who = await _ask_on_confirmation(update, context, CheckoutStep.PHONE)
    if who is not None:
        await ask_phone(update, who)


async def on_add_note(update: Update, context: Context) -> None:
    who = await _ask_on_confirmation(update, context, CheckoutStep.NOTE)
    if who is not None:
        await reply(update, who.t("checkout.ask_note"))


async def on_cancel_checkout(update: Update, context: Context) -> None:
    """Cancel: end this checkout and give its held units back."""
    who = await actor(update, context)
    flow = await checkout_of_tap(update, context)
    if flow is None:
        return
    await services(context).store.holds.release(who.id, flow.data.get("token"), end_conversation=True)
    await query_of(update).answer()
    if flow.step in KEYBOARD_STEPS:
        await reply(update, who.t("checkout.cancelled"), REMOVE_KEYBOARD)  # an edit cannot remove it
        return
    await show(update, who.t("checkout.cancelled"))


# ---------------------------------------------------------------- what the buyer types

async def on_phone(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The phone, shared (with the contact's name as the recipient) or typed."""
    contact = update.effective_message.contact if update.effective_message else None
    shop = await services(context).store.shops.require(flow.data["shop"])
    data = dict(flow.data)
    try:
        data["phone"] = normalize_phone(contact.phone_number if contact else message_text(update),
                                        phone_region(shop.currency), shared=contact is not None)
        if not data.get("recipient"):  # the name on the shared contact, else the buyer's own
            name = " ".join(filter(None, [contact.first_name, contact.last_name])) if contact else ""
            data["recipient"] = check_recipient(name or who.user.first_name or "-")
    except ContactError as exc:
        await _try_again(update, who, exc)
        return
    await _answered(update, context, who, flow, data, notice="checkout.phone_noted")  # the share-phone keyboard goes


async def on_recipient(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    await _typed_detail(update, context, who, flow, "recipient", check_recipient)


async def on_address(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The address typed; a shared location is kept with it (the courier's pin) and the typed
    address is still asked for."""
    message = update.effective_message
    data = {k: v for k, v in flow.data.items() if k != "region"}  # a new address: its region is read again
    if message is not None and message.location is not None:
        data["lat"], data["lon"] = message.location.latitude, message.location.longitude
        await services(context).store.flows.save(Flow(flow.user_id, FLOW, CheckoutStep.ADDRESS, data))
        await reply(update, who.t("checkout.location_noted"), REMOVE_KEYBOARD)
        return
    try:
        data["address"] = check_address(message_text(update))
    except ContactError as exc:
        await _try_again(update, who, exc)
        return
    await _answered(update, context, who, flow, data, notice="checkout.address_noted")  # the location keyboard goes


async def on_note(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    await _typed_detail(update, context, who, flow, "note", check_note)


async def _typed_detail(update: Update, context: Context, who: Actor, flow: Flow, field: str,
                        check: Callable[[str], str]) -> None:
    """A detail typed on the confirmation's request (the recipient, a note): checked, then on."""
    try:
        value = check(message_text(update))
    except ContactError as exc:
        await _try_again(update, who, exc)
        return
    await _answered(update, context, who, flow, {**flow.data, field: value})


async def _try_again(update: Update, who: Actor, exc: ContactError) -> None:
    await reply(update, who.t("checkout.try_again", problem=who.t.plain(CONTACT_PROBLEMS[exc.problem])))


async def _answered(update: Update, context: Context, who: Actor, flow: Flow, data: dict, *,
                    notice: str | None = None) -> None:
    """A detail given: on to the address if there is none yet, else the confirmation (below
    `notice`, which takes the step's reply keyboard away)."""
    next_step = CheckoutStep.CONFIRM if data.get("address") else CheckoutStep.ADDRESS
    flow = Flow(flow.user_id, FLOW, next_step, data)
    await services(context).store.flows.save(flow)
    if next_step == CheckoutStep.ADDRESS:
        await ask_address(update, who)
        return
    if notice is not None:
        await reply(update, who.t(notice), REMOVE_KEYBOARD)
    await show_confirmation(update, context, who, flow, edit=False)


# ---------------------------------------------------------------- confirmation and placing

@dataclass(frozen=True)
class Line:
    """A checkout item as it is now."""
    key: str  # its seen-price key
    name: str
    price: int
    quantity: int
    grams: int = 0  # a unit's weight, when its variant has one
    ships: tuple[str | None, str | None] = (None, None)  # its pre-sale date, if any
    item: tuple = ()  # the checkout item it came from

    @property
    def subtotal(self) -> int:
        return self.price * self.quantity


async def item_lines(store: Store, items: list[list]) -> list[Line]:
    """The checkout's items as they are now (those gone since are left out)."""
    lines = []
    for item in items:
        product_id, quantity, variant_id = item[0], item[1], item_variant(item)
        product = await store.products.get(product_id)
        if product is None:
            continue
        if variant_id is None:
            lines.append(Line(seen_key(product_id, None), product.name, product.price, quantity,
                               ships=ship_date_of(product), item=tuple(item)))
            continue
        variant = await store.variants.get(variant_id)
        if variant is not None:
            lines.append(Line(seen_key(product_id, variant_id), line_name(product.name, variant.name),
                               variant.price, quantity, variant.weight_grams or 0, ship_date_of(product, variant),
                               tuple(item)))
    return lines


def by_ship_date(lines: list[Line]) -> list[list[Line]]:
    """The lines as the orders they are placed as: one per ship date, in stock first."""
    groups: dict[tuple, list[Line]] = {}
    for line in sorted(lines, key=lambda line: (line.ships[0] or "", line.ships[1] or "")):
        groups.setdefault(line.ships, []).append(line)
    return list(groups.values())


async def methods_of(svc: Services, shop_id: int) -> list[Method]:
    """The payment methods a buyer can pick in this shop now."""
    settings = await svc.store.payments.settings(shop_id)
    return available_methods(svc, settings.methods, settings.code_file_id)


async def show_confirmation(update: Update, context: Context, who: Actor, flow: Flow, *, edit: bool) -> None:
    """The order as it will be placed, with the units held until a time it names."""
    store = services(context).store
    shop = await store.shops.require(flow.data["shop"])
    t = who.t
    # Units held during a flash deal keep its price until the hold expires (storage/deals.py).
    locked = {seen_key(h.product_id, h.variant_id): h.unit_price
              for h in await store.holds.of_token(flow.data["token"]) if h.unit_price is not None}
    current = [replace(line, price=locked.get(line.key, line.price))
               for line in await item_lines(store, flow.data["items"])]
    lines = [(line.name, line.price, line.quantity) for line in current]
    goods = sum(line.subtotal for line in current)
    d = flow.data
    token = d["token"]
    groups = by_ship_date(current)
    # Each order (one per ship date) is a parcel of its own; the region question is the same for all.
    shipped = [await shipping_for(store, who.id, shop, d, Parcel(sum(x.subtotal for x in g),
                                                                sum(x.quantity for x in g),
                                                                sum(x.grams * x.quantity for x in g)),
                                  ships_from=g[0].ships[0]) for g in groups]
    asking = next((x for x in shipped if x.choices or x.refused), None)
    if asking is not None:
        await _ask_region_or_refuse(update, context, who, flow, shop, asking, edit=edit)
        return
    shipping = shipped[0] if len(shipped) == 1 else replace(shipped[0], parcel_number=None,
                                                             quote=_summed(shipped))
    extra = [t("checkout.presale_line", name=line.name, ships=ship_text(t, *line.ships))
             for line in current if line.ships[0]]
    if len(groups) > 1:
        extra.append(t("checkout.split_orders", n=len(groups)))
    methods = await methods_of(services(context), shop.id)
    chosen: str = d["method"] if d.get("method") in methods else methods[0].value
    shown_items = items_text(t, lines, shop.currency)
    shown_items = "\n".join([shown_items, *confirmation_lines(t, shipping, shop.currency), *extra])
    text = t("checkout.confirm", items=Safe(shown_items), total=t.money(goods + shipping.fee, shop.currency),
             recipient=d["recipient"], phone=display_phone(d["phone"], phone_region(shop.currency)),
             address=d["address"],
             payment=method_name(t, chosen), shop=shop.name)
    seen = d.get("seen") or {}
    for line in current:
        was = seen.get(line.key)
        if was is not None and was != line.price:  # the price changed since the buyer tapped
            text += "\n" + t("checkout.price_changed", name=line.name, now=t.money(line.price, shop.currency),
                             was=t.money(was, shop.currency))
    fewer = d.get("fewer") or {}
    for line in current:
        wanted = fewer.get(line.key)
        if wanted is not None and wanted != line.quantity:  # the rest were held by others at Buy now
            text += "\n" + t("checkout.fewer_held", name=line.name, held=line.quantity, wanted=wanted)
    if d.get("note"):
        text += "\n" + t("checkout.confirm_note", note=d["note"])
    if d.get("held_until"):
        text += "\n\n" + t("checkout.held_until", time=t.time(d["held_until"], shop.timezone))
    rows = [[button(t.plain("checkout.button_confirm"), taps.Confirm(token))]]
    if len(methods) > 1:  # the buyer picks how to pay; the chosen one is ticked
        # A radio mark, not ✅: ✅ is the Confirm button's, and a tick looked like something to tap.
        rows.append([button(("🔘 " if m.value == chosen else "⚪ ") + method_name(t, m.value), taps.PickMethod(m.value, token))
                     for m in methods])
    # Two to a row: three labels in one row are cut short on a phone.
    rows.append([button(t.plain("checkout.button_change_address"), taps.ChangeAddress(token)),
                 button(t.plain("checkout.button_change_recipient"), taps.ChangeRecipient(token))])
    rows.append([button(t.plain("checkout.button_change_phone"), taps.ChangePhone(token)),
                 button(t.plain("checkout.button_note"), taps.AddNote(token))])
    rows.append([button(t.plain("checkout.button_cancel"), taps.CancelCheckout(token))])
    markup = keyboard(rows)
    summary = d.get("summary")
    if edit:
        await show(update, text, markup)
    elif summary:  # after a typed note: the summary it belongs to shows it, no second live copy
        await edit_message(update, summary[0], text, markup, captioned=summary[1])
    else:
        await reply(update, text, markup)


def _summed(shipped: list[Shipping]) -> Quote:
    """The shipping of several orders as one line: their fees added."""
    return Quote(True, sum(x.fee for x in shipped))


async def _ask_region_or_refuse(update: Update, context: Context, who: Actor, flow: Flow, shop: Shop,
                                shipping: Shipping, *, edit: bool) -> None:
    """Instead of the confirmation: which region the address is in (buttons), or that the shop
    does not ship there (Change address, Cancel). No Confirm until it is settled and served."""
    t = who.t
    token = flow.data["token"]
    if shipping.choices:
        data = {k: v for k, v in flow.data.items() if k != "summary"}
        data["region_choices"] = list(shipping.choices)
        await services(context).store.flows.save(Flow(flow.user_id, FLOW, CheckoutStep.REGION, data))
        text, markup = t("checkout.ask_region", address=flow.data.get("address") or ""), picker(t, shipping.choices,
                                                                                              token)
    else:
        text = refusal_text(t, shipping, shop)
        markup = keyboard([[button(t.plain("checkout.button_change_address"), taps.ChangeAddress(token)),
                            button(t.plain("checkout.button_cancel"), taps.CancelCheckout(token))]])
    if edit:
        await show(update, text, markup)
    else:
        await reply(update, text, markup)


async def on_pick_region(update: Update, context: Context) -> None:
    """A region button under "which region is this address in?": remembered with the address."""
    who = await actor(update, context)
    flow = await checkout_of_tap(update, context)
    if flow is None:
        return
    region = picked_region(update, context, flow.data)
    if region is None:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await query_of(update).answer()
    flow = Flow(flow.user_id, FLOW, CheckoutStep.CONFIRM, {**flow.data, "region": region})
    await services(context).store.flows.save(flow)
    await show_confirmation(update, context, who, flow, edit=True)


async def on_pick_method(update: Update, context: Context) -> None:
    """A payment method button on the confirmation: tick it."""
    who = await actor(update, context)
    method = context.tap(taps.PickMethod).method
    flow = await checkout_of_tap(update, context)
    if flow is None:
        return
    if method not in [m.value for m in await methods_of(services(context), flow.data["shop"])]:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await query_of(update).answer()
    flow = Flow(flow.user_id, FLOW, CheckoutStep.CONFIRM, {**flow.data, "method": method})
    await services(context).store.flows.save(flow)
    await show_confirmation(update, context, who, flow, edit=True)


async def on_confirm(update: Update, context: Context) -> None:
    """Confirm: place the order (once, however often this is tapped or delivered)."""
    who = await actor(update, context)
    flow = await checkout_of_tap(update, context)  # at the confirmation (handlers/registry.py)
    if flow is None:
        return
    svc = services(context)
    query = query_of(update)
    d = flow.data
    shop = await svc.store.shops.require(d["shop"])
    # The confirmation becomes the receipt (its caption, on a product photo); a new message when
    # Telegram no longer lets the confirmation be edited.
    message = query.message
    receipt = Receipt()
    if isinstance(message, Message):
        receipt = Receipt(edit=("editMessageCaption" if message.photo else "editMessageText", message.message_id))
    methods = await methods_of(svc, shop.id)
    method = Method(d["method"]) if d.get("method") in methods else methods[0]
    try:
        placed = await place_checkout(svc, who.user, who.t, shop, d, method, receipt,
                                      clear_cart=d.get("from_cart", False), end_conversation=True)
    except PlacingStopped as stopped:  # nothing (more) ordered: the checkout ended, its held units went back
        await query.answer()
        count_sold_out(context, stopped.problem)
        markup = keyboard([[button(who.t.plain("buyer.button_catalog"), taps.ShopCatalog(shop.id, 0))]])
        # After an order of this checkout was placed, its receipt takes the confirmation's place.
        await (reply if stopped.placed else show)(update, problem_text(who.t, stopped.problem), markup)
        return
    try:
        await query.answer(who.t.plain("checkout.placed_toast", number=" #".join(str(o.number) for o in placed)))
    except TelegramError as exc:  # the order stands and its receipt is in the outbox: say nothing else
        log.warning("order #%d placed, but its toast could not be shown: %s", placed[0].number, exc)


@dataclass(frozen=True)
class Receipt:
    """Where a placed order's receipt goes: over the confirmation (`edit`: the method and message
    to edit), as a new message, or nowhere (`send` False: a Mini App buyer the bot may not write
    to, whose page shows it)."""

    edit: tuple[str, int] | None = None
    send: bool = True
    # An answer to a tap in the chat paces only with its chat; a receipt for an order placed in the
    # Mini App goes to a chat that has not written lately, which Telegram counts against the bulk
    # budget (bench/miniapp_sale.py drew 429s sending it as an answer).
    priority: Priority = Priority.ANSWER


class PlacingStopped(Exception):
    """An order of a checkout could not be placed (`problem`); `placed` are those placed before."""

    def __init__(self, problem: OrderProblem, placed: list[Order]) -> None:
        super().__init__(problem)
        self.problem, self.placed = problem, placed


async def place_checkout(svc: Services, buyer: User, t: Translator, shop: Shop, d: dict, method: Method,
                         receipt: Receipt, *, clear_cart: bool, end_conversation: bool) -> list[Order]:
    """Place a checkout (`d`: its items, token, delivery, note, picked region) as one order per
    ship date, each with its receipt, payment messages and the owners' notices in the order's own
    transaction (storage/orders.py place). The chat's Confirm and the Mini App's Place order both
    come here. PlacingStopped when one cannot be placed: the checkout's held units go back."""
    store = svc.store
    token = d["token"]
    session = await store.live.current_session(shop.id)
    slot = next((item[2] for item in d["items"] if item[2]), None)
    payment_settings = await store.payments.settings(shop.id)
    deadline = time.time() + 60 * payment_settings.timeout_minutes if method in PREPAID else None
    reach = await reach_of(svc, shop)  # who hears of the order, gathered before it is placed
    rules = await store.shipping.of_shop(shop.id, home_of(shop))
    region, priced_as = order_regions(rules, d)
    claims = await store.claims.policy(shop.id)  # its promise is on the receipt
    # Following the shop: a button on every receipt; a buyer's first order offers it in words, once.
    following = await store.audience.is_following(buyer.id, shop.id)
    offer_follow = not following and not await store.audience.has_ordered_from(buyer.id, shop.id)

    def messages_for(first: bool):
        def messages(order: Order):
            notices = new_order_notices(reach, order, shop, buyer)
            if not receipt.send:
                return notices
            text = receipt_text(t, order, shop, claims)
            if offer_follow and first:
                text += "\n\n" + t("follow.offer", shop=shop.name)
            params = {"parse_mode": "HTML", "reply_markup": receipt_buttons(t, order, following=following)}
            if first and receipt.edit is not None:  # another order's receipt is a message of its own
                edit_method, params["message_id"] = receipt.edit
                params["caption" if edit_method == "editMessageCaption" else "text"] = text
                answer = Outgoing(buyer.id, edit_method, params)
            else:
                answer = Outgoing(buyer.id, "sendMessage", {**params, "text": text})
            answers = [answer, *payment_messages(svc.config, payment_settings, order, shop, t)]
            return [replace(m, priority=receipt.priority) for m in answers] + notices
        return messages

    # One order per ship date (a pre-sale ships when its harvest is in); a lone item needs no look.
    groups = [d["items"]] if len(d["items"]) == 1 else split_by_ship_date(d["items"], await item_lines(store, d["items"]))
    placed: list[Order] = []
    for i, group in enumerate(groups):
        last = i == len(groups) - 1
        try:
            order, _created = await store.orders.place(
                token=token if i == 0 else f"{token}.{i}", hold_token=token, release_rest=last,
                shop_id=shop.id, buyer_id=buyer.id, items=held_items(group),
                delivery=Delivery(d["phone"], d["recipient"], d["address"], d.get("lat"), d.get("lon")),
                note=d.get("note"), slot=slot, session_id=session.id if session else None,
                max_open_orders=svc.config.limits.open_orders_per_buyer_per_shop,
                payment_method=method.value, payment_deadline=deadline,
                messages=messages_for(i == 0), clear_cart=clear_cart, end_conversation=end_conversation and last,
                shipping=rules, region=region, priced_as=priced_as)
        except OrderProblem as problem:
            await store.holds.release(buyer.id, token, end_conversation=end_conversation)
            raise PlacingStopped(problem, placed) from None
        placed.append(order)
    return placed


def split_by_ship_date(items: list[list], lines: list[Line]) -> list[list[list]]:
    """The checkout's items as the orders they are placed as: one per ship date, in stock first
    (an item gone since stays in the first, whose placing then says so)."""
    ships = {line.item: line.ships for line in lines}
    groups: dict[tuple, list[list]] = {}
    for item in items:
        groups.setdefault(ships.get(tuple(item), (None, None)), []).append(item)
    return [groups[key] for key in sorted(groups, key=lambda key: (key[0] or "", key[1] or ""))]


def count_sold_out(context: Context, problem: OrderProblem) -> None:
    """For the metrics: a buyer told at checkout that what they wanted is sold out."""
    if isinstance(problem, SoldOut) and problem.left == 0:
        services(context).told("checkout.sold_out")


def problem_text(t: Translator, problem: OrderProblem, *, plain: bool = False) -> str:
    """Why an order cannot be placed, in the buyer's language (`plain`: for an alert, no HTML)."""
    say = t.plain if plain else t
    if isinstance(problem, ShopSuspended):
        return say("checkout.shop_paused")
    if isinstance(problem, SoldOut):
        if problem.left == 0:
            return say("checkout.sold_out", name=problem.name)
        return say("checkout.only_left", name=problem.name, left=problem.left)
    if isinstance(problem, LimitReached):
        return say("checkout.limit", name=problem.name, limit=problem.limit, already=problem.already)
    if isinstance(problem, TooManyOpenOrders):
        return say("checkout.too_many_open", limit=problem.limit)
    if isinstance(problem, TooManyUnpaidUnits):
        return say("checkout.too_many_cod_units", limit=problem.limit, held=problem.already)
    if isinstance(problem, NotServed):
        where = region_name(problem.region, t.language) if problem.region else t.plain("shipping.there")
        return say("shipping.not_served_now", region=where)
    assert isinstance(problem, Unavailable)
    return say("checkout.unavailable", name=problem.name)


def receipt_text(t: Translator, order: Order, shop: Shop, claims: Policy | None = None) -> str:
    lines = [(i.name, i.unit_price, i.quantity) for i in order.items]
    items = "\n".join([items_text(t, lines, order.currency), *shipping_lines(t, order), *ship_date_lines(t, order)])
    text = t("checkout.receipt", number=order.number, shop=shop.name,
             items=Safe(items), total=t.money(order.total, order.currency),
             recipient=order.recipient, phone=display_phone(order.phone, phone_region(shop.currency)),
             address=order.address,
             payment=method_name(t, order.payment_method))
    if order.note:
        text += "\n" + t("checkout.confirm_note", note=order.note)
    if claims is not None and claims.enabled:
        text += "\n" + claim_promise(t, claims)
    if order.payment_status == PaymentStatus.AWAITING:
        return text + "\n\n" + t("checkout.next_steps_prepaid", minutes=round(((order.payment_deadline or order.created_at) - order.created_at) / 60))
    return text + "\n\n" + t("checkout.next_steps", shop=shop.name)


def receipt_buttons(t: Translator, order: Order, *, following: bool = False):
    return keyboard([[button(t.plain("chat.button_ask", number=order.number), taps.AskShop(order.id))],
                     [button(t.plain("checkout.button_my_orders"), taps.MyOrders()),
                      follow_button(t, order.shop_id, following)]])


# Leaving a checkout for another link or command ends it and returns its held units: say that.
