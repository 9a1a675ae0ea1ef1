"""Where a scanned QR code or tapped link lands: the product card, or the shop's catalog.

A slot link shows whatever product is on the slot now; an empty slot, or a hidden or deleted
product, shows the catalog with one polite line. Every open is recorded for the funnel.
"""

from __future__ import annotations

from enum import StrEnum
import math
from collections.abc import Sequence

from telegram import Update

from core import callbacks as taps
from core.deals import PriceNow
from core.config import Config
from core.i18n import Translator
from core.links import MAX_QUANTITY, LinkTarget, PayloadError, decode
from handlers.audience import follow_button
from handlers.staff import accept_invite
from handlers.presale import card_line
from handlers.claim_policy import claim_promise
from core.claims import Policy
from handlers.common import (
    Actor, Button, Context, Keyboard, actor, button, edit_photo, keyboard, present, query_of, reply, services, set_buttons,
    show, tapped_message, with_notice,
)
from storage import Store
from storage.models import Shop
from storage.products import Product
from storage.variants import Variant

MAX_QTY = 99
CATALOG_PAGE = 8
# While a buyer looks at a card, a number they type sets its quantity (handlers/typed_quantity.py).
FLOW_CARD = "card"


class CardStep(StrEnum):
    QUANTITY = "quantity"  # a number typed sets the card's quantity



# ---------------------------------------------------------------- the product card

def buyer_card_text(t: Translator, product: Product, shop: Shop, variants: Sequence[Variant] = (),
                    chosen: Variant | None = None, price: PriceNow | None = None, *,
                    claims: Policy | None = None) -> str:
    """The card's text. A product with variants shows its price range, and the chosen variant's
    name, price and stock (`variants`: those on sale, see card_variants). `price` is the price in
    force (storage.deals.Deals.price_now): during a flash deal (products without variants only)
    the deal price, the regular one struck through, the units left at it and its end."""
    lines = [t("buyer.card_title", name=product.name)]
    deal = price.deal if price is not None and not variants else None
    if variants:
        low, high = min(v.price for v in variants), max(v.price for v in variants)
        lines.append(t("buyer.card_price", price=t.money(low, shop.currency)) if low == high else
                     t("buyer.card_price_range", low=t.money(low, shop.currency), high=t.money(high, shop.currency)))
        if chosen is not None:
            lines.append(t("buyer.card_variant_chosen", name=chosen.name, price=t.money(chosen.price, shop.currency)))
        stock = chosen.stock if chosen is not None else sum(v.stock for v in variants)
    elif deal is not None and price is not None:
        lines.append(t("deal.card_price", price=t.money(deal.price, shop.currency),
                       regular=t.money(price.regular, shop.currency)))
        if deal.left is not None:
            lines.append(t("deal.card_left", left=min(deal.left, product.stock)))
        if deal.ends_at is not None:
            lines.append(t("deal.card_ends", time=t.time(deal.ends_at, shop.timezone)))
        if deal.per_buyer:
            lines.append(t("deal.card_per_buyer", limit=deal.per_buyer))
        stock = product.stock
    else:
        lines.append(t("buyer.card_price", price=t.money(product.price, shop.currency)))
        stock = product.stock
    presale = card_line(t, product, chosen)
    if presale:  # when it ships; a pre-sale closed early takes no more orders
        lines.append(presale)
    if not product.presale_closed:
        lines.append(t("buyer.card_stock", stock=stock) if stock > 0 else t("buyer.card_sold_out"))
    if product.per_buyer_limit:
        lines.append(t("buyer.card_limit", limit=product.per_buyer_limit))
    if chosen is not None and chosen.per_buyer_limit:
        lines.append(t("buyer.card_limit", limit=chosen.per_buyer_limit))
    if claims is not None and claims.enabled:  # 坏果包赔: the shop pays back what arrives damaged
        lines.append(claim_promise(t, claims))
    if product.description:
        lines += ["", t("catalog.card_description", description=product.description)]
    lines += ["", t("buyer.card_shop", shop=shop.name)]
    return "\n".join(lines)


