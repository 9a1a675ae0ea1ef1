"""Catalog: merchants publish and manage products from chat.

/addproduct walks name -> price -> stock -> photo -> description; a photo captioned
"Name, price, stock" (or /addproduct Name, price, stock; core/caption.py reads the line, commas or
spaces) adds in one message, asking only for the parts that were missing or wrong, or which
number is the price when the line can be read more than one way. /products lists, and each product's view edits it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from telegram import Update

from core import callbacks as taps
from core.caption import Caption, Reading, parse_caption
from core.i18n import N_, Translator
from core.links import product_link
from core.money import PriceError, PriceProblem, parse_price
from core.stock import StockError, StockProblem, parse_stock, parse_stock_change
from core.text import TextProblem, TextRefused, accept_text
from handlers.guards import product_for, product_of_flow, refuse
from handlers.presale import card_line, presale_buttons
from handlers.flows import flow_of_tap
from handlers.common import (
    Actor, Context, actor, button, current_membership, keyboard, largest_photo, message_text, present, query_of,
    reply, services, set_buttons, with_notice,
)
from storage.models import Flow, Membership, Shop
from storage.products import Product
from storage.variants import MAX_VARIANTS, Offer, Variant

NAME_MAX = 80
DESCRIPTION_MAX = 700
PAGE_SIZE = 8
FLOW_ADD = "addproduct"
FLOW_EDIT = "editproduct"


class AddStep(StrEnum):
    """/addproduct's questions in order (a quick add from a caption asks only what it lacks)."""

    NAME = "name"
    PRICE = "price"
    STOCK = "stock"
    PHOTO = "photo"
    DESCRIPTION = "description"
    PRICE_CHOICE = "price_choice"  # a one-line caption that reads more than one way: which is the price


ADD_STEPS = (AddStep.NAME, AddStep.PRICE, AddStep.STOCK, AddStep.PHOTO, AddStep.DESCRIPTION)


class EditField(StrEnum):
    """What an edit button of a product changes (the edit conversation's one step)."""

    NAME = "name"
    PRICE = "price"
    STOCK = "stock"
    PHOTO = "photo"
    DESCRIPTION = "description"
    LIMIT = "limit"


PRICE_PROBLEMS = {
    PriceProblem.EMPTY: N_("price.empty"),
    PriceProblem.NOT_A_NUMBER: N_("price.not_a_number"),
    PriceProblem.ZERO_OR_NEGATIVE: N_("price.zero_or_negative"),
    PriceProblem.TOO_MANY_DECIMALS: N_("price.too_many_decimals"),
    PriceProblem.TOO_LARGE: N_("price.too_large"),
    PriceProblem.WRONG_CURRENCY: N_("price.wrong_currency"),
}
STOCK_PROBLEMS = {
    StockProblem.EMPTY: N_("stock.empty"),
    StockProblem.NOT_A_WHOLE_NUMBER: N_("stock.not_a_whole_number"),
    StockProblem.NEGATIVE: N_("stock.negative"),
    StockProblem.TOO_LARGE: N_("stock.too_large"),
    StockProblem.WOULD_GO_NEGATIVE: N_("stock.would_go_negative"),
}
ASK: dict[str, str] = {
    AddStep.NAME: N_("catalog.ask_name"),
    AddStep.PRICE: N_("catalog.ask_price"),
    AddStep.STOCK: N_("catalog.ask_stock"),
    AddStep.PHOTO: N_("catalog.ask_photo"),
    AddStep.DESCRIPTION: N_("catalog.ask_description"),
}
EDIT_PROMPTS: dict[str, str] = {
    EditField.NAME: N_("catalog.edit_name"),
    EditField.PRICE: N_("catalog.edit_price"),
    EditField.STOCK: N_("catalog.edit_stock"),
    EditField.PHOTO: N_("catalog.edit_photo"),
    EditField.DESCRIPTION: N_("catalog.edit_description"),
    EditField.LIMIT: N_("catalog.edit_limit"),
}


