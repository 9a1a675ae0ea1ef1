"""A product's variants, managed by its owner in chat from the product view.

➕ Option asks for one line ("5斤 29.9 x200", read like a variant part of a caption); each variant
has its own view with ✏️ Name / Price / Stock / Limit, Hide / Show and Delete. Deleting a variant
with orders still to ship is refused with their numbers (hiding it is the way to stop selling it).
"""

from __future__ import annotations

from enum import StrEnum

from telegram import Update

from core import callbacks as taps
from core.caption import parse_variant_line
from core.i18n import N_, Translator
from core.links import variant_link
from core.stock import StockError, parse_stock_change
from handlers.catalog import (
    NAME_MAX, STOCK_PROBLEMS, Checked, _problem_text, check_limit, check_name, check_price, check_stock,
    show_product,
)
from handlers.guards import product_for, product_of_flow
from handlers.presale import presale_buttons, ship_text
from handlers.common import (
    Actor, Context, actor, button, keyboard, largest_photo, message_text, query_of, reply, services, show,
    with_notice,
)
from storage.models import Flow, Membership, Shop
from storage.products import Product
from storage.variants import MAX_VARIANTS, Offer, TooManyVariants, Variant, VariantHasOpenOrders

FLOW = "variant"


class VariantStep(StrEnum):
    """A new variant's line, or which field of a variant is being edited."""

    ADD = "add"
    NAME = "name"
    PRICE = "price"
    STOCK = "stock"
    LIMIT = "limit"
    PHOTO = "photo"


EDIT_PROMPTS: dict[str, str] = {VariantStep.NAME: N_("catalog.edit_name"), VariantStep.PRICE: N_("catalog.edit_price"),
                VariantStep.STOCK: N_("catalog.edit_stock"), VariantStep.LIMIT: N_("catalog.edit_limit"),
                VariantStep.PHOTO: N_("variant.edit_photo")}


def variant_card(t: Translator, product: Product, variant: Variant, shop: Shop, bot_username: str) -> str:
    lines = [t("variant.card_title", product=product.name, name=variant.name),
             t("catalog.card_price", price=t.money(variant.price, shop.currency)),
             t("catalog.card_stock", stock=variant.stock)]
    if variant.per_buyer_limit:
        lines.append(t("catalog.card_limit", limit=variant.per_buyer_limit))
    if variant.hidden:
        lines.append(t("catalog.card_hidden"))
    own_date = ship_text(t, variant.ships_from, variant.ships_until)
    if own_date:
        lines.append(t("presale.card_line", ships=own_date))
    # Its own link opens the product's card with this variant ticked ("the 10斤 link").
    lines += ["", t("catalog.card_link", link=variant_link(bot_username, shop.slug, variant.id))]
    return "\n".join(lines)


def variant_buttons(t: Translator, variant: Variant, product: Product):
    v = variant.id
    return keyboard([
        [button(t.plain("catalog.button_name"), taps.EditVariant(v, "name")),
         button(t.plain("catalog.button_price"), taps.EditVariant(v, "price")),
         button(t.plain("catalog.button_stock"), taps.EditVariant(v, "stock"))],
        [button(t.plain("catalog.button_photo"), taps.EditVariant(v, "photo")),
         button(t.plain("catalog.button_limit"), taps.EditVariant(v, "limit"))],
        [button(t.plain("catalog.button_show" if variant.hidden else "catalog.button_hide"), taps.SetVariantHidden(v, 0 if variant.hidden else 1)),
         button(t.plain("catalog.button_delete"), taps.AskDeleteVariant(v))],
        *presale_buttons(t, product, variant),
        [button(t.plain("variant.button_own_link"), taps.PutVariantOnNextSlot(v))],
        [button(t.plain("variant.button_back", ), taps.ViewProduct(variant.product_id))],
    ])


async def _variant_for(update: Update, context: Context, who: Actor, variant_id: int | None
                       ) -> tuple[Variant, Product, Membership] | None:
    """The variant named by a button, if the user owns its shop; otherwise answered and None."""
    variant = await services(context).store.variants.get(variant_id) if variant_id else None
    if variant is None or variant.deleted:
        await _answer(update, who.t.plain("variant.gone"))
        return None
    found = await product_for(update, context, variant.product_id, manage=True)
    return None if found is None else (variant, *found)


async def _answer(update: Update, text: str) -> None:
    if update.callback_query:
        await query_of(update).answer(text, show_alert=True)
    else:
        await reply(update, text)


async def show_variant(update: Update, context: Context, who: Actor, variant: Variant | None, product: Product,
                       shop: Shop, notice: str | None = None, *, edit: bool = True) -> None:
    """The merchant's view of a variant; None: it was deleted meanwhile (an edit found no row)."""
    if variant is None:
        await reply(update, who.t("variant.gone"))
        return
    text = variant_card(who.t, product, variant, shop, services(context).bot_username)
    text = with_notice(notice, text)
    await (show if edit else reply)(update, text, variant_buttons(who.t, variant, product))


async def on_view(update: Update, context: Context) -> None:
    """A variant's button on the product view: its own view."""
    who = await actor(update, context)
    found = await _variant_for(update, context, who, context.tap(taps.ViewVariant).variant)
    if found is None:
        return
    await query_of(update).answer()
    variant, product, membership = found
    await show_variant(update, context, who, variant, product, membership.shop)


async def on_add(update: Update, context: Context) -> None:
    """➕ Option on the product view: ask for the new variant in one line."""
    who = await actor(update, context)
    found = await product_for(update, context, context.tap(taps.AddVariant).product, manage=True)
    if found is None:
        return
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, FLOW, VariantStep.ADD, {"product": found[0].id})
    await reply(update, who.t("variant.ask_line", max=MAX_VARIANTS))


