"""Pre-sale (预售): sell a harvest before it is picked, shipping from a date or within a range.

From the product view (or one variant's view) the owner puts it on pre-sale with a date, moves
the date (every buyer of it is told, in their language, with Keep my order / Cancel it), closes
the pre-sale early (no more orders; those placed keep their date) or sells it as in stock again.
The product's stock is the pre-sale stock (the expected harvest).
"""

from __future__ import annotations

from enum import StrEnum
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update

from core import callbacks as taps
from core.i18n import N_, Translator, translator
from core.presale import ShipDate, ShipDateError, format_ship_date, parse_ship_date
from core.text import shorten
from handlers.common import (
    Actor, Context, actor, button, keyboard, message_text, query_of, reply, services, set_buttons, translator_for,
)
from handlers.guards import product_for, product_of_flow, refuse
from storage.models import Flow, Shop
from storage.outbox import Outgoing
from storage.presale import MovedOrder
from storage.products import Product
from storage.variants import Variant

FLOW = "presale"


class PresaleStep(StrEnum):
    DATE = "date"  # when it ships: a date or a range, as typed

PROBLEMS = {"unreadable": N_("presale.date_unreadable"), "past": N_("presale.date_past"),
            "too_far": N_("presale.date_too_far"), "backwards": N_("presale.date_backwards")}
INPUT_MAX = 60


def ship_text(t: Translator, ships_from: str | None, ships_until: str | None = None) -> str | None:
    """"ships from Dec 20" or "ships Dec 20 – Dec 27" in the reader's language; None when not on
    pre-sale."""
    ship = ShipDate.from_iso(ships_from, ships_until)
    if ship is None:
        return None
    return t.plain("presale.ships_from" if ship.end is None else "presale.ships_between",
                   date=format_ship_date(ship, t.locale))


def ship_days(t: Translator, ships_from: str | None, ships_until: str | None = None) -> str:
    """The date alone ("Dec 20", "Dec 20 – Dec 27"); empty when not on pre-sale."""
    ship = ShipDate.from_iso(ships_from, ships_until)
    return format_ship_date(ship, t.locale) if ship is not None else ""


def ship_date_of(product: Product, variant: Variant | None = None) -> tuple[str | None, str | None]:
    """The ship date that applies: the variant's own, else the product's."""
    if variant is not None and variant.ships_from:
        return variant.ships_from, variant.ships_until
    return product.ships_from, product.ships_until


def card_line(t: Translator, product: Product, variant: Variant | None = None) -> str | None:
    """The pre-sale line of a product card (buyer's or merchant's), or None."""
    if product.presale_closed:
        return t("presale.card_closed")
    when = ship_text(t, *ship_date_of(product, variant))
    return t("presale.card_line", ships=when) if when else None


def presale_buttons(t: Translator, product: Product, variant: Variant | None = None) -> list[list]:
    """The owner's pre-sale rows on a product's (or a variant's) view: two buttons a row, so
    their labels fit a phone."""
    p, v = product.id, variant.id if variant is not None else 0
    on = variant.ships_from if variant is not None else product.ships_from
    if not on:
        return [[button(t.plain("presale.button_start"), taps.SetPresale(p, v))]]
    rows = [[button(t.plain("presale.button_move"), taps.SetPresale(p, v)),
             button(t.plain("presale.button_in_stock"), taps.PresaleInStock(p, v))]]
    if variant is None and not product.presale_closed:
        rows.append([button(t.plain("presale.button_close"), taps.ClosePresale(p))])
    return rows


async def _tapped(update: Update, context: Context) -> tuple[Product, Variant | None, Shop] | None:
    """The product (and variant) a pre-sale button names, if the user owns its shop."""
    tap = context.tap(taps.OnPresale)
    found = await product_for(update, context, tap.product, manage=True)
    if found is None:
        return None
    product, membership = found
    variant_id = tap.variant
    variant = None
    if variant_id:
        variant = await services(context).store.variants.get(variant_id)
        if variant is None or variant.product_id != product.id or variant.deleted:
            await refuse(update, await actor(update, context), N_("variant.gone"))
            return None
    return product, variant, membership.shop


async def on_set(update: Update, context: Context) -> None:
    """🌱 Pre-sale / 📅 Move ship date: ask for the date."""
    who = await actor(update, context)
    tapped = await _tapped(update, context)
    if tapped is None:
        return
    product, variant, shop = tapped
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, FLOW, PresaleStep.DATE, {"product": product.id,
                                                                      "variant": variant.id if variant else None})
    now = datetime.now(ZoneInfo(shop.timezone)).date()
    await reply(update, who.t("presale.ask_date", example=now.replace(day=min(now.day, 28)).isoformat()))


