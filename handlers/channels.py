"""The shop's channel and group: connect them, post product cards and the live board there.

When someone makes the bot an administrator of a group or channel, Telegram says so (a
my_chat_member update); the bot asks that person, privately, which of their shops it belongs to,
and only they can connect it. From a product's view or the live board the owner then posts a card
(or the whole board) there, with buttons that open the bot on that product or link (t.me deep
links: buying happens in private). Posted cards follow the shop: a job re-renders each post of
the last week and edits those whose price, stock, deal or pre-sale changed, at most
`EDITS_PER_CHAT_PER_MINUTE` edits a chat a minute (Telegram allows a group about 20 messages a
minute): a post changed many times between two runs gets one edit showing where it ended up.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict, deque

from telegram import Bot, Update
from telegram.error import BadRequest, RetryAfter, TelegramError

from core import callbacks as taps
from core.i18n import Translator, translator
from core.links import product_link, slot_link
from handlers.common import (
    Actor, Context, Services, actor, button, keyboard, opens_app, query_of, reply, services, translator_for,
)
from handlers.guards import product_for, shop_member
from handlers.landing import buyer_card_text, card_photo, card_variants_of
from handlers.live_board import board_lines
from storage.channels import KEEP_POSTS_SECONDS, ChatPost
from storage.models import Shop
from storage.products import Product

log = logging.getLogger(__name__)

EDITS_PER_CHAT_PER_MINUTE = 18  # under Telegram's ~20 a minute for a group, room for a new post
REFRESH_SECONDS = 15.0
ADMIN = "administrator"
LEFT = ("left", "kicked")
SLOT_BUTTONS_PER_ROW = 5


# ---------------------------------------------------------------- connecting a chat

async def on_my_chat_member(update: Update, context: Context) -> None:
    """The bot was made an administrator of a group or channel (or removed from one)."""
    changed = update.my_chat_member
    if changed is None or changed.chat.type not in ("group", "supergroup", "channel"):
        return
    store = services(context).store
    status = changed.new_chat_member.status
    chat = changed.chat
    if status in LEFT:
        await store.chats.removed(chat.id)
        return
    if status != ADMIN:
        return  # a plain member of a group cannot edit its posts or see comments: nothing to connect
    who = await actor(update, context)
    await store.chats.added(chat.id, chat.title or str(chat.id), chat.type, who.id)
    owned = [m.shop for m in await store.shops.memberships(who.id) if m.is_owner]
    t = who.t
    if not owned:
        text, markup = t("chats.added_no_shop", title=chat.title or ""), None
    else:
        text = t("chats.ask_shop", title=chat.title or "")
        markup = keyboard([[button(t.plain("chats.button_connect", shop=shop.name), taps.ConnectChat(chat.id, shop.id))]
                           for shop in owned])
    try:  # in the private chat of who added the bot (they may never have started it)
        await context.bot.do_api_request("sendMessage", api_kwargs={
            "chat_id": who.id, "text": text, "parse_mode": "HTML", "reply_markup": markup})
    except TelegramError as exc:
        log.info("could not ask user %d which shop chat %d belongs to: %s", who.id, chat.id, exc)


async def on_connect(update: Update, context: Context) -> None:
    """Connect to <shop>: only who added the bot, and only to a shop they own."""
    who = await actor(update, context)
    tap = context.tap(taps.ConnectChat)
    store = services(context).store
    chat = await store.chats.get(tap.chat)
    membership = await shop_member(update, context, tap.shop, owner=True)
    if membership is None:
        return
    if chat is None or chat.removed or chat.added_by != who.id:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    await store.chats.connect(chat.chat_id, membership.shop.id)
    await query_of(update).answer()
    await reply(update, who.t("chats.connected", title=chat.title, shop=membership.shop.name))


# ---------------------------------------------------------------- posting

async def on_post_product(update: Update, context: Context) -> None:
    """📣 Post to the channel/group, on a product's view."""
    who = await actor(update, context)
    found = await product_for(update, context, context.tap(taps.PostProduct).product, manage=True)
    if found is None:
        return
    product, membership = found
    await query_of(update).answer()
    await _post(update, context, who, membership.shop, product)


async def on_post_board(update: Update, context: Context) -> None:
    """📣 Post the board, on the live board."""
    who = await actor(update, context)
    membership = await shop_member(update, context, owner=True)
    if membership is None:
        return
    await query_of(update).answer()
    await _post(update, context, who, membership.shop, None)


async def _post(update: Update, context: Context, who: Actor, shop: Shop, product: Product | None) -> None:
    svc = services(context)
    chats = await svc.store.chats.of_shop(shop.id)
    if not chats:
        await reply(update, who.t("chats.none"))
        return
    t = await _owner_t(svc, shop)
    posted = []
    for chat in chats:
        rendered = await render_post(svc, t, shop, product)
        if rendered is None:
            await reply(update, who.t("chats.nothing_to_post"))
            return
        method, params, shown = rendered
        try:
            sent = await update.get_bot().do_api_request(method, api_kwargs={"chat_id": chat.chat_id, **params})
        except TelegramError as exc:
            log.info("could not post to chat %d: %s", chat.chat_id, exc)
            await reply(update, who.t("chats.post_failed", title=chat.title))
            continue
        await svc.store.chats.posted(chat.chat_id, sent["message_id"], shop.id, product.id if product else None,
                                     method == "sendPhoto", shown)
        posted.append(chat.title)
    if posted:
        await reply(update, who.t("chats.posted", titles=", ".join(posted)))


