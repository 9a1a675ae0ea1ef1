"""Flash deals, started by the owner on a live link: `/deal 1 29.90 15m 2`.

The deal sits on the product the link shows now. The card, Buy now's hold and the order all take
the price from one rule (core.deals.price_in_force); see core/deals.py for the end's grace.
"""

from __future__ import annotations

from telegram import Update

from core.deals import DealTermsError, is_stop_word, parse_deal_terms
from core.money import PriceError, parse_price
from handlers.common import Context, actor, reply, services
from handlers.live import live_owner
from storage.live import MAX_SLOTS



async def deal_command(update: Update, context: Context) -> None:
    """/deal <link> <price> <end: 15m and/or 100u> [per-buyer cap], /deal <link> off."""
    who = await actor(update, context)
    membership = await live_owner(update, context)
    if membership is None:
        return
    t = who.t
    shop = membership.shop
    store = services(context).store
    args = context.args or []
    if len(args) < 2:
        await reply(update, t("deal.usage"))
        return
    slot = int(args[0]) if args[0].isdigit() and 1 <= int(args[0]) <= MAX_SLOTS else None
    if slot is None:
        await reply(update, t("deal.bad_link", max=MAX_SLOTS))
        return
    product_id = await store.live.product_on(shop.id, slot)
    product = await store.products.get(product_id) if product_id else None
    if product is None or not product.on_sale:
        await reply(update, t("deal.empty_link", slot=slot))
        return
    if product.has_variants and not is_stop_word(args[1]):
        # One deal price for a product sold in several sizes would be wrong for all but one of them.
        await reply(update, t("deal.has_variants", slot=slot, name=product.name))
        return
    if is_stop_word(args[1]):
        stopped = await store.deals.stop(product.id)
        await reply(update, t("deal.stopped" if stopped else "deal.none", slot=slot, name=product.name,
                              price=t.money(product.price, shop.currency)))
        return
    try:
        price = parse_price(args[1], shop.currency)
    except PriceError:
        await reply(update, t("deal.bad_price", text=args[1]))
        return
    if price >= product.price:
        await reply(update, t("deal.not_lower", price=t.money(product.price, shop.currency)))
        return
    try:
        terms = parse_deal_terms(args[2:])
    except DealTermsError as problem:
        await reply(update, t(f"deal.terms_{problem.problem}") + "\n\n" + t("deal.usage"))
        return
    deal = await store.deals.start(shop.id, product.id, price, units=terms.units, minutes=terms.minutes,
                                   per_buyer=terms.per_buyer)
    parts = [t("deal.started", slot=slot, name=product.name, price=t.money(price, shop.currency),
               regular=t.money(product.price, shop.currency))]
    if deal.ends_at is not None:
        parts.append(t("deal.started_until", time=t.time(deal.ends_at, shop.timezone)))
    if deal.units is not None:
        parts.append(t("deal.started_units", units=deal.units))
    if deal.per_buyer is not None:
        parts.append(t("deal.started_cap", limit=deal.per_buyer))
    parts.append(t("deal.started_hint", slot=slot))
    await reply(update, "\n".join(parts))