# ---------------------------------------------------------------- checking what was typed

@dataclass(frozen=True)
class Checked:
    value: Any = None  # the accepted value: a name's text, a price's or a stock's integer
    problem: str | None = None  # a message key when the input was refused


NAME_PROBLEMS = {TextProblem.EMPTY: N_("catalog.name_empty"), TextProblem.INVISIBLE: N_("catalog.name_invisible"),
                 TextProblem.TOO_LONG: N_("catalog.name_too_long")}
DESCRIPTION_PROBLEMS = {TextProblem.EMPTY: N_("catalog.description_empty"),
                        TextProblem.INVISIBLE: N_("catalog.description_invisible"),
                        TextProblem.TOO_LONG: N_("catalog.description_too_long")}


def check_name(text: str) -> Checked:
    try:
        return Checked(accept_text(text, max_length=NAME_MAX))
    except TextRefused as exc:
        return Checked(problem=NAME_PROBLEMS.get(exc.problem, NAME_PROBLEMS[TextProblem.EMPTY]))


def check_price(text: str, currency: str) -> Checked:
    try:
        return Checked(parse_price(text, currency))
    except PriceError as exc:
        return Checked(problem=PRICE_PROBLEMS[exc.reason])


def check_stock(text: str) -> Checked:
    try:
        return Checked(parse_stock(text))
    except StockError as exc:
        return Checked(problem=STOCK_PROBLEMS[exc.reason])


def check_limit(text: str) -> Checked:
    """Units one buyer may order, as typed: a whole number from 1, or "0" / "-" for no limit (None)."""
    if text in ("0", "-"):
        return Checked(None)
    checked = check_stock(text)
    return checked if checked.problem is None and checked.value != 0 else Checked(problem=N_("catalog.limit_invalid"))


def check_description(text: str) -> Checked:
    """Several lines are fine here (the merchant's own words on the product card), cleaned alike."""
    try:
        return Checked(accept_text(text, max_length=DESCRIPTION_MAX, multiline=True))
    except TextRefused as exc:
        return Checked(problem=DESCRIPTION_PROBLEMS.get(exc.problem, DESCRIPTION_PROBLEMS[TextProblem.EMPTY]))


# ---------------------------------------------------------------- who may manage the catalog

async def managed_shop(update: Update, context: Context, who: Actor) -> Membership | None:
    """The current shop if the user owns it; otherwise tell them why not and return None."""
    membership = await current_membership(who, context)
    if membership is None:
        await refuse(update, who, N_("catalog.no_shop"), open_shop=True)
        return None
    if not membership.is_owner:
        await refuse(update, who, N_("catalog.owner_only"))
        return None
    return membership


async def _tapped(update: Update, context: Context, who: Actor, *, manage: bool
                  ) -> tuple[Product, Membership] | None:
    """The product the tapped button names, if the user may see (or manage) it."""
    return await product_for(update, context, context.tap(taps.OnProduct).product, manage=manage)


# ---------------------------------------------------------------- rendering

def merchant_card(t: Translator, product: Product, shop: Shop, bot_username: str,
                  variants: Sequence[Variant] = ()) -> str:
    lines = [t("catalog.card_title", name=product.name)]
    if variants:  # each variant with its price and stock; the product's own are their sums
        lines += [t("catalog.card_variant_hidden" if v.hidden else "catalog.card_variant", name=v.name,
                    price=t.money(v.price, shop.currency), stock=v.stock) for v in variants]
    else:
        lines += [t("catalog.card_price", price=t.money(product.price, shop.currency)),
                  t("catalog.card_stock", stock=product.stock)]
    if product.per_buyer_limit:
        lines.append(t("catalog.card_limit", limit=product.per_buyer_limit))
    presale = card_line(t, product)
    if presale:
        lines.append(presale)
    if product.hidden:
        lines.append(t("catalog.card_hidden"))
    if product.description:
        lines += ["", t("catalog.card_description", description=product.description)]
    # The product's own link never changes (unlike a live link slot): for posts and chats.
    lines += ["", t("catalog.card_link", link=product_link(bot_username, shop.slug, product.id))]
    return "\n".join(lines)