def buyer_card_buttons(t: Translator, product: Product, shop: Shop, quantity: int, slot: int,
                       variants: Sequence[Variant] = (), chosen: Variant | None = None, *,
                       following: bool = False, price: PriceNow | None = None, app: str | None = None) -> Keyboard:
    """The card's buttons. With variants: one button per variant (ticked when chosen, marked when
    sold out), and quantity, Buy now and Add to cart act on the chosen one, whose id their data
    carries after the fields a product without variants has. The shop's catalog and following it
    share the last row (handlers/audience.py); `price`: a flash deal's price in force; `app`: the
    Mini App's address for this link (shop_app_url), for an "Open the shop" button under them."""
    catalog = [button(t.plain("buyer.button_catalog"), taps.ShopCatalog(shop.id, 0)), follow_button(t, shop.id, following)]
    rows = _card_rows(t, product, shop, quantity, slot, variants, chosen, price, catalog)
    if app is not None:  # web_app buttons work in private chats, where cards are shown
        rows.append([{"text": t.plain("app.open_shop"), "web_app": {"url": app}}])
    return keyboard(rows)


def shop_app_url(config: Config, shop: Shop, slot: int | None = None) -> str | None:
    """The Mini App's page for the shop (at the link's product), when the bot has one."""
    if not config.webapp.url:
        return None
    return f"{config.webapp.url}?shop={shop.slug}" + (f"&slot={slot}" if slot else "")


def _card_rows(t: Translator, product: Product, shop: Shop, quantity: int, slot: int, variants: Sequence[Variant],
               chosen: Variant | None, price: PriceNow | None, catalog: list[Button]) -> list[list[Button]]:
    p = product.id
    picker = [[button(_variant_label(t, v, chosen, shop.currency), taps.PickVariant(p, v.id, slot))
               for v in variants[i:i + VARIANTS_PER_ROW]] for i in range(0, len(variants), VARIANTS_PER_ROW)]
    if product.presale_closed:
        return [*picker, catalog]
    if variants and (chosen is None or chosen.stock <= 0):
        if all(v.stock <= 0 for v in variants):
            return [*picker, [button(t.plain("buyer.button_notify"), taps.NotifyWhenBack(product.id))], catalog]
        return [*picker, catalog]
    if not variants and product.stock <= 0:
        return [[button(t.plain("buyer.button_notify"), taps.NotifyWhenBack(product.id))], catalog]
    unit = chosen.price if chosen is not None else (price.price if price is not None else product.price)
    v = chosen.id if chosen is not None else None
    return [
        *picker,
        [button("−", taps.SetCardQuantity(p, max(1, quantity - 1), slot, v)), button(str(quantity), taps.Noop()),
         button("+", taps.SetCardQuantity(p, min(quantity + 1, MAX_QUANTITY), slot, v))],
        # Buy now carries the price it shows, so the confirmation can say if it changed meanwhile.
        [button(t.plain("buyer.button_buy", total=t.money(unit * quantity, shop.currency)),
                taps.BuyNow(p, quantity, slot, unit, v)),
         button(t.plain("buyer.button_add_to_cart"), taps.AddToCart(p, quantity, slot, v))],
        catalog,
    ]


VARIANTS_PER_ROW = 2


def _variant_label(t: Translator, variant: Variant, chosen: Variant | None, currency: str) -> str:
    if variant.stock <= 0:
        return t.plain("buyer.variant_button_sold_out", name=variant.name)
    mark = "✅ " if chosen is not None and chosen.id == variant.id else ""
    return mark + t.plain("buyer.variant_button", name=variant.name, price=t.money(variant.price, currency))


async def card_variants(context: Context, product: Product, variant_id: int | None = None, slot: int | None = None
                        ) -> tuple[list[Variant], Variant | None]:
    """A product's variants on sale and the chosen one: `variant_id` if it is on sale, else the
    first one in stock; on a live link (`slot`) that shows one variant alone, only that one. A
    product without variants costs no query."""
    return await card_variants_of(services(context).store, product, variant_id, slot)


async def card_variants_of(store: Store, product: Product, variant_id: int | None = None, slot: int | None = None
                           ) -> tuple[list[Variant], Variant | None]:
    """card_variants for work outside an update (a posted card kept up to date)."""
    if not product.has_variants:
        return [], None
    variants = await store.variants.of_product(product.id, on_sale_only=True)
    pinned = await store.live.variant_on(product.shop_id, slot) if slot else None
    if pinned is not None and any(v.id == pinned for v in variants):
        variants, variant_id = [v for v in variants if v.id == pinned], pinned
    chosen = next((v for v in variants if v.id == variant_id), None)
    if chosen is None:
        chosen = next((v for v in variants if v.stock > 0), None)
    return variants, chosen


