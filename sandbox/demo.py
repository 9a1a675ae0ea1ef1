"""The demo shop: opened through the bot itself, as a merchant would, so the demo runs real code.

The merchant persona sends /newshop and the shop's name, then for each product a photo captioned
"Name, price, stock" (the catalog's quick add) and taps "Put on next free link" on the card the bot
answers with. Last, it starts a live session and shows the live board. Every step waits for the
bot's answer and checks it, so a change in the bot that breaks the demo says where.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from faketg import FakeMessage, FakeTelegram, FakeUser
from runtime.livecart import Livecart
from sandbox.pictures import SAMPLES, product_picture

log = logging.getLogger(__name__)

DEMO_SHOP_NAME = "青山果园 Green Hill Farm"
DEMO_PRODUCTS = ("oranges", "kiwifruit", "cured_pork", "tea")
LIVE_TITLE = "周末直播 Weekend live"
STEP_TIMEOUT = 30.0


class DemoError(Exception):
    """The bot did not answer a step of the demo set-up as expected."""


@dataclass(frozen=True)
class DemoShop:
    name: str
    slug: str
    created: bool  # False: the merchant already had it (pressing the button twice is harmless)


async def bot_idle(tg: FakeTelegram, bot: Livecart, timeout: float = STEP_TIMEOUT) -> None:
    """Wait until the bot has fetched and handled every update sent so far."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if tg.pending_updates() == 0 and bot.pipeline is not None and not bot.pipeline.busy:
            await bot.pipeline.idle()
            return
        await asyncio.sleep(0.01)
    raise DemoError(f"the bot did not handle its updates within {timeout:.0f} s")


async def _expect(tg: FakeTelegram, bot: Livecart, user: FakeUser, what: str,
                  found: Callable[[list[FakeMessage]], FakeMessage | None]) -> FakeMessage:
    """The bot's answer `found` picks among the merchant's newest messages, waiting for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + STEP_TIMEOUT
    while True:
        await bot_idle(tg, bot)
        message = found(user.chat.bot_messages[-6:])
        if message is not None:
            return message
        if loop.time() > deadline:
            last = user.last
            raise DemoError(f"demo shop: expected {what}, but the bot's last message is: {last}")
        await asyncio.sleep(0.05)


def _with_action(action: str) -> Callable[[list[FakeMessage]], FakeMessage | None]:
    """The newest message with a button whose callback data starts with `action`."""
    def find(messages: list[FakeMessage]) -> FakeMessage | None:
        for message in reversed(messages):
            for row in message.buttons:
                for text in row:
                    data = message.button(text).get("callback_data", "")
                    if data == action or data.startswith(action + ":"):
                        return message
        return None
    return find


def _button_text(message: FakeMessage, action: str) -> str:
    for row in message.buttons:
        for text in row:
            data = message.button(text).get("callback_data", "")
            if data == action or data.startswith(action + ":"):
                return text
    raise DemoError(f"demo shop: no {action} button on {message}")


async def _existing(bot: Livecart, merchant: FakeUser) -> DemoShop | None:
    assert bot.store is not None
    for membership in await bot.store.shops.memberships(merchant.id):
        if membership.is_owner and membership.shop.name == DEMO_SHOP_NAME:
            return DemoShop(membership.shop.name, membership.shop.slug, created=False)
    return None


def _last_id(user: FakeUser) -> int:
    return user.chat.all_messages[-1].message_id if user.chat.all_messages else 0


def _newer(mark: int, find: Callable[[list[FakeMessage]], FakeMessage | None] | None = None
           ) -> Callable[[list[FakeMessage]], FakeMessage | None]:
    """Among messages newer than `mark`: the one `find` picks, or by default the first."""
    def pick(messages: list[FakeMessage]) -> FakeMessage | None:
        fresh = [m for m in messages if m.message_id > mark]
        if find is not None:
            return find(fresh)
        return fresh[0] if fresh else None
    return pick


async def open_demo_shop(tg: FakeTelegram, bot: Livecart, merchant: FakeUser) -> DemoShop:
    """Open the demo shop as `merchant`, through the bot; returns it (or the one already open)."""
    existing = await _existing(bot, merchant)
    if existing is not None:
        return existing
    pictures = await asyncio.to_thread(lambda: {key: product_picture(key) for key in DEMO_PRODUCTS})

    mark = _last_id(merchant)
    await merchant.send("/newshop")
    await _expect(tg, bot, merchant, "the question for the shop's name", _newer(mark))
    mark = _last_id(merchant)
    await merchant.send(DEMO_SHOP_NAME)
    await _expect(tg, bot, merchant, "the new shop's card", _newer(mark, _with_action("cat.add")))
    shop = await _existing(bot, merchant)
    if shop is None:
        raise DemoError("demo shop: the bot answered, but no shop was opened")

    for key in DEMO_PRODUCTS:
        title = SAMPLES[key].title
        mark = _last_id(merchant)
        await merchant.send_photo(pictures[key], caption=SAMPLES[key].caption)
        card = await _expect(tg, bot, merchant, f"the card of {title}", _newer(mark, _with_action("live.next")))
        mark = _last_id(merchant)
        await merchant.tap(_button_text(card, "live.next"), card)
        await _expect(tg, bot, merchant, f"{title} on a live link", _newer(mark, _with_action("live.board")))

    mark = _last_id(merchant)
    await merchant.send(f"/live start {LIVE_TITLE}")
    await _expect(tg, bot, merchant, "the live session to start", _newer(mark))
    mark = _last_id(merchant)
    await merchant.send("/live")
    await _expect(tg, bot, merchant, "the live board", _newer(mark, _with_action("live.slot")))
    log.info("demo shop %r is open (slug %s)", shop.name, shop.slug)
    return DemoShop(shop.name, shop.slug, created=True)