def merchant_buttons(t: Translator, product: Product, owner: bool, variants: Sequence[Variant] = (), *,
                     can_post: bool = False):
    back = [button(t.plain("catalog.button_list"), taps.ProductList(0))]
    if not owner:
        return keyboard([back])
    p = product.id
    # With variants, price and stock are each variant's (handlers/variants.py): a button per variant.
    own = [button(t.plain("catalog.button_name"), taps.EditProduct(p, "name"))]
    if not variants:
        own += [button(t.plain("catalog.button_price"), taps.EditProduct(p, "price")),
                button(t.plain("catalog.button_stock"), taps.EditProduct(p, "stock"))]
    options = [[button("⚙️ " + v.name, taps.ViewVariant(v.id)) for v in variants[i:i + 3]]
               for i in range(0, len(variants), 3)]
    if len(variants) < MAX_VARIANTS:
        options.append([button(t.plain("variant.button_add"), taps.AddVariant(p))])
    return keyboard([
        own,
        *options,
        [button(t.plain("catalog.button_photo"), taps.EditProduct(p, "photo")),
         button(t.plain("catalog.button_description"), taps.EditProduct(p, "description")),
         button(t.plain("catalog.button_limit"), taps.EditProduct(p, "limit"))],
        [button(t.plain("catalog.button_show" if product.hidden else "catalog.button_hide"), taps.SetProductHidden(p, 0 if product.hidden else 1)),
         button(t.plain("catalog.button_delete"), taps.AskDeleteProduct(p))],
        *presale_buttons(t, product),
        [button(t.plain("catalog.button_put_on_link"), taps.PutOnNextSlot(p))],
        *([[button(t.plain("chats.button_post"), taps.PostProduct(p))]] if can_post else []),  # the shop's channel/group
        back,
    ])


async def show_product(update: Update, context: Context, who: Actor, product: Product | None,
                       membership: Membership, notice: str | None = None) -> None:
    """The merchant's view of a product; None: it was deleted meanwhile (an edit found no row)."""
    if product is None:
        await reply(update, who.t("catalog.product_gone"))
        return
    variants = await services(context).store.variants.of_product(product.id) if product.has_variants else []
    text = merchant_card(who.t, product, membership.shop, services(context).bot_username, variants)
    text = with_notice(notice, text)
    can_post = membership.is_owner and bool(await services(context).store.chats.of_shop(membership.shop.id))
    await present(update, text, merchant_buttons(who.t, product, membership.is_owner, variants, can_post=can_post),
                  product.photo_file_id)


# ---------------------------------------------------------------- /addproduct

async def add_product(update: Update, context: Context) -> None:
    """/addproduct [Name, price, stock]: step by step, or all at once."""
    who = await actor(update, context)
    if update.callback_query:
        await query_of(update).answer()
    membership = await managed_shop(update, context, who)
    if membership is None:
        return
    inline = " ".join(context.args or []) if not update.callback_query else ""
    if inline:
        await quick_add(update, context, who, membership, inline, photo=None)
        return
    await services(context).store.flows.start(who.id, FLOW_ADD, AddStep.NAME, {"shop": membership.shop.id})
    await reply(update, who.t(ASK[AddStep.NAME], max=NAME_MAX))


async def on_captioned_photo(update: Update, context: Context) -> None:
    """A photo outside any conversation: "Name, price, stock" in its caption adds a product."""
    who = await actor(update, context)
    membership = await current_membership(who, context)
    caption = message_text(update)
    if membership is None or not membership.is_owner or not caption:
        await reply(update, who.t("catalog.photo_without_context"))
        return
    await quick_add(update, context, who, membership, caption, photo=largest_photo(update))


