"""The cart: one per buyer per shop. Add from a product card, change quantities, check out."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Update

from core import callbacks as taps
from core.i18n import Safe
from core.links import MAX_QUANTITY
from handlers.checkout import begin, checkout_item, items_text
from handlers.common import Actor, Button, Context, actor, button, keyboard, present, query_of, reply, services
from handlers.landing import max_quantity, tapped_product, tapped_variant
from storage.models import Shop
from storage.orders import line_name


async def on_add_to_cart(update: Update, context: Context) -> None:
    """Add to cart on a product card."""
    who = await actor(update, context)
    tapped = await tapped_product(update, context, who)
    if tapped is None:
        return
    product, quantity, slot = tapped
    ok, variant = await tapped_variant(update, context, who, product)
    if not ok:
        return
    store = services(context).store
    variant_id = variant.id if variant is not None else None
    bound = await max_quantity(context, who, product, variant)
    total = await store.carts.add(who.id, product.shop_id, product.id, quantity, slot or None, variant_id,
                                  at_most=bound)
    if total is None:
        await query_of(update).answer(who.t.plain("buyer.only_left", left=bound, limit=0), show_alert=True)
        return
    name = line_name(product.name, variant.name if variant is not None else None)
    await query_of(update).answer(who.t.plain("cart.added", name=name, quantity=total), show_alert=False)


async def cart_command(update: Update, context: Context) -> None:
    """/cart: the cart of the shop last added to, with a switch to the others."""
    who = await actor(update, context)
    shop_ids = await services(context).store.carts.shops(who.id)
    if not shop_ids:
        await reply(update, who.t("cart.empty_all"))
        return
    await show_cart(update, context, who, await services(context).store.shops.require(shop_ids[0]), shop_ids[1:])


async def on_show_cart(update: Update, context: Context) -> None:
    who = await actor(update, context)
    tap = context.tap(taps.ShowCart)
    shop = await services(context).store.shops.get(tap.shop)
    page = tap.page
    if shop is None:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await query_of(update).answer()
    await show_cart(update, context, who, shop, page=page)


# Each cart line has four buttons (the product, −, +, 🗑) and Telegram takes 100 per message:
# a long cart shows its lines' buttons a page at a time.
CART_PAGE = 10
OTHER_CARTS_SHOWN = 5


async def show_cart(update: Update, context: Context, who: Actor, shop: Shop, other_shops: Sequence[int] = (),
                    *, page: int = 0, product_id: int | None = None) -> None:
    """The cart; `product_id` picks the page that holds that product (after − / + / 🗑)."""
    store = services(context).store
    t = who.t
    lines: list[tuple[str, int, int]] = []
    line_rows: list[list[list[Button]]] = []
    for line in await store.carts.lines(who.id, shop.id):
        product = await store.products.get(line.product_id)
        if product is None or not product.on_sale:
            continue
        name, price, v = product.name, product.price, None  # v: the variant of a variant's line
        if line.variant_id is not None:  # a line of one variant: its name and price
            variant = await store.variants.get(line.variant_id)
            if variant is None or not variant.on_sale:
                continue
            name, price, v = line_name(product.name, variant.name), variant.price, variant.id
        if product.id == product_id:
            page = len(lines) // CART_PAGE
        lines.append((name, price, line.quantity))
        line_rows.append([
            [button(t.plain("cart.button_item", name=name, quantity=line.quantity), taps.OpenProduct(product.id, line.slot or 0))],
            [button("−", taps.SetCartLine(shop.id, product.id, line.quantity - 1, v)),
             button("+", taps.SetCartLine(shop.id, product.id, min(line.quantity + 1, MAX_QUANTITY), v)),
             button("🗑", taps.SetCartLine(shop.id, product.id, 0, v))]])
    pages = max(1, -(-len(line_rows) // CART_PAGE))
    page = min(max(page, 0), pages - 1)
    rows = [row for pair in line_rows[page * CART_PAGE:(page + 1) * CART_PAGE] for row in pair]
    if pages > 1:
        rows.append([button("◀", taps.ShowCart(shop.id, page - 1))] if page > 0 else [])
        rows[-1] += [button("▶", taps.ShowCart(shop.id, page + 1))] if page + 1 < pages else []
    if not lines:
        await present(update, t("cart.empty", shop=shop.name),
                      keyboard([[button(t.plain("buyer.button_catalog"), taps.ShopCatalog(shop.id, 0))]]))
        return
    total = sum(price * qty for _, price, qty in lines)
    rows.append([button(t.plain("cart.button_checkout", total=t.money(total, shop.currency)), taps.CartCheckout(shop.id))])
    rows.append([button(t.plain("buyer.button_catalog"), taps.ShopCatalog(shop.id, 0))])
    for other_id in other_shops[:OTHER_CARTS_SHOWN]:
        other = await store.shops.get(other_id)
        if other is not None:
            rows.append([button(t.plain("cart.button_other_shop", shop=other.name), taps.ShowCart(other.id))])
    text = t("cart.title", shop=shop.name, items=Safe(items_text(t, lines, shop.currency)),
             total=t.money(total, shop.currency))
    await present(update, text, keyboard(rows))


async def on_set_quantity(update: Update, context: Context) -> None:
    """− / + / 🗑 on a cart line."""
    who = await actor(update, context)
    tap = context.tap(taps.SetCartLine)
    store = services(context).store
    shop_id, product_id, quantity, variant_id = tap.shop, tap.product, tap.quantity, tap.variant  # variant: a variant's line
    product = await store.products.get(tap.product)
    variant = await store.variants.get(variant_id) if variant_id else None
    if product is None or product.shop_id != shop_id \
            or (variant_id is not None and (variant is None or variant.product_id != product.id)):
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    bound = await max_quantity(context, who, product, variant)
    if quantity > bound:
        await query_of(update).answer(who.t.plain("buyer.only_left", left=bound, limit=0))
        return
    await query_of(update).answer()
    await store.carts.set_quantity(who.id, shop_id, product_id, quantity, variant_id)
    await show_cart(update, context, who, await store.shops.require(shop_id), product_id=product_id)


async def on_checkout(update: Update, context: Context) -> None:
    """Checkout from the cart: all items are placed together or not at all."""
    who = await actor(update, context)
    shop_id = context.tap(taps.CartCheckout).shop
    store = services(context).store
    lines = await store.carts.lines(who.id, shop_id)
    if not lines:
        await query_of(update).answer(who.t.plain("cart.empty_toast"), show_alert=True)
        return
    items = [checkout_item(line.product_id, line.quantity, line.slot, line.variant_id) for line in lines]
    await begin(update, context, who, shop_id, items, from_cart=True)
