"""/admin for the bot's operators (`bot.admins` in the config): find a shop or an order, suspend
and resume a shop or a user with a reason (storage/operator.py); without these words /admin is the
all-shops summary (handlers/summaries.py). To anyone else the command does not exist."""

from __future__ import annotations

from telegram import Update

from core.text import shorten
from handlers import order_card, summaries
from handlers.common import Context, actor, reply, translator_for
from storage.models import Shop
from storage.outbox import Outgoing

WORDS = ("shop", "order", "suspend", "resume", "log")
REASON_MAX = 200


async def admin_command(update: Update, context: Context) -> None:
    who = await actor(update, context)
    args = context.args or []
    if who.id not in context.services.config.admins or not args or args[0].lower() not in WORDS:
        await summaries.admin_command(update, context)  # the summary, or "unknown command" to others
        return
    word, rest = args[0].lower(), args[1:]
    if word == "shop" and len(rest) == 1:
        await _show_shop(update, context, rest[0])
    elif word == "order" and len(rest) == 2 and rest[1].lstrip("#").isdigit():
        await _show_order(update, context, rest[0], int(rest[1].lstrip("#")))
    elif word in ("suspend", "resume") and len(rest) >= 2 and rest[0].lower() in ("shop", "user"):
        reason = shorten(" ".join(rest[2:]), REASON_MAX) if word == "suspend" else None
        if word == "suspend" and not reason:
            await reply(update, who.t("admin.reason_needed"))
        elif rest[0].lower() == "shop":
            await _shop_suspension(update, context, rest[1], reason, suspend=word == "suspend")
        else:
            await _user_suspension(update, context, rest[1], reason, suspend=word == "suspend")
    elif word == "log":
        actions = await context.services.store.operator.log()
        lines = [who.t("admin.log_line", time=who.t.time(a.at, context.services.config.timezone), admin=a.admin_id,
                       action=a.action, target=a.target, reason=a.reason or "—") for a in actions]
        await reply(update, "\n".join(lines) if lines else who.t("admin.log_empty"))
    else:
        await reply(update, who.t("admin.usage"))


async def _find_shop(context: Context, text: str) -> Shop | None:
    store = context.services.store
    shop = await store.shops.by_slug(text)
    if shop is None and text.isdigit() and len(text) < 19:
        shop = await store.shops.get(int(text))
    return shop


async def _shop_or_say(update: Update, context: Context, text: str) -> Shop | None:
    """The shop named by its link name or id; or None, having said none is called that."""
    shop = await _find_shop(context, text)
    if shop is None:
        who = await actor(update, context)
        await reply(update, who.t("admin.shop_not_found", text=shorten(text, 40)))
    return shop


async def _show_shop(update: Update, context: Context, text: str) -> None:
    who = await actor(update, context)
    store = context.services.store
    shop = await _shop_or_say(update, context, text)
    if shop is None:
        return
    owner = await store.users.get(shop.owner_id)
    counts = await store.shops.counts(shop.id)
    reason = await store.operator.shop_suspension(shop.id)
    await reply(update, who.t("admin.shop_info", name=shop.name, slug=shop.slug, id=shop.id,
                              owner=owner.first_name if owner else "?", owner_id=shop.owner_id,
                              products=counts.products, orders=counts.orders)
                + "\n" + (who.t("admin.shop_suspended_state", reason=reason) if reason else who.t("admin.shop_open")))


async def _show_order(update: Update, context: Context, text: str, number: int) -> None:
    who = await actor(update, context)
    store = context.services.store
    shop = await _find_shop(context, text)
    order = (await store.orders.by_number_list(shop.id, [number])).get(number) if shop else None
    if shop is None or order is None:
        await reply(update, who.t("admin.order_not_found", shop=shorten(text, 40), number=number))
        return
    card_text, _buttons = order_card.card(who.t, order, shop, await store.users.get(order.buyer_id))
    await reply(update, card_text)  # the operator reads it; the desk's buttons are the shop's


async def _shop_suspension(update: Update, context: Context, text: str, reason: str | None, *,
                           suspend: bool) -> None:
    who = await actor(update, context)
    store = context.services.store
    shop = await _shop_or_say(update, context, text)
    if shop is None:
        return
    if suspend:
        assert reason is not None
        changed = await store.operator.suspend_shop(shop.id, who.id, reason)
    else:
        changed = await store.operator.resume_shop(shop.id, who.id)
    if not changed:
        await reply(update, who.t("admin.already_suspended" if suspend else "admin.not_suspended", name=shop.name))
        return
    owner = await store.users.get(shop.owner_id)
    if owner is not None and not owner.blocked_at:  # the owner hears it, in their language
        t = translator_for(owner, context.services.config)
        text = t("admin.owner_told_suspended", name=shop.name, reason=reason) if suspend else \
            t("admin.owner_told_resumed", name=shop.name)
        await store.outbox.send_later(Outgoing(owner.id, "sendMessage", {"text": text, "parse_mode": "HTML"}))
    await reply(update, who.t("admin.shop_suspended" if suspend else "admin.shop_resumed", name=shop.name))


async def _user_suspension(update: Update, context: Context, text: str, reason: str | None, *,
                           suspend: bool) -> None:
    who = await actor(update, context)
    store = context.services.store
    user_id = int(text) if text.isdigit() and len(text) < 19 else None
    if user_id is None:
        await reply(update, who.t("admin.usage"))
        return
    if suspend and user_id in context.services.config.admins:
        await reply(update, who.t("admin.cannot_suspend_admin"))
        return
    if suspend:
        assert reason is not None
        changed = await store.operator.suspend_user(user_id, who.id, reason)
    else:
        changed = await store.operator.resume_user(user_id, who.id)
    key = ("admin.user_suspended" if suspend else "admin.user_resumed") if changed else \
        ("admin.already_suspended" if suspend else "admin.not_suspended")
    await reply(update, who.t(key, name=str(user_id)))