async def quick_add(update: Update, context: Context, who: Actor, membership: Membership, text: str,
                    photo: str | None) -> None:
    """A product from one line: publish it, or ask for what is missing or which number is the price."""
    caption = parse_caption(text, membership.shop.currency)
    if caption.variants:
        await _add_with_variants(update, context, who, membership, caption, photo)
        return
    data: dict = {"shop": membership.shop.id, "quick": True, "photo": photo}
    if caption.ambiguous:
        data["choices"] = [[r.name, r.price, r.stock] for r in caption.readings]
        await services(context).store.flows.start(who.id, FLOW_ADD, AddStep.PRICE_CHOICE, data)
        markup = _price_choices_markup(who.t, membership.shop, data["choices"])
        await reply(update, who.t("catalog.which_price"), markup)
        return
    await _add_reading(update, context, who, membership.shop, data, caption.reading)


async def _add_reading(update: Update, context: Context, who: Actor, shop: Shop, data: dict, reading: Reading) -> None:
    """Publish what the caption said, or ask for the first part that was missing or wrong."""
    checks = {
        "name": check_name(reading.name),
        "price": check_price(reading.price, shop.currency) if reading.price else Checked(problem=N_("price.empty")),
        "stock": check_stock(reading.stock) if reading.stock else Checked(problem=N_("stock.empty")),
    }
    first_problem = None
    for step, checked in checks.items():
        if checked.problem is None:
            data[step] = checked.value
        elif first_problem is None:
            first_problem = (step, checked.problem)
    if first_problem is None:
        await _finish_add(update, context, who, data)
        return
    step, problem = first_problem
    await services(context).store.flows.start(who.id, FLOW_ADD, step, data)
    await reply(update, who.t("catalog.quick_fix", problem=_problem_text(who.t, problem, shop),
                              ask=_ask_text(who.t, step, data)))


async def _add_with_variants(update: Update, context: Context, who: Actor, membership: Membership,
                             caption: Caption, photo: str | None) -> None:
    """`Name, 5斤 29.9 x200, 10斤 49.9 x100`: a product sold in variants, all or nothing: a part
    that cannot be read is named with its reason and nothing is saved."""
    t, shop = who.t, membership.shop
    name = check_name(caption.reading.name)
    if name.problem is not None:
        await reply(update, t("catalog.variants_refused", problem=_problem_text(t, name.problem, shop)))
        return
    if len(caption.variants) > MAX_VARIANTS:
        await reply(update, t("catalog.too_many_variants", max=MAX_VARIANTS))
        return
    offers = []
    for part in caption.variants:
        label = check_name(part.name)
        price = check_price(part.price, shop.currency) if part.price else Checked(problem=N_("price.empty"))
        stock = check_stock(part.stock) if part.stock else Checked(problem=N_("stock.empty"))
        problem = label.problem or price.problem or stock.problem
        if problem is not None:
            await reply(update, t("catalog.variant_part_refused", part=part.written,
                                  problem=_problem_text(t, problem, shop)))
            return
        offers.append(Offer(label.value, price.value, stock.value))
    store = services(context).store
    product_id = await store.variants.create_product(shop.id, name.value, offers, photo)
    await show_product(update, context, who, await store.products.get(product_id), membership,
                       notice=t("catalog.created"))


def _price_choices_markup(t: Translator, shop: Shop, choices: list[list]):
    """One button per way of reading the caption, labelled with its price, name and stock."""
    rows = []
    for i, (name, price, stock) in enumerate(choices):
        checked = check_price(price, shop.currency)
        shown = t.money(checked.value, shop.currency) if checked.problem is None else price
        label = t.plain("catalog.price_choice", price=shown, name=name, stock=stock or "?")
        rows.append([button(label, taps.PickPrice(i))])
    return keyboard(rows)


