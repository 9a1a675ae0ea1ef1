"""One way to ask "who is this and may they": a member of this shop, in this role.

Every handler that acts on a shop, its products or its orders asks `shop_member` (directly, or
through `order_for_member` / `product_for`, which look the row up first). A refusal is always said:
an alert for a tap, a reply for a message, with a way to open a shop when the user has none.
"""

from __future__ import annotations

from collections.abc import Collection

from typing import Final

from telegram import Update

from core import callbacks as taps
from core.i18n import N_
from handlers.common import Actor, Context, actor, button, current_membership, keyboard, query_of, reply
from storage.models import Flow, Membership
from storage.orders import Order
from storage.products import Product


class _Current:
    def __repr__(self) -> str:
        return "CURRENT"


CURRENT: Final = _Current()  # the user's current shop (the one /myshop shows)


async def refuse(update: Update, who: Actor, key: str, *, open_shop: bool = False) -> None:
    """Say why not: an alert on a tap, a reply to a message (with "Open a shop" when asked)."""
    if update.callback_query:
        await query_of(update).answer(who.t.plain(key), show_alert=True)
        return
    markup = keyboard([[button(who.t.plain("button.open_shop"), taps.OpenShop())]]) if open_shop else None
    await reply(update, who.t(key), markup)


async def shop_member(update: Update, context: Context, shop_id: int | None | _Current = CURRENT, *,
                      owner: bool = False, not_owner: str = N_("common.not_allowed"),
                      no_shop: str = N_("catalog.no_shop")) -> Membership | None:
    """The user's membership of the shop if they are a member (the owner, with `owner`); otherwise
    the refusal is said and None. `shop_id`: the shop a button or row names (None: it named none
    we know, refused); by default the user's current shop, where having none at all is answered
    with `no_shop` and a way to open one. `not_owner`: what staff are told where only the owner may."""
    who = await actor(update, context)
    if isinstance(shop_id, _Current):
        membership = await current_membership(who, context)
    else:
        membership = await context.services.store.shops.membership(who.id, shop_id) if shop_id else None
    if membership is not None and (membership.is_owner or not owner):
        return membership
    if membership is not None:
        await refuse(update, who, not_owner)
    elif isinstance(shop_id, _Current):
        await refuse(update, who, no_shop, open_shop=True)
    else:
        await refuse(update, who, N_("common.not_allowed"))
    return None


async def order_for_member(update: Update, context: Context, order_id: int | None) -> tuple[Order, Membership] | None:
    """The order, if the user is the owner or staff of its shop; otherwise refused and None."""
    order = await context.services.store.orders.get(order_id) if order_id else None
    if order is None:
        await refuse(update, await actor(update, context), N_("common.not_allowed"))
        return None
    membership = await shop_member(update, context, order.shop_id)
    return None if membership is None else (order, membership)


async def product_for(update: Update, context: Context, product_id: int | None, *,
                      manage: bool) -> tuple[Product, Membership] | None:
    """The product, if the user is its shop's owner (or staff, only to view it); a deleted one is
    refused as gone."""
    product = await context.services.store.products.get(product_id) if product_id else None
    if product is None:
        await refuse(update, await actor(update, context), N_("common.not_allowed"))
        return None
    membership = await shop_member(update, context, product.shop_id, owner=manage)
    if membership is None:
        return None
    if product.deleted:
        await refuse(update, await actor(update, context), N_("catalog.product_gone"))
        return None
    return product, membership


async def product_of_flow(update: Update, context: Context, who: Actor, flow: Flow
                          ) -> tuple[Product, Membership] | None:
    """The product a merchant's typed-input conversation is about (an edit, a variant, a ship
    date), if they may still manage it; otherwise they are told why and the conversation ends."""
    found = await product_for(update, context, flow.data.get("product"), manage=True)
    if found is None:
        await context.services.store.flows.clear(who.id)
    return found


async def owner_step_of_tap(update: Update, context: Context, steps: Collection[str], *,
                            not_owner: str) -> tuple[Membership, str] | None:
    """A settings button "<action>:<shop>:<step>" (/settings, /shipping, /claims): the shop, if the
    user owns it, and the step, if it is one of `steps`; the tap is answered either way, and None
    when it is refused (stale or forged data, or not the owner: `not_owner` says why)."""
    who = await actor(update, context)
    tap = context.tap(taps.AskStep)
    shop_id, step = tap.shop, tap.step
    if step not in steps:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return None
    membership = await shop_member(update, context, shop_id, owner=True, not_owner=not_owner)
    if membership is None:
        return None
    await query_of(update).answer()
    return membership, step