async def max_quantity(context: Context, who: Actor, product: Product, variant: Variant | None = None) -> int:
    """What this buyer may order now: bounded by stock and the per-buyer limits (the product's
    counts all its variants; a variant's own counts that variant)."""
    orders = services(context).store.orders
    bound = min(variant.stock if variant is not None else product.stock, MAX_QTY)
    if product.per_buyer_limit:
        already = await orders.units_bought(who.id, product.id)
        bound = min(bound, max(0, product.per_buyer_limit - already))
    if variant is not None and variant.per_buyer_limit:
        already = await orders.units_bought(who.id, product.id, variant.id)
        bound = min(bound, max(0, variant.per_buyer_limit - already))
    return bound


def card_flow(product: Product, slot: int, variant: Variant | None = None) -> tuple[str, str, dict]:
    """The quiet conversation of a card on screen: a number typed next sets its quantity."""
    data = {"product": product.id, "slot": slot}
    if variant is not None:
        data["variant"] = variant.id
    return FLOW_CARD, CardStep.QUANTITY, data


async def show_card(update: Update, context: Context, who: Actor, product: Product, shop: Shop, slot: int,
                    notice: str | None = None, *, remembered: bool = False, variant_id: int | None = None,
                    quantity: int = 1) -> None:
    """The buyer's card; `quantity`: the units a link came with ("1 x2" typed in the shop's
    group), kept within what this buyer may order."""
    store = services(context).store
    variants, chosen = await card_variants(context, product, variant_id, slot)
    price = await store.deals.price_now(product)
    text = buyer_card_text(who.t, product, shop, variants, chosen, price,
                           claims=await services(context).store.claims.policy(shop.id))
    text = with_notice(notice, text)
    following = await store.audience.is_following(who.id, shop.id)
    if quantity > 1:
        quantity = max(1, min(quantity, await max_quantity(context, who, product, chosen)))
    await present(update, text, buyer_card_buttons(who.t, product, shop, quantity, slot, variants, chosen,
                                                   following=following, price=price,
                                                   app=shop_app_url(services(context).config, shop, slot)),
                  card_photo(product, chosen))
    if not remembered:
        await services(context).store.flows.offer(who.id, *card_flow(product, slot, chosen))


# ---------------------------------------------------------------- landing from a link

async def open_link(update: Update, context: Context, payload: str) -> None:
    """`/start <payload>`: a slot, product or shop link."""
    who = await actor(update, context)
    store = services(context).store
    try:
        target = decode(payload)
    except PayloadError:
        await reply(update, who.t("landing.bad_link"))
        return
    if target.kind == "join":
        await accept_invite(update, context, who, target.slug)
        return
    shop = await store.shops.by_slug(target.slug)
    if shop is None:
        await reply(update, who.t("landing.no_shop"))
        return
    if await store.operator.shop_suspension(shop.id) is not None:  # the operator paused it
        await reply(update, who.t("landing.shop_paused", shop=shop.name))
        return
    if target.kind == "order":  # the QR on a packing slip
        from handlers.slips import open_box  # (it builds on the buyer's views, which import this module)
        await open_box(update, context, who, shop, target.number or 0)
        return
    session = await store.live.current_session(shop.id)
    product, slot = await _resolve(context, target, shop)
    variant_id, variant = None, None
    if target.kind == "variant" and target.number is not None:  # a variant's link: its product's card, it ticked
        variant = await store.variants.get(target.number)
        product = await store.products.get(variant.product_id) if variant and variant.on_sale else None
        product = product if product is not None and product.shop_id == shop.id else None
        variant_id = variant.id if product is not None and variant is not None else None
    on_sale = product if product is not None and product.on_sale else None
    # The funnel counts a variant's link as its product's.
    kind = "product" if target.kind == "variant" else target.kind
    await store.live.record_open(shop.id, kind, target.number if target.kind == "slot" else None,
                                 product.id if product else None, session.id if session else None, who.id,
                                 card_flow=card_flow(on_sale, slot or 0, variant) if on_sale else None)
    if on_sale:
        await show_card(update, context, who, on_sale, shop, slot or 0, remembered=True, variant_id=variant_id,
                        quantity=target.quantity or 1)
        return
    notice = None
    if target.kind == "slot":
        notice = who.t("landing.slot_empty", slot=target.number)
    elif target.kind in ("product", "variant"):
        notice = who.t("landing.product_gone")
    await show_catalog(update, context, who, shop, 0, notice)