async def on_price_choice(update: Update, context: Context) -> None:
    """The merchant says which number of an ambiguous caption is the price."""
    who = await actor(update, context)
    index = context.tap(taps.PickPrice).index
    store = services(context).store
    flow = await flow_of_tap(update, context)  # at the price choice (handlers/registry.py), else answered
    if flow is None:
        return
    choices = flow.data.get("choices", [])
    if index >= len(choices):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    shop = await store.shops.require(flow.data["shop"])
    await query_of(update).answer()
    await set_buttons(update, None)
    name, price, stock = choices[index]
    rest = {k: v for k, v in flow.data.items() if k != "choices"}
    await _add_reading(update, context, who, shop, rest, Reading(name, price, stock))


def _problem_text(t: Translator, key: str, shop: Shop) -> str:
    return t.plain(key, max=NAME_MAX, max_description=DESCRIPTION_MAX, currency=shop.currency)


def _ask_text(t: Translator, step: str, data: dict) -> str:
    return t.plain(ASK[step], max=NAME_MAX, name=data.get("name", ""), max_description=DESCRIPTION_MAX)


def _next_step(step: str, data: dict) -> AddStep | None:
    """After `step`, the next one still to ask (a quick add asks only what it lacks)."""
    for candidate in ADD_STEPS[ADD_STEPS.index(step) + 1:]:
        if data.get("quick"):
            if candidate in ("name", "price", "stock") and candidate not in data:
                return candidate
        else:
            return candidate
    return None


async def _adding_to(update: Update, context: Context, who: Actor, flow: Flow) -> Shop | None:
    """The shop the product is being added to (None, said, when it is gone meanwhile)."""
    store = services(context).store
    shop = await store.shops.get(flow.data["shop"])
    if shop is None:
        await store.flows.clear(who.id)
        await reply(update, who.t("catalog.no_shop"))
    return shop


