"""Following shops and going-live alerts to their followers.

A buyer follows a shop with one tap on its product card, its catalog (the shop's link) or an
order's receipt, and unfollows with the same button; /following lists the shops they follow.
When the owner starts a live session they choose whether to tell the followers: one message per
follower, in their language, queued as BULK so buyers' answers and owners' notices go first.
"""

from __future__ import annotations

from telegram import Update

from core import callbacks as taps
from core.i18n import Translator, language_for, translator
from core.links import shop_link, slot_link
from core.text import shorten
from handlers.common import (
    Context, actor, button, keyboard, opens_app, query_of, reply, services, session_title, set_buttons, show,
    tapped_message,
)
from storage.outbox import Outgoing, Priority

ALERT_LINKS = 3  # buttons for the first links in an alert
ALERT_NAME_MAX = 24


def follow_button(t: Translator, shop_id: int, following: bool) -> dict:
    """One button that follows, or (when already following) unfollows, the shop."""
    if following:
        return button(t.plain("follow.button_unfollow"), taps.Unfollow(shop_id))
    return button(t.plain("follow.button_follow"), taps.Follow(shop_id))


def _swap_follow_button(markup: dict | None, t: Translator, shop_id: int, following: bool) -> dict | None:
    """The tapped message's keyboard with its follow button turned to the new state (None when it
    has none)."""
    if not markup:
        return None
    changed = False
    rows = []
    for row in markup.get("inline_keyboard", []):
        new_row = []
        for b in row:
            data = b.get("callback_data") or ""
            if data in (taps.Follow(shop_id).pack(), taps.Unfollow(shop_id).pack()):
                b = follow_button(t, shop_id, following)
                changed = True
            new_row.append(b)
        rows.append(new_row)
    return {"inline_keyboard": rows} if changed else None


async def on_follow(update: Update, context: Context) -> None:
    """☆ Follow / ★ Following: one tap each way; the button on the tapped message follows suit."""
    who = await actor(update, context)
    tap = context.button
    if not isinstance(tap, (taps.Follow, taps.Unfollow)):
        raise TypeError(f"on_follow got {tap!r}")
    store = services(context).store
    shop = await store.shops.get(tap.shop)
    if shop is None:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    following = isinstance(tap, taps.Follow)
    if following:
        await store.audience.follow(who.id, shop.id)
    else:
        await store.audience.unfollow(who.id, shop.id)
    await query_of(update).answer(
        who.t.plain("follow.followed" if following else "follow.unfollowed", shop=shop.name))
    message = tapped_message(update)
    if message is None:
        return
    if message.reply_markup is not None:
        markup = _swap_follow_button(message.reply_markup.to_dict(), who.t, shop.id, following)
        if markup is not None and markup != message.reply_markup.to_dict():
            await set_buttons(update, markup)
    if (message.text or "").startswith(who.t.plain("follow.list_title")):
        await _show_following(update, context, edit=True)


async def following_command(update: Update, context: Context) -> None:
    """/following: the shops the user follows, each with its catalog and an unfollow button."""
    await _show_following(update, context, edit=False)


async def _show_following(update: Update, context: Context, *, edit: bool) -> None:
    who = await actor(update, context)
    shops = await services(context).store.audience.followed_shops(who.id)
    t = who.t
    if not shops:
        text, markup = t("follow.list_empty"), None
    else:
        lines = [t("follow.list_title")] + [t("follow.list_line", shop=s.name) for s in shops]
        text = "\n".join(lines)
        markup = keyboard([[button(shorten(s.name, ALERT_NAME_MAX), taps.ShopCatalog(s.id, 0)),
                            follow_button(t, s.id, True)] for s in shops[:50]])
    if edit:
        await show(update, text, markup)
    else:
        await reply(update, text, markup)


# ---------------------------------------------------------------- going-live alerts

def alert_offer_button(t: Translator, session_id: int, followers: int) -> dict:
    return button(t.plain("alert.button_offer", count=followers), taps.AlertFollowers(session_id))


async def alert_messages(context: Context, shop, session) -> list[Outgoing]:
    """One message per reachable follower, in their language: the title and the first links."""
    svc = services(context)
    store = svc.store
    followers = await store.audience.followers(shop.id)
    pins = [p for p in await store.live.pins(shop.id)]
    links = []
    for pin in sorted(pins, key=lambda p: p.slot):
        product = await store.products.get(pin.product_id)
        if product is not None and product.on_sale:
            links.append((pin.slot, product.name))
        if len(links) == ALERT_LINKS:
            break
    paid = svc.config.limits.allow_paid_broadcast
    rendered: dict[str, tuple[str, dict]] = {}
    messages = []
    for follower in followers:
        t = translator(language_for(follower.language, follower.language_code, svc.config.language))
        if t.language not in rendered:
            text = t("alert.text", shop=shop.name, title=session_title(t, session.title))
            rows = [[{"text": t.plain("alert.button_link", slot=slot, name=shorten(name, ALERT_NAME_MAX)),
                      "url": slot_link(svc.bot_username, shop.slug, slot, app=opens_app(svc, shop))}]
                    for slot, name in links]
            rows.append([{"text": t.plain("alert.button_shop"),
                          "url": shop_link(svc.bot_username, shop.slug, app=opens_app(svc, shop))}])
            rendered[t.language] = (text, {"inline_keyboard": rows})
        text, markup = rendered[t.language]
        params: dict[str, object] = {"text": text, "parse_mode": "HTML", "reply_markup": markup}
        if paid:  # Telegram's paid broadcasts: their own budget (runtime/pacing.py), the bot pays in Stars
            params["allow_paid_broadcast"] = True
        messages.append(Outgoing(follower.id, "sendMessage", params, kind="alert", shop_id=shop.id,
                                 priority=Priority.PAID_BROADCAST if paid else Priority.BULK))
    return messages


async def queue_alert(context: Context, shop, session) -> int:
    """Queue the session's alert to the shop's followers; how many messages. Raises AlertRefused
    (this session was alerted already, or the shop's daily number is reached)."""
    svc = services(context)
    messages = await alert_messages(context, shop, session)
    if not messages:
        return 0
    return await svc.store.audience.send_alert(shop.id, session.id, messages,
                                               svc.config.limits.alerts_per_shop_per_day)