async def on_start_edit(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.EditVariant)
    field = tap.field
    if field not in EDIT_PROMPTS:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    found = await _variant_for(update, context, who, tap.variant)
    if found is None:
        return
    variant, product, membership = found
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, FLOW, field, {"product": product.id, "variant": variant.id})
    current = {"name": variant.name, "price": who.t.money(variant.price, membership.shop.currency),
               "stock": str(variant.stock), "limit": str(variant.per_buyer_limit or ""), "photo": ""}[field]
    await reply(update, who.t(EDIT_PROMPTS[field], current=current, max=NAME_MAX))


async def on_line(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The new variant in one line ("5斤 39.9 100")."""
    store = services(context).store
    t = who.t
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    shop = membership.shop
    read = parse_variant_line(message_text(update), shop.currency)
    checks = [check_name(read.name),
              check_price(read.price, shop.currency) if read.price else Checked(problem=N_("price.empty")),
              check_stock(read.stock) if read.stock else Checked(problem=N_("stock.empty"))]
    problem = next((c.problem for c in checks if c.problem is not None), None)
    if problem is not None:
        await reply(update, t("variant.line_refused", part=read.written, problem=_problem_text(t, problem, shop)))
        return
    try:
        name, price, stock = (c.value for c in checks)
        await store.variants.add(product.id, [Offer(name, price, stock)])
    except TooManyVariants:
        await store.flows.clear(who.id)
        await reply(update, t("catalog.too_many_variants", max=MAX_VARIANTS))
        return
    await store.flows.clear(who.id)
    await show_product(update, context, who, await store.products.get(product.id), membership,
                       notice=t("catalog.saved"))


async def on_edit_text(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The variant's new name or price."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    shop, field = membership.shop, VariantStep(flow.step)
    text = message_text(update)
    checked = check_name(text) if field == VariantStep.NAME else check_price(text, shop.currency)
    if checked.problem is not None:
        await reply(update, who.t("catalog.try_again", problem=_problem_text(who.t, checked.problem, shop)))
        return
    updated = await services(context).store.variants.update(flow.data["variant"], **{field: checked.value})
    await _edited(update, context, who, updated, product, shop)


async def on_edit_stock(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The variant's new stock, or a change of it ("+20", "-5")."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    try:
        change = parse_stock_change(message_text(update))
        updated = await services(context).store.variants.change_stock(flow.data["variant"], change)
    except StockError as exc:
        await reply(update, who.t("catalog.try_again", problem=who.t.plain(STOCK_PROBLEMS[exc.reason])))
        return
    await _edited(update, context, who, updated, product, membership.shop)


async def on_edit_photo(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The variant's own picture (the card shows it while it is chosen); "-" removes it."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    photo = largest_photo(update)
    if photo is None and message_text(update).strip() != "-":
        await reply(update, who.t("variant.photo_expected"))
        return
    updated = await services(context).store.variants.update(flow.data["variant"], photo_file_id=photo)
    await _edited(update, context, who, updated, product, membership.shop)


async def on_edit_limit(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Units of this variant one buyer may order ("0" or "-": no limit)."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    checked = check_limit(message_text(update))
    if checked.problem is not None:
        await reply(update, who.t(checked.problem))
        return
    updated = await services(context).store.variants.update(flow.data["variant"], per_buyer_limit=checked.value)
    await _edited(update, context, who, updated, product, membership.shop)


async def _edited(update: Update, context: Context, who: Actor, updated: Variant | None, product: Product,
                  shop: Shop) -> None:
    await services(context).store.flows.clear(who.id)
    if updated is None:
        await reply(update, who.t("variant.gone"))
        return
    await show_variant(update, context, who, updated, product, shop, who.t("catalog.saved"), edit=False)


async def on_visibility(update: Update, context: Context) -> None:
    """Hide / Show a variant: a hidden one is not on the card; its orders stand."""
    who = await actor(update, context)
    tap = context.tap(taps.SetVariantHidden)
    found = await _variant_for(update, context, who, tap.variant)
    hide = tap.hidden
    if found is None:
        return
    variant, product, membership = found
    updated = await services(context).store.variants.update(variant.id, hidden=hide)
    await query_of(update).answer(who.t.plain("catalog.hidden_now" if hide else "catalog.shown_now"))
    await show_variant(update, context, who, updated, product, membership.shop)


async def on_ask_delete(update: Update, context: Context) -> None:
    who = await actor(update, context)
    found = await _variant_for(update, context, who, context.tap(taps.AskDeleteVariant).variant)
    if found is None:
        return
    variant, product, _ = found
    await query_of(update).answer()
    markup = keyboard([[button(who.t.plain("catalog.button_delete_yes"), taps.DeleteVariant(variant.id)),
                        button(who.t.plain("catalog.button_delete_no"), taps.ViewVariant(variant.id))]])
    await show(update, who.t("variant.delete_confirm", product=product.name, name=variant.name), markup)


async def on_confirm_delete(update: Update, context: Context) -> None:
    """Delete a variant, unless orders of it still wait to ship (then say which)."""
    who = await actor(update, context)
    found = await _variant_for(update, context, who, context.tap(taps.DeleteVariant).variant)
    if found is None:
        return
    variant, product, membership = found
    store = services(context).store
    try:
        await store.variants.delete(variant.id)
    except VariantHasOpenOrders as exc:
        await query_of(update).answer()
        await show_variant(update, context, who, variant, product, membership.shop,
                           who.t("variant.delete_refused", name=variant.name,
                                 orders=", ".join(f"#{n}" for n in exc.numbers)))
        return
    await query_of(update).answer(who.t.plain("catalog.deleted_toast"))
    await show_product(update, context, who, await store.products.get(product.id), membership,
                       notice=who.t("variant.deleted", name=variant.name))
