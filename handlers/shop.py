"""Shop setup: /newshop, /myshop and switching between one's shops."""

from __future__ import annotations

from enum import StrEnum
from telegram import Update

from core import callbacks as taps
from core.links import shop_link
from core.text import TextProblem, TextRefused, accept_text
from handlers.common import (
    Actor, Context, actor, button, current_membership, forget_actor, keyboard, query_of, reply, services, show,
)
from handlers.menu import refresh_commands_for
from storage.models import Flow
from storage.shops import TooManyShops

SHOP_NAME_MAX = 64
FLOW_NEW_SHOP = "newshop"


class NewShopStep(StrEnum):
    NAME = "name"



async def new_shop(update: Update, context: Context) -> None:
    """/newshop: ask for the shop's name (unless the account owns as many shops as it may)."""
    who = await actor(update, context)
    if update.callback_query:
        await query_of(update).answer()
    limit = services(context).config.limits.shops_per_account
    if await services(context).store.shops.owned_count(who.id) >= limit:
        await reply(update, who.t("newshop.too_many", limit=limit))
        return
    await services(context).store.flows.start(who.id, FLOW_NEW_SHOP, NewShopStep.NAME)
    await reply(update, who.t("newshop.ask_name", max=SHOP_NAME_MAX))


async def on_shop_name(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The reply to "what is your shop called?"."""
    svc = services(context)
    try:
        text = accept_text(update.effective_message.text if update.effective_message else None,
                           max_length=SHOP_NAME_MAX)
    except TextRefused as exc:
        key = {TextProblem.INVISIBLE: "newshop.name_invisible",
               TextProblem.TOO_LONG: "newshop.name_too_long"}.get(exc.problem, "newshop.name_not_text")
        await reply(update, who.t(key, max=SHOP_NAME_MAX, length=exc.length))
        return
    try:
        shop = await svc.store.shops.create(who.id, text, svc.config.currency, svc.config.timezone,
                                            max_owned=svc.config.limits.shops_per_account)
    except TooManyShops as exc:  # another /newshop finished first
        await svc.store.flows.clear(who.id)
        await reply(update, who.t("newshop.too_many", limit=exc.limit))
        return
    await svc.store.users.set_current_shop(who.id, shop.id)
    await svc.store.flows.clear(who.id)
    link = shop_link(svc.bot_username, shop.slug)
    markup = keyboard([
        [button(who.t.plain("button.add_product"), taps.AddProduct())],
        [button(who.t.plain("button.my_shop"), taps.MyShop())],
    ])
    await reply(update, who.t("newshop.created", shop=shop.name, link=link), markup)
    await refresh_commands_for(context.bot, svc.store, who.user, who.t)


async def my_shop(update: Update, context: Context) -> None:
    """/myshop (or its button): the current shop's card, with a switcher for several shops."""
    who = await actor(update, context)
    if update.callback_query:
        await query_of(update).answer()
    await _show_card(update, context, who)


async def _show_card(update: Update, context: Context, who: Actor) -> None:
    svc = services(context)
    membership = await current_membership(who, context)
    if membership is None:
        markup = keyboard([[button(who.t.plain("button.open_shop"), taps.OpenShop())]])
        await reply(update, who.t("shop.none_yet"), markup)
        return
    shop = membership.shop
    counts = await svc.store.shops.counts(shop.id)
    text = who.t(
        "shop.card",
        shop=shop.name,
        link=shop_link(svc.bot_username, shop.slug),
        role=who.t("shop.role_owner" if membership.is_owner else "shop.role_staff"),
        products=counts.products,
        orders=counts.orders,
    ) + "\n" + who.t("shop.followers", followers=await svc.store.audience.follower_count(shop.id))
    others = [m for m in await svc.store.shops.memberships(who.id) if m.shop.id != shop.id]
    rows = []
    if membership.is_owner:
        rows.append([button(who.t.plain("button.add_product"), taps.AddProduct()), button(who.t.plain("button.products"), taps.ProductList(0))])
        rows.append([button(who.t.plain("button.live_board"), taps.LiveBoard())])
    rows += [[button(who.t.plain("shop.switch_to", shop=m.shop.name), taps.SwitchShop(m.shop.id))] for m in others]
    markup = keyboard(rows)
    if update.callback_query:
        await show(update, text, markup)
    else:
        await reply(update, text, markup)


async def on_switch_shop(update: Update, context: Context) -> None:
    """A "switch to shop X" button: only to a shop the user belongs to."""
    who = await actor(update, context)
    svc = services(context)
    membership = await svc.store.shops.membership(who.id, context.tap(taps.SwitchShop).shop)
    if membership is None:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await svc.store.users.set_current_shop(who.id, membership.shop.id)
    await query_of(update).answer(who.t.plain("shop.switched", shop=membership.shop.name))
    forget_actor(context)  # their current shop changed: read them again
    who = await actor(update, context)
    await _show_card(update, context, who)
