"""Ordering from the shop's group during a live: a viewer comments "1", "1 x2" or "链接1 2份".

The bot answers in the group once per burst (BURST_SECONDS after the first order of a quiet
moment), naming every viewer who ordered in it and giving a button per link and quantity that
opens the bot on that link with the units ready (buying, address and payment happen in private,
as ever). Telegram lets a bot send a group about 20 messages a minute; one reply per burst keeps
a busy live under it however many comment. A viewer who has started the bot before also gets
the product card privately, the quantity set, one tap from Buy now. A comment that is not an
order is left alone.

The burst lives in memory: a restart in the three seconds between a comment and its reply loses
that reply (the viewer can still tap the live's links); the private cards go through the outbox.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from html import escape

from telegram import Bot, Update

from core.comment_orders import parse_comment
from core.i18n import Translator, translator
from core.links import slot_quantity_link
from core.telegram_text import TEXT_LIMIT, visible_length
from handlers.channels import url_button
from handlers.common import Context, Services, keyboard, services, translator_for
from handlers.landing import buyer_card_buttons, buyer_card_text, card_variants_of, shop_app_url
from storage.models import Shop
from storage.outbox import Outgoing, Priority

log = logging.getLogger(__name__)

BURST_SECONDS = 3.0  # at most one reply to a group per 3 s: 20 a minute
MENTIONS_MAX = 60  # viewers named in one reply; a bigger burst says how many more


@dataclass
class _Burst:
    shop: Shop
    orders: list[tuple[int, str, int, int]] = field(default_factory=list)  # (user, name, link, units)
    task: asyncio.Task[None] | None = None


class CommentOrders:
    """The bursts waiting for their reply, per group (kept in the application's bot_data)."""

    def __init__(self, svc: Services, bot: Bot, burst_seconds: float = BURST_SECONDS) -> None:
        self._svc = svc
        self._bot = bot
        self._burst_seconds = burst_seconds
        self._bursts: dict[int, _Burst] = {}
        self.replies: dict[int, int] = defaultdict(int)  # group -> replies sent (for the tests and metrics)

    def add(self, chat_id: int, shop: Shop, user_id: int, name: str, slot: int, quantity: int) -> None:
        burst = self._bursts.get(chat_id)
        if burst is None:
            burst = self._bursts[chat_id] = _Burst(shop)
            burst.task = asyncio.create_task(self._reply_later(chat_id), name=f"comment-orders-{chat_id}")
        burst.orders.append((user_id, name, slot, quantity))

    async def _reply_later(self, chat_id: int) -> None:
        await asyncio.sleep(self._burst_seconds)
        await self.flush(chat_id)

    async def flush_all(self) -> None:
        """Reply to every burst now (stopping, or a test that does not wait)."""
        for chat_id in list(self._bursts):
            burst = self._bursts.get(chat_id)
            if burst is not None and burst.task is not None:
                burst.task.cancel()
            await self.flush(chat_id)

    async def flush(self, chat_id: int) -> None:
        burst = self._bursts.pop(chat_id, None)
        if burst is None or not burst.orders:
            return
        t = await self._owner_t(burst.shop)
        text, markup = reply_of(t, burst.shop, burst.orders, self._svc.bot_username)
        try:
            await self._bot.do_api_request("sendMessage", api_kwargs={
                "chat_id": chat_id, "text": text, "parse_mode": "HTML", "reply_markup": markup,
                "link_preview_options": {"is_disabled": True}})
            self.replies[chat_id] += 1
        except Exception:  # noqa: BLE001 - a failed group reply must not lose the private cards
            log.exception("could not answer the orders in group %d", chat_id)
        await self._private_cards(burst)

    async def _owner_t(self, shop: Shop) -> Translator:
        owner = await self._svc.store.users.get(shop.owner_id)
        return translator_for(owner, self._svc.config) if owner is not None else translator(self._svc.config.language)

    async def _private_cards(self, burst: _Burst) -> None:
        """The product card, quantity set, to each viewer who started the bot (through the outbox)."""
        store = self._svc.store
        shop = burst.shop
        messages = []
        for user_id, _name, slot, quantity in _last_per_viewer(burst.orders):
            user = await store.users.get(user_id)
            product_id = await store.live.product_on(shop.id, slot)
            product = await store.products.get(product_id) if product_id else None
            if user is None or user.blocked_at or product is None or not product.on_sale:
                continue
            t = translator_for(user, self._svc.config)
            variants, chosen = await card_variants_of(store, product, None, slot)
            price = await store.deals.price_now(product)
            text = t("comments.private_intro", shop=shop.name) + "\n\n" + \
                buyer_card_text(t, product, shop, variants, chosen, price)
            messages.append(Outgoing(user_id, "sendMessage", {
                "text": text, "parse_mode": "HTML",
                "reply_markup": buyer_card_buttons(t, product, shop, quantity, slot, variants, chosen, price=price,
                                                   app=shop_app_url(self._svc.config, shop, slot))},
                priority=Priority.ANSWER))
        if messages:
            async with store.transaction() as tx:
                for message in messages:
                    await store.outbox.enqueue(tx, message)


def _last_per_viewer(orders: list[tuple[int, str, int, int]]) -> list[tuple[int, str, int, int]]:
    """One private card per viewer and link: their last comment for it."""
    last: dict[tuple[int, int], tuple[int, str, int, int]] = {}
    for order in orders:
        last[(order[0], order[2])] = order
    return list(last.values())


def reply_of(t: Translator, shop: Shop, orders: list[tuple[int, str, int, int]], bot_username: str
             ) -> tuple[str, dict]:
    """The group reply of a burst: who ordered what, and a button per link and quantity."""
    by_pick: dict[tuple[int, int], list[str]] = {}
    for user_id, name, slot, quantity in _last_per_viewer(orders):
        by_pick.setdefault((slot, quantity), []).append(f'<a href="tg://user?id={user_id}">{escape(name)}</a>')
    lines = [t("comments.reply_title")]
    named = 0
    for (slot, quantity), people in sorted(by_pick.items()):
        shown = people[:max(0, MENTIONS_MAX - named)]
        named += len(shown)
        more = len(people) - len(shown)
        line = t("comments.reply_line", slot=slot, quantity=quantity, count=len(people)) + " " + ", ".join(shown)
        if more:
            line += " " + t.plain("comments.reply_more", count=more)
        lines.append(line)
    lines.append(t("comments.reply_hint"))
    text = "\n".join(lines)
    while visible_length(text) > TEXT_LIMIT and len(lines) > 2:  # never too long to send
        lines.pop(-2)
        text = "\n".join(lines)
    buttons = [url_button(t.plain("comments.button_order", slot=slot, quantity=quantity),
                          slot_quantity_link(bot_username, shop.slug, slot, quantity))
               for slot, quantity in sorted(by_pick)]
    return text, keyboard([buttons[i:i + 2] for i in range(0, min(len(buttons), 20), 2)])


async def on_group_message(update: Update, context: Context) -> None:
    """A message in a group: an order when the group is a shop's and the text reads as one."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or user.is_bot or not message.text:
        return
    picked = parse_comment(message.text)
    if picked is None:
        return
    svc = services(context)
    chat = await svc.store.chats.get(message.chat_id)
    if chat is None or chat.shop_id is None or chat.removed:
        return
    shop = await svc.store.shops.get(chat.shop_id)
    if shop is None:
        return
    batcher = context.bot_data.get("comment_orders")
    if batcher is None:
        batcher = context.bot_data["comment_orders"] = CommentOrders(svc, context.bot)
    name = f"@{user.username}" if user.username else (user.first_name or str(user.id))
    batcher.add(message.chat_id, shop, user.id, name, *picked)