async def on_add_text(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The name, price, stock or description typed in /addproduct."""
    shop = await _adding_to(update, context, who, flow)
    if shop is None:
        return
    text = message_text(update)
    step = AddStep(flow.step)
    checked = {
        AddStep.NAME: lambda: check_name(text),
        AddStep.PRICE: lambda: check_price(text, shop.currency),
        AddStep.STOCK: lambda: check_stock(text),
        AddStep.DESCRIPTION: lambda: check_description(text),
    }[step]()
    if checked.problem is not None:
        await reply(update, who.t("catalog.try_again", problem=_problem_text(who.t, checked.problem, shop)),
                    _skip_markup(who.t, step))
        return
    await _advance(update, context, who, Flow(flow.user_id, flow.name, step, {**flow.data, step: checked.value}))


async def on_add_photo(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The product's photo in /addproduct (or Skip)."""
    if await _adding_to(update, context, who, flow) is None:
        return
    photo = largest_photo(update)
    if photo is None:
        await reply(update, who.t("catalog.photo_expected"), _skip_markup(who.t, AddStep.PHOTO))
        return
    await _advance(update, context, who, Flow(flow.user_id, flow.name, AddStep.PHOTO, {**flow.data, "photo": photo}))


async def on_price_choice_typed(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Typing while the caption's price is to be picked: the choices again."""
    shop = await _adding_to(update, context, who, flow)
    if shop is not None:
        await reply(update, who.t("catalog.which_price"), _price_choices_markup(who.t, shop, flow.data.get("choices", [])))


async def _advance(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    next_step = _next_step(flow.step, flow.data)
    if next_step is None:
        await _finish_add(update, context, who, flow.data)
        return
    await services(context).store.flows.save(Flow(flow.user_id, flow.name, next_step, flow.data))
    await reply(update, who.t(ASK[next_step], max=NAME_MAX, name=flow.data.get("name", ""),
                              max_description=DESCRIPTION_MAX), _skip_markup(who.t, next_step))


def _skip_markup(t: Translator, step: str):
    if step in ("photo", "description"):
        return keyboard([[button(t.plain("catalog.button_skip"), taps.SkipAddStep(step))]])
    return None


async def on_skip(update: Update, context: Context) -> None:
    """The Skip button on the photo or description step."""
    who = await actor(update, context)
    step = context.tap(taps.SkipAddStep).step
    flow = await flow_of_tap(update, context)  # at the photo or description (handlers/registry.py)
    if flow is None:
        return
    if step != flow.step:  # the Skip of the other one
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await query_of(update).answer()
    await set_buttons(update, None)
    await _advance(update, context, who, flow)


async def _finish_add(update: Update, context: Context, who: Actor, data: dict) -> None:
    store = services(context).store
    membership = await store.shops.membership(who.id, data["shop"])
    if membership is None or not membership.is_owner:
        await store.flows.clear(who.id)
        await reply(update, who.t("catalog.owner_only"))
        return
    product = await store.products.create(
        membership.shop.id, data["name"], data["price"], data["stock"], data.get("photo"), data.get("description")
    )
    await store.flows.clear(who.id)
    await show_product(update, context, who, product, membership, notice=who.t("catalog.created"))


# ---------------------------------------------------------------- /products and the product view

async def list_products(update: Update, context: Context) -> None:
    """/products (or its button): one page of the current shop's products."""
    who = await actor(update, context)
    tap = context.button
    page = tap.page if isinstance(tap, taps.ProductList) else 0
    if update.callback_query:
        await query_of(update).answer()
    membership = await current_membership(who, context)
    if membership is None:
        await refuse(update, who, N_("catalog.no_shop"), open_shop=True)
        return
    store = services(context).store
    products, total = await store.products.page(membership.shop.id, page * PAGE_SIZE, PAGE_SIZE)
    if total == 0:
        rows = [[button(who.t.plain("button.add_product"), taps.AddProduct())]] if membership.is_owner else []
        await present(update, who.t("catalog.empty", shop=membership.shop.name), keyboard(rows))
        return
    pages = math.ceil(total / PAGE_SIZE)
    page = min(page, pages - 1)
    if not products:
        products, _ = await store.products.page(membership.shop.id, page * PAGE_SIZE, PAGE_SIZE)
    t = who.t
    rows = [[button(t.plain("catalog.list_item", name=p.name, price=t.money(p.price, membership.shop.currency),
                            stock=p.stock, hidden="🙈 " if p.hidden else ""), taps.ViewProduct(p.id))] for p in products]
    nav = []
    if page > 0:
        nav.append(button("◀", taps.ProductList(page - 1)))
    if page < pages - 1:
        nav.append(button("▶", taps.ProductList(page + 1)))
    rows.append(nav)
    if membership.is_owner:
        rows.append([button(t.plain("button.add_product"), taps.AddProduct())])
    text = t("catalog.list_title", shop=membership.shop.name, total=total, page=page + 1, pages=pages)
    await present(update, text, keyboard(rows))


async def view_product(update: Update, context: Context) -> None:
    """A product button: its card with the edit buttons (view only for staff)."""
    who = await actor(update, context)
    found = await _tapped(update, context, who, manage=False)
    if found is None:
        return
    await query_of(update).answer()
    await show_product(update, context, who, *found)


async def start_edit(update: Update, context: Context) -> None:
    """An edit button: ask for the new value, showing the current one."""
    who = await actor(update, context)
    tap = context.tap(taps.EditProduct)
    field = tap.field
    if field not in EDIT_PROMPTS:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    found = await product_for(update, context, tap.product, manage=True)
    if found is None:
        return
    product, membership = found
    if field in ("price", "stock") and product.has_variants:  # a button from before it had variants
        await query_of(update).answer(who.t.plain("variant.edit_per_option"), show_alert=True)
        return
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, FLOW_EDIT, field, {"product": product.id})
    t = who.t
    current = {
        "name": product.name,
        "price": t.money(product.price, membership.shop.currency),
        "stock": str(product.stock),
        "description": product.description or "",
        "limit": str(product.per_buyer_limit or ""),
        "photo": "",
    }[field]
    markup = None
    if field == "description" and product.description:
        markup = keyboard([[button(t.plain("catalog.button_remove_description"), taps.RemoveDescription(product.id))]])
    await reply(update, t(EDIT_PROMPTS[field], current=current, max=NAME_MAX, max_description=DESCRIPTION_MAX), markup)


async def on_edit_text(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The product's new name, price or description."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    shop, field, text = membership.shop, EditField(flow.step), message_text(update)
    checked = {EditField.NAME: check_name, EditField.DESCRIPTION: check_description}.get(
        field, lambda s: check_price(s, shop.currency))(text)
    if checked.problem is not None:
        await reply(update, who.t("catalog.try_again", problem=_problem_text(who.t, checked.problem, shop)))
        return
    await _edited(update, context, who, membership,
                  await services(context).store.products.update(product.id, **{field: checked.value}))


async def on_edit_photo(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    photo = largest_photo(update)
    if photo is None:
        await reply(update, who.t("catalog.photo_expected"))
        return
    product, membership = found
    await _edited(update, context, who, membership,
                  await services(context).store.products.update(product.id, photo_file_id=photo))


async def on_edit_stock(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The new stock, or a change of it ("+20", "-5")."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    try:
        change = parse_stock_change(message_text(update))
        result = await services(context).store.products.change_stock(product.id, change)
    except StockError as exc:
        await reply(update, who.t("catalog.try_again", problem=who.t.plain(STOCK_PROBLEMS[exc.reason])))
        return
    await _edited(update, context, who, membership, result.product if result else None)


async def on_edit_limit(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """Units one buyer may order ("0" or "-": no limit)."""
    found = await product_of_flow(update, context, who, flow)
    if found is None:
        return
    product, membership = found
    checked = check_limit(message_text(update))
    if checked.problem is not None:
        await reply(update, who.t(checked.problem))
        return
    updated = await services(context).store.products.update(product.id, per_buyer_limit=checked.value)
    await _edited(update, context, who, membership, updated)


async def _edited(update: Update, context: Context, who: Actor, membership: Membership,
                  updated: Product | None) -> None:
    await services(context).store.flows.clear(who.id)
    await show_product(update, context, who, updated, membership, notice=who.t("catalog.saved"))


async def remove_description(update: Update, context: Context) -> None:
    who = await actor(update, context)
    found = await _tapped(update, context, who, manage=True)
    if found is None:
        return
    await query_of(update).answer()
    store = services(context).store
    await store.flows.clear(who.id)
    updated = await store.products.update(found[0].id, description=None)
    await show_product(update, context, who, updated, found[1], notice=who.t("catalog.saved"))


async def set_visibility(update: Update, context: Context) -> None:
    """Hide / Show: a hidden product is not offered to buyers; its links say so politely."""
    who = await actor(update, context)
    tap = context.tap(taps.SetProductHidden)
    found = await product_for(update, context, tap.product, manage=True)
    hide = tap.hidden
    if found is None:
        return
    updated = await services(context).store.products.update(found[0].id, hidden=hide)
    await query_of(update).answer(who.t.plain("catalog.hidden_now" if hide else "catalog.shown_now"))
    await show_product(update, context, who, updated, found[1])


async def ask_delete(update: Update, context: Context) -> None:
    who = await actor(update, context)
    found = await _tapped(update, context, who, manage=True)
    if found is None:
        return
    await query_of(update).answer()
    product = found[0]
    markup = keyboard([[button(who.t.plain("catalog.button_delete_yes"), taps.DeleteProduct(product.id)),
                        button(who.t.plain("catalog.button_delete_no"), taps.ViewProduct(product.id))]])
    await present(update, who.t("catalog.delete_confirm", name=product.name), markup, product.photo_file_id)


async def confirm_delete(update: Update, context: Context) -> None:
    who = await actor(update, context)
    found = await _tapped(update, context, who, manage=True)
    if found is None:
        return
    product = found[0]
    await services(context).store.products.soft_delete(product.id)
    await query_of(update).answer(who.t.plain("catalog.deleted_toast"))
    markup = keyboard([[button(who.t.plain("catalog.button_list"), taps.ProductList(0))]])
    await present(update, who.t("catalog.deleted", name=product.name), markup, product.photo_file_id)