async def _owner_t(svc: Services, shop: Shop) -> Translator:
    """Posts speak the owner's language (the chat's readers are the shop's followers)."""
    owner = await svc.store.users.get(shop.owner_id)
    return translator_for(owner, svc.config) if owner is not None else translator(svc.config.language)


async def render_post(svc: Services, t: Translator, shop: Shop, product: Product | None
                      ) -> tuple[str, dict, str] | None:
    """(method, parameters, what it shows) of a post as things stand now; None when there is
    nothing to show (a product gone, an empty board)."""
    if product is not None:
        product = await svc.store.products.get(product.id)
        if product is None or not product.on_sale:
            return None
        variants, chosen = await card_variants_of(svc.store, product)
        text = buyer_card_text(t, product, shop, variants, chosen, await svc.store.deals.price_now(product))
        link = product_link(svc.bot_username, shop.slug, product.id, app=opens_app(svc, shop))
        markup = keyboard([[url_button(t.plain("chats.button_buy"), link)]])
        photo = card_photo(product, chosen)
        shown = json.dumps([text, markup], ensure_ascii=False, sort_keys=True)
        if photo:
            return "sendPhoto", {"photo": photo, "caption": text, "parse_mode": "HTML", "reply_markup": markup}, shown
        return "sendMessage", {"text": text, "parse_mode": "HTML", "reply_markup": markup}, shown
    lines, slots = await board_lines(svc.store, t, shop)
    if not slots:
        return None
    text = "\n".join([t("chats.board_title", shop=shop.name), *lines, "", t("chats.board_hint")])
    links = [url_button(str(slot), slot_link(svc.bot_username, shop.slug, slot, app=opens_app(svc, shop)))
             for slot in slots]
    markup = keyboard([links[i:i + SLOT_BUTTONS_PER_ROW] for i in range(0, len(links), SLOT_BUTTONS_PER_ROW)])
    return "sendMessage", {"text": text, "parse_mode": "HTML", "reply_markup": markup}, \
        json.dumps([text, markup], ensure_ascii=False, sort_keys=True)


def url_button(text: str, url: str) -> dict:
    return {"text": text, "url": url}


# ---------------------------------------------------------------- keeping posts up to date

class PostRefresher:
    """The job that edits posted cards as the shop changes, within each chat's edit budget."""

    def __init__(self, svc: Services, bot: Bot) -> None:
        self._svc = svc
        self._bot = bot
        self._edits: dict[int, deque[float]] = defaultdict(deque)  # chat -> times of its recent edits
        self._paused: dict[int, float] = {}  # chat -> until when Telegram asked us to wait

    async def run(self, now: float | None = None) -> None:
        now = time.time() if now is None else now
        store = self._svc.store
        shops: dict[int, tuple[Shop, Translator]] = {}
        for post in await store.chats.live_posts(now - KEEP_POSTS_SECONDS):
            if self._paused.get(post.chat_id, 0) > now or not self._may_edit(post.chat_id, now):
                continue
            if post.shop_id not in shops:
                shop = await store.shops.get(post.shop_id)
                if shop is None:
                    continue
                shops[post.shop_id] = (shop, await _owner_t(self._svc, shop))
            shop, t = shops[post.shop_id]
            product = await store.products.get(post.product_id) if post.product_id else None
            if post.product_id and product is None:
                continue
            rendered = await render_post(self._svc, t, shop, product)
            if rendered is None:
                rendered = self._gone(t, post)
            _method, params, shown = rendered
            if shown != post.shown:
                await self._edit(post, params, shown, now)

    def _gone(self, t: Translator, post: ChatPost) -> tuple[str, dict, str]:
        text = t("chats.post_gone")
        return "sendMessage", {"text": text, "parse_mode": "HTML", "reply_markup": None}, \
            json.dumps([text, None], ensure_ascii=False, sort_keys=True)

    def _may_edit(self, chat_id: int, now: float) -> bool:
        recent = self._edits[chat_id]
        while recent and recent[0] <= now - 60:
            recent.popleft()
        return len(recent) < EDITS_PER_CHAT_PER_MINUTE

    async def _edit(self, post: ChatPost, params: dict, shown: str, now: float) -> None:
        where = {"chat_id": post.chat_id, "message_id": post.message_id, "parse_mode": "HTML",
                 "reply_markup": params.get("reply_markup")}
        body = params.get("caption", params.get("text"))
        method, field = ("editMessageCaption", "caption") if post.captioned else ("editMessageText", "text")
        self._edits[post.chat_id].append(now)
        try:
            await self._bot.do_api_request(method, api_kwargs={**where, field: body})
        except RetryAfter as exc:
            retry = exc.retry_after if isinstance(exc.retry_after, (int, float)) else exc.retry_after.total_seconds()
            self._paused[post.chat_id] = now + float(retry)
            return
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                await self._svc.store.chats.edited(post.chat_id, post.message_id, shown)
            elif "not found" in str(exc).lower():  # deleted in the chat
                await self._svc.store.chats.forget_post(post.chat_id, post.message_id)
            else:
                log.info("could not edit post %d in chat %d: %s", post.message_id, post.chat_id, exc)
            return
        except TelegramError as exc:
            log.info("could not edit post %d in chat %d: %s", post.message_id, post.chat_id, exc)
            return
        await self._svc.store.chats.edited(post.chat_id, post.message_id, shown)

