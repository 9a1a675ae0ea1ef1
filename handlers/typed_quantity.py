"""A number typed while a buyer looks at a product card sets the card's quantity.

Buyers type "3", "３", "3 boxes" or "3份" instead of tapping + twice. The card they are on is a
quiet conversation (landing.FLOW_CARD, stored when a card is shown, ended by any command or by
checkout); anything typed that is not a quantity gets the usual answer.
"""

from __future__ import annotations

from telegram import Update

from core.quantity import parse_typed_quantity
from handlers.common import Actor, Context, message_text, present, reply, services
from handlers.flows import outside_flow
from handlers.landing import (
    MAX_QTY, buyer_card_buttons, buyer_card_text, card_flow, card_variants, max_quantity, shop_app_url,
)
from storage.models import Flow
from storage.products import Product


def _cap_notice(who: Actor, product: Product, wanted: int, bound: int, stock: int, limit: int | None) -> str:
    """Why the quantity is less than the buyer typed."""
    t = who.t
    if limit and bound < min(stock, MAX_QTY):
        return t("buyer.qty_capped_limit", wanted=wanted, limit=limit, left=bound)
    if bound < stock:
        return t("buyer.qty_capped_max", wanted=wanted, max=bound)
    return t("buyer.qty_capped_stock", wanted=wanted, left=bound)


async def on_typed_quantity(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """A message while on a card: a quantity sets it (capped, saying why); anything else as usual."""
    message = update.effective_message
    wanted = parse_typed_quantity(message_text(update)) if message is not None and message.text else None
    if wanted is None:
        await outside_flow(update, context, who)
        return
    store = services(context).store
    product = await store.products.get(flow.data.get("product", 0))
    if product is None or not product.on_sale:
        await store.flows.clear(who.id)
        await reply(update, who.t("landing.product_gone"))
        return
    shop = await store.shops.require(product.shop_id)
    t = who.t
    variants, chosen = await card_variants(context, product, flow.data.get("variant"), flow.data.get("slot"))
    bound = await max_quantity(context, who, product, chosen)
    quantity = max(1, min(wanted, bound))
    stock = chosen.stock if chosen is not None else (0 if variants else product.stock)
    limit = (chosen.per_buyer_limit if chosen is not None else None) or product.per_buyer_limit
    if stock < 1:
        notice = t("buyer.sold_out")
    elif bound < 1:
        notice = t("buyer.qty_limit_used", limit=limit or 0)
    elif wanted < 1:
        notice = t("buyer.qty_at_least_one")
    elif wanted > bound:
        notice = _cap_notice(who, product, wanted, bound, stock, limit)
    else:
        notice = t("buyer.qty_set", quantity=quantity)
    price = await store.deals.price_now(product)
    following = await store.audience.is_following(who.id, shop.id)
    text = notice + "\n\n" + buyer_card_text(t, product, shop, variants, chosen, price,
                                             claims=await services(context).store.claims.policy(shop.id))
    slot = flow.data.get("slot") or 0
    # A new card below the buyer's message (the old one may be far up the chat); both stay usable.
    await present(update, text, buyer_card_buttons(t, product, shop, quantity, slot, variants, chosen,
                                                   following=following, price=price,
                                                   app=shop_app_url(services(context).config, shop, slot)),
                  product.photo_file_id)
    if chosen is not None and flow.data.get("variant") != chosen.id:
        await store.flows.offer(who.id, *card_flow(product, slot, chosen))