async def _resolve(context: Context, target: LinkTarget, shop: Shop) -> tuple[Product | None, int | None]:
    store = services(context).store
    if target.number is None:  # a shop's link (decode gives the others their number)
        return None, None
    if target.kind == "slot":
        product_id = await store.live.product_on(shop.id, target.number)
        return (await store.products.get(product_id) if product_id else None), target.number
    if target.kind == "product":
        product = await store.products.get(target.number)
        return (product if product and product.shop_id == shop.id else None), None
    return None, None


# ---------------------------------------------------------------- the buyer's catalog

async def show_catalog(update: Update, context: Context, who: Actor, shop: Shop, page: int,
                       notice: str | None = None) -> None:
    t = who.t
    products, total = await services(context).store.products.page(shop.id, page * CATALOG_PAGE, CATALOG_PAGE,
                                                                   visible_only=True)
    lines = [notice, ""] if notice else []
    lines.append(t("buyer.catalog_title", shop=shop.name))
    lines.append(t("buyer.catalog_hint") if total else t("buyer.catalog_empty"))
    rows = [[button(t.plain("buyer.catalog_item", name=p.name, price=t.money(p.price, shop.currency))
                    if p.stock > 0 else t.plain("buyer.catalog_item_sold_out", name=p.name), taps.OpenProduct(p.id, 0))]
            for p in products]
    nav = []
    if page > 0:
        nav.append(button("◀", taps.ShopCatalog(shop.id, page - 1)))
    if page + 1 < math.ceil(total / CATALOG_PAGE):
        nav.append(button("▶", taps.ShopCatalog(shop.id, page + 1)))
    rows.append(nav)
    rows.append([follow_button(t, shop.id, await services(context).store.audience.is_following(who.id, shop.id))])
    await present(update, "\n".join(lines), keyboard(rows))


async def on_catalog(update: Update, context: Context) -> None:
    """The "Shop catalog" button (and its pages)."""
    who = await actor(update, context)
    tap = context.tap(taps.ShopCatalog)
    shop = await services(context).store.shops.get(tap.shop)
    page = tap.page
    if shop is None:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await query_of(update).answer()
    await show_catalog(update, context, who, shop, page)


async def on_open_product(update: Update, context: Context) -> None:
    """A product in the catalog (or in a restock note): its card."""
    who = await actor(update, context)
    tap = context.tap(taps.OpenProduct)
    store = services(context).store
    product = await store.products.get(tap.product)
    slot = tap.slot
    if product is None or not product.on_sale:
        await query_of(update).answer(who.t.plain("landing.product_gone"), show_alert=True)
        return
    await query_of(update).answer()
    shop = await store.shops.require(product.shop_id)
    # a variant's restock note: that variant ticked
    await show_card(update, context, who, product, shop, slot, variant_id=tap.variant)


async def tapped_product(update: Update, context: Context, who: Actor) -> tuple[Product, int, int] | None:
    """A card button (− / +, Buy now, Add to cart) for a product still on sale: (product,
    quantity, slot); otherwise the tap is answered with why not and None returned."""
    tap = card_tap(context)
    product = await services(context).store.products.get(tap.product)
    if product is None or not product.on_sale:
        await query_of(update).answer(who.t.plain("landing.product_gone"), show_alert=True)
        return None
    return product, tap.quantity, tap.slot


# The card's buttons that act on a product (and its chosen variant) in a quantity.
CardTap = taps.SetCardQuantity | taps.BuyNow | taps.AddToCart


def card_tap(context: Context) -> CardTap:
    tap = context.button
    if not isinstance(tap, (taps.SetCardQuantity, taps.BuyNow, taps.AddToCart)):
        raise TypeError(f"not a card button: {tap!r}")
    return tap


async def tapped_variant(update: Update, context: Context, who: Actor, product: Product
                         ) -> tuple[bool, Variant | None]:
    """The variant a card button acts on: (True, None) for a product without variants, (True,
    variant) when it names one of the product's variants on sale; otherwise the tap is answered
    with why not and (False, None) returned."""
    if not product.has_variants:
        return True, None
    variant_id = card_tap(context).variant
    variant = await services(context).store.variants.get(variant_id) if variant_id else None
    if variant is None or variant.product_id != product.id or not variant.on_sale:
        await query_of(update).answer(who.t.plain("buyer.variant_gone"), show_alert=True)
        return False, None
    return True, variant