async def on_input(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The ship date typed: applied (orders of the old date move, their buyers told), or refused
    with the reason; the question stays open."""
    store = services(context).store
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    shop = membership.shop
    variant = await store.variants.get(flow.data["variant"]) if flow.data.get("variant") else None
    text = message_text(update)
    try:
        ship = parse_ship_date(text, datetime.now(ZoneInfo(shop.timezone)).date())
    except ShipDateError as exc:
        await reply(update, who.t(PROBLEMS[exc.reason], text=shorten(text, INPUT_MAX)) + "\n"
                    + who.t("presale.ask_date_again"))
        return
    moved = await _set_date(context, product, variant, shop, ship.iso)
    await store.flows.clear(who.id)
    notice = who.t("presale.date_set", name=_name(product, variant), ships=ship_text(who.t, *ship.iso))
    if moved:
        notice += "\n" + who.t.plural("presale.buyers_told", len(moved))
    await _show(update, context, who, product.id, variant.id if variant else None, notice)


async def _set_date(context: Context, product: Product, variant: Variant | None, shop: Shop,
                    ships: tuple[str, str | None] | None) -> list[MovedOrder]:
    """Set (or clear) the date; the buyers of orders that move are told in their language, in the
    same transaction (gathered first: the renderer is pure)."""
    svc = services(context)
    old_from, old_until = (variant.ships_from, variant.ships_until) if variant is not None else \
        (product.ships_from, product.ships_until)
    translators: dict[int, Translator] = {}
    if old_from and ships is not None:
        for order in await svc.store.presales.open_orders(product.id, variant.id if variant else None, old_from):
            user = await svc.store.users.get(order.buyer_id)
            if user is not None:
                translators[order.buyer_id] = translator_for(user, svc.config)
    fallback = translator(svc.config.language)  # a buyer gone since: the bot's language
    name = _name(product, variant)

    def messages(moved: Sequence[MovedOrder]) -> list[Outgoing]:
        out = []
        for order in moved:
            t = translators.get(order.buyer_id, fallback)
            out.append(Outgoing(order.buyer_id, "sendMessage", {
                "text": t("presale.moved_buyer", number=order.number, name=name, shop=shop.name,
                          was=ship_days(t, order.was_from, order.was_until),
                          now=ship_days(t, *ships) if ships else ""),
                "parse_mode": "HTML",
                "reply_markup": keyboard([[button(t.plain("presale.button_keep"), taps.KeepMovedOrder(order.order_id)),
                                           button(t.plain("presale.button_cancel_order"), taps.AskCancelOrder(order.order_id))]])}))
        return out

    return await svc.store.presales.set_date(product.id, variant.id if variant else None, ships, messages=messages)


def _name(product: Product, variant: Variant | None) -> str:
    return f"{product.name} · {variant.name}" if variant is not None else product.name


async def _show(update: Update, context: Context, who: Actor, product_id: int, variant_id: int | None,
                notice: str) -> None:
    """Back to the view the pre-sale was set from, with what changed on top."""
    store = services(context).store
    found = await product_for(update, context, product_id, manage=True)
    if found is None:
        return
    product, membership = found
    # The views import this module for their pre-sale row: imported here, not at the top.
    if variant_id:
        from handlers.variants import show_variant
        variant = await store.variants.get(variant_id)
        if variant is not None:
            await show_variant(update, context, who, variant, product, membership.shop, notice,
                               edit=update.callback_query is not None)
            return
    from handlers.catalog import show_product
    await show_product(update, context, who, product, membership, notice)


async def on_in_stock(update: Update, context: Context) -> None:
    """✅ In stock now: new orders ship as usual; orders placed keep their date."""
    who = await actor(update, context)
    tapped = await _tapped(update, context)
    if tapped is None:
        return
    product, variant, shop = tapped
    await query_of(update).answer()
    await _set_date(context, product, variant, shop, None)
    await _show(update, context, who, product.id, variant.id if variant else None,
                who.t("presale.in_stock_now", name=_name(product, variant)))


async def on_close(update: Update, context: Context) -> None:
    """⏹ Close pre-sale: no more orders of it (a sold-out card); those placed keep their date."""
    who = await actor(update, context)
    tapped = await _tapped(update, context)
    if tapped is None:
        return
    product, _variant, _shop = tapped
    await query_of(update).answer()
    await services(context).store.presales.close(product.id)
    await _show(update, context, who, product.id, None, who.t("presale.closed", name=product.name))


async def on_keep(update: Update, context: Context) -> None:
    """Keep my order, under a moved ship date: said, and the buttons go."""
    from handlers.my_orders import own_order_of_tap
    who = await actor(update, context)
    order = await own_order_of_tap(update, context)
    if order is None:
        return
    await query_of(update).answer(who.t.plain("presale.kept", number=order.number))
    await set_buttons(update, None)