async def on_pick_variant(update: Update, context: Context) -> None:
    """A variant button on a card (`product:variant:slot`): tick it; a sold-out one is not picked."""
    who = await actor(update, context)
    tap = context.tap(taps.PickVariant)
    store = services(context).store
    product = await store.products.get(tap.product)
    variant = await store.variants.get(tap.variant)
    slot = tap.slot
    if product is None or not product.on_sale:
        await query_of(update).answer(who.t.plain("landing.product_gone"), show_alert=True)
        return
    if variant is None or variant.product_id != product.id or not variant.on_sale:
        await query_of(update).answer(who.t.plain("buyer.variant_gone"), show_alert=True)
        variant = None
    elif variant.stock <= 0:  # not pickable: the tap puts the buyer on its waitlist, and says so
        await store.products.add_waiter(product.id, who.id, variant.id)
        await query_of(update).answer(who.t.plain("buyer.variant_sold_out", name=variant.name), show_alert=True)
        return
    else:
        await query_of(update).answer()
    shop = await store.shops.require(product.shop_id)
    variants, chosen = await card_variants(context, product, variant.id if variant else None, slot)
    text = buyer_card_text(who.t, product, shop, variants, chosen,
                           claims=await services(context).store.claims.policy(shop.id))
    markup = buyer_card_buttons(who.t, product, shop, 1, slot, variants, chosen,
                                app=shop_app_url(services(context).config, shop, slot))
    message = query_of(update).message
    if any(v.photo_file_id for v in variants) and message is not None and getattr(message, "photo", None):
        # Options with pictures of their own: the card shows the chosen one's (or the product's).
        await edit_photo(update, card_photo(product, chosen) or "", text, markup)
    else:
        await show(update, text, markup)
    await store.flows.offer(who.id, *card_flow(product, slot, chosen))


def card_photo(product: Product, chosen: Variant | None) -> str | None:
    """The card's picture: the chosen variant's own, else the product's."""
    return (chosen.photo_file_id if chosen is not None else None) or product.photo_file_id


async def on_quantity(update: Update, context: Context) -> None:
    """− / +: edit the card's buttons in place (one call), bounded by stock and the limit."""
    who = await actor(update, context)
    tapped = await tapped_product(update, context, who)
    if tapped is None:
        return
    product, wanted, slot = tapped
    ok, variant = await tapped_variant(update, context, who, product)
    if not ok:
        return
    store = services(context).store
    bound = await max_quantity(context, who, product, variant)
    stock = variant.stock if variant is not None else product.stock
    if wanted > bound:
        limit = (variant.per_buyer_limit if variant is not None else None) or product.per_buyer_limit
        key = "buyer.limit_reached" if limit and bound < min(stock, MAX_QTY) else "buyer.only_left"
        await query_of(update).answer(who.t.plain(key, left=bound, limit=limit or 0))
        wanted = max(1, bound)
    else:  # "−" at 1 changes nothing: say so rather than a tap that seems to do nothing
        minus_at_one = wanted == 1 and shown_quantity(update) == 1
        await query_of(update).answer(who.t.plain("buyer.qty_minus_at_one") if minus_at_one else None)
    shop = await store.shops.require(product.shop_id)
    variants, chosen = await card_variants(context, product, variant.id if variant else None, slot)
    markup = buyer_card_buttons(who.t, product, shop, wanted, slot, variants, chosen,
                                following=await store.audience.is_following(who.id, shop.id),
                                price=await store.deals.price_now(product),
                                app=shop_app_url(services(context).config, shop, slot))
    message = tapped_message(update)
    current = message.reply_markup if message is not None else None
    if current is not None and current.to_dict() == markup:
        return  # nothing changes on screen: spare the call
    await set_buttons(update, markup)


def shown_quantity(update: Update) -> int | None:
    """The quantity on the tapped card (the label between − and +)."""
    message = tapped_message(update)
    rows = message.reply_markup.inline_keyboard if message is not None and message.reply_markup else ()
    label = rows[0][1].text if rows and len(rows[0]) == 3 else ""
    return int(label) if label.isdigit() else None


async def on_noop(update: Update, context: Context) -> None:
    """The quantity label in the middle of − qty +: say how to change it."""
    who = await actor(update, context)
    await query_of(update).answer(who.t.plain("buyer.qty_label_hint"))


async def on_notify_when_back(update: Update, context: Context) -> None:
    """Sold out: remember the buyer and tell them once when stock returns."""
    who = await actor(update, context)
    store = services(context).store
    product = await store.products.get(context.tap(taps.NotifyWhenBack).product)
    if product is None or not product.on_sale:
        await query_of(update).answer(who.t.plain("landing.product_gone"), show_alert=True)
        return
    await store.products.add_waiter(product.id, who.id)
    await query_of(update).answer(who.t.plain("buyer.will_notify", name=product.name), show_alert=True)
