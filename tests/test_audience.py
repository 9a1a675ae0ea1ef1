"""The audience: following shops, and going-live alerts to the followers."""

from __future__ import annotations

import asyncio

from core.config import LimitsConfig
from runtime.outbox_sender import OutboxSender
from runtime.pacing import PAID_BROADCASTS_PER_SECOND, Pacer
from storage.outbox import Priority
from tests.harness import start_world
from tests.stories import (
    current_shop, merchant_with_shop, place_order, save_delivery, shop_with_product_on_link,
)

BOT = "https://t.me/livecart_test_bot"


async def follower_ids(world, shop) -> list[int]:
    rows = await world.store.db.fetch_all("SELECT user_id FROM follows WHERE shop_id = ? ORDER BY user_id", (shop.id,))
    return [r[0] for r in rows]


async def follow_from_card(world, buyer, shop, slot: int = 1) -> None:
    await buyer.send(f"/start l_{shop.slug}_{slot}")
    await buyer.tap("☆ Follow shop")


# ---------------------------------------------------------------- following

async def test_follow_from_the_card_turns_the_button_and_unfollow_is_the_same_tap(world):
    _ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    card = bob.last
    query = await bob.tap("☆ Follow shop")
    assert "You follow Green Hill Oranges now" in query.answer_text
    assert card.buttons[-1] == ["🏪 Shop catalog", "★ Following"]
    assert await follower_ids(world, shop) == [bob.id]
    query = await bob.tap("★ Following")
    assert "You no longer follow Green Hill Oranges" in query.answer_text
    assert card.buttons[-1] == ["🏪 Shop catalog", "☆ Follow shop"]
    assert await follower_ids(world, shop) == []


async def test_the_card_shows_following_to_a_follower(world):
    _ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await follow_from_card(world, bob, shop)
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.buttons[-1] == ["🏪 Shop catalog", "★ Following"]
    await bob.tap("+")  # the quantity edit keeps the state
    assert bob.last.buttons[-1] == ["🏪 Shop catalog", "★ Following"]


async def test_follow_from_the_shops_link(world):
    _ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start s_{shop.slug}")
    assert ["☆ Follow shop"] in bob.last.buttons
    await bob.tap("☆ Follow shop")
    assert ["★ Following"] in bob.last.buttons
    assert await follower_ids(world, shop) == [bob.id]


async def test_a_first_order_offers_following_once_and_the_receipt_follows(world):
    _ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    receipt = bob.last
    assert "Order #1001 placed" in receipt.text
    assert "Follow Green Hill Oranges to hear when they go live" in receipt.text
    assert receipt.buttons[-1][-1] == "☆ Follow shop"
    await place_order(world, bob, shop)
    second = bob.last
    assert "Order #1002 placed" in second.text
    assert "to hear when they go live" not in second.text  # offered once
    await bob.tap("☆ Follow shop", second)
    assert second.buttons[-1][-1] == "★ Following"
    await place_order(world, bob, shop)
    assert bob.last.buttons[-1][-1] == "★ Following"


async def test_following_lists_the_shops_and_unfollows_from_there(world):
    _ann, shop, _ = await shop_with_product_on_link(world)
    cat = await merchant_with_shop(world, "Cat", shop="Tea Hill")
    tea_shop = await current_shop(world, cat)
    bob = world.user("Bob")
    await follow_from_card(world, bob, shop)
    await bob.send(f"/start s_{tea_shop.slug}")
    await bob.tap("☆ Follow shop")
    await bob.send("/following")
    listing = bob.last
    assert "Shops you follow" in listing.text
    assert "• Green Hill Oranges" in listing.text and "• Tea Hill" in listing.text
    assert listing.buttons == [["Green Hill Oranges", "★ Following"], ["Tea Hill", "★ Following"]]
    await bob.tap("★ Following", listing)
    assert "Green Hill Oranges" not in bob.last.text and "• Tea Hill" in bob.last.text
    await bob.tap("★ Following", bob.last)
    assert "don't follow any shop yet" in bob.last.text


async def test_following_in_chinese(world):
    _ann, shop, _ = await shop_with_product_on_link(world)
    li = world.user("李", language_code="zh-hans")
    await li.send(f"/start l_{shop.slug}_1")
    query = await li.tap("☆ 关注店铺")
    assert "已关注Green Hill Oranges" in query.answer_text
    await li.send("/following")
    assert "你关注的店铺" in li.last.text and li.last.buttons == [["Green Hill Oranges", "★ 已关注"]]


async def test_the_owner_sees_the_follower_count_in_myshop_and_the_summary(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    for name in ("Bob", "Cy"):
        await follow_from_card(world, world.user(name), shop)
    await ann.send("/myshop")
    assert "Followers: 2" in ann.last.text
    await ann.send("/summary today")
    summary = [m.text or m.caption or "" for m in ann.chat.messages if "Followers" in (m.text or m.caption or "")]
    assert summary and "⭐ Followers: 2" in summary[-1]


# ---------------------------------------------------------------- going-live alerts

async def test_live_start_offers_to_tell_followers_each_in_their_language_with_the_first_links(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, li = world.user("Bob"), world.user("李", language_code="zh-hans")
    await follow_from_card(world, bob, shop)
    await li.send(f"/start l_{shop.slug}_1")
    await li.tap("☆ 关注店铺")
    await ann.send("/live start Spring sale")
    offer = ann.last
    assert "Tell your followers you are live?" in offer.text and "Each of the 2" in offer.text
    assert offer.buttons == [["📣 Tell followers (2)"]]
    query = await ann.tap("📣 Tell followers (2)")
    assert "2 messages queued" in query.answer_text
    alert = bob.last
    assert alert.text == "🔴 Green Hill Oranges is live now “Spring sale”! Tap a link to see it and order."
    assert alert.buttons == [["Link 1 · Oranges"], ["🏪 Shop catalog"]]
    assert alert.button("Link 1 · Oranges")["url"] == f"{BOT}?start=l_{shop.slug}_1"
    assert li.last.text == "🔴 Green Hill Oranges正在直播「Spring sale」！点链接查看并下单。"
    assert li.last.buttons == [["链接1 · Oranges"], ["🏪 店铺商品"]]
    assert world.tg.paid_broadcasts == 0  # off unless the operator allows it


async def test_the_owner_chooses_each_time_and_no_offer_without_followers(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/live start")
    assert "Live session started" in ann.last.text  # no offer: nobody follows
    await ann.send("/live end")
    bob = world.user("Bob")
    await follow_from_card(world, bob, shop)
    before = len(bob.chat.messages)
    await ann.send("/live start")
    assert ann.last.buttons == [["📣 Tell followers (1)"]]
    await ann.send("/live end")  # the owner did not tap it: nobody is told
    assert len(bob.chat.messages) == before


async def test_an_alert_goes_once_per_session_and_a_few_times_a_day(tmp_path):
    world = await start_world(tmp_path)
    try:
        ann, shop, _ = await shop_with_product_on_link(world)
        await follow_from_card(world, world.user("Bob"), shop)
        cap = world.config.limits.alerts_per_shop_per_day
        for _ in range(cap):
            await ann.send("/live start")
            offer = ann.last
            await ann.tap("📣 Tell followers (1)", offer)
            query = await ann.tap("📣 Tell followers (1)", offer)  # a second tap on the same offer
            assert "already been told about this session" in query.answer_text
            await ann.send("/live end")
        await ann.send("/live start")
        query = await ann.tap("📣 Tell followers (1)")
        assert f"sent {cap} alerts in the last 24 hours" in query.answer_text
        rows = await world.store.db.fetch_all("SELECT count(*) FROM outbox WHERE kind = 'alert'")
        assert rows[0][0] == cap
    finally:
        await world.stop()


async def test_followers_who_blocked_the_bot_are_dropped(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, cy = world.user("Bob"), world.user("Cy")
    for buyer in (bob, cy):
        await follow_from_card(world, buyer, shop)
    bob.block_bot()
    await ann.send("/live start")
    await ann.tap("📣 Tell followers (2)")
    assert "is live now" in cy.last.text
    await ann.send("/myshop")
    assert "Followers: 1" in ann.last.text  # Bob's send was refused: he is left out
    await ann.send("/live end")
    await ann.send("/live start")
    query = await ann.tap("📣 Tell followers (1)")
    assert "1 messages queued" in query.answer_text
    assert await follower_ids(world, shop) == [cy.id]


async def test_a_stale_alert_button_after_the_session_ended_says_so(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await follow_from_card(world, world.user("Bob"), shop)
    await ann.send("/live start")
    offer = ann.last
    await ann.send("/live end")
    query = await ann.tap("📣 Tell followers (1)", offer)
    assert "That live session is over" in query.answer_text


async def test_alerts_in_chinese_for_the_owner(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    li = await merchant_with_shop(world, "李", shop="茶山", language_code="zh-hans")
    await follow_from_card(world, world.user("Bob"), shop)
    await ann.send("/live start")
    assert ann.last.buttons == [["📣 Tell followers (1)"]]
    # the Chinese owner's shop with one follower
    tea = await current_shop(world, li)
    await world.store.audience.follow(ann.id, tea.id)
    await li.send("/live start")
    assert li.last.buttons == [["📣 通知关注者（1）"]]
    query = await li.tap("📣 通知关注者（1）")
    assert "已排队 1 条消息" in query.answer_text
    assert "茶山" in ann.last.text and "is live now" in ann.last.text  # in the follower's language


async def test_paid_broadcasts_when_the_operator_allows_them(tmp_path):
    from dataclasses import replace

    world = await start_world(tmp_path)
    try:
        world.config = replace(world.config, limits=replace(world.config.limits, allow_paid_broadcast=True))
        await world.restart()
        ann, shop, _ = await shop_with_product_on_link(world)
        for name in ("Bob", "Cy"):
            await follow_from_card(world, world.user(name), shop)
        await ann.send("/live start")
        await ann.tap("📣 Tell followers (2)")
        assert world.tg.paid_broadcasts == 2
        priorities = await world.store.db.fetch_all("SELECT DISTINCT priority FROM outbox WHERE kind = 'alert'")
        assert [r[0] for r in priorities] == [Priority.PAID_BROADCAST]
    finally:
        await world.stop()


# ---------------------------------------------------------------- alerts never slow the sale

class FrozenClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class RecordingBot:
    """Stands in for Telegram behind an outbox sender: records what went, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, Priority]] = []

    async def do_api_request(self, method, api_kwargs=None, rate_limit_args=None):
        self.calls.append((method, api_kwargs["chat_id"], rate_limit_args.priority))
        return {}


async def add_followers(world, shop, count: int, first_id: int = 900_000) -> None:
    """`count` followers straight into the database (half of them Chinese-speaking)."""
    users = [(first_id + i, f"F{i}", "zh-hans" if i % 2 else "en") for i in range(count)]
    async with world.store.db.write() as conn:
        await conn.executemany("INSERT INTO users (id, first_name, language_code, created_at, updated_at)"
                               " VALUES (?, ?, ?, 0, 0)", users)
        await conn.executemany("INSERT INTO follows (shop_id, user_id, created_at) VALUES (?, ?, 0)",
                               [(shop.id, u[0]) for u in users])


async def test_a_sales_receipts_are_not_delayed_by_an_alert_to_5000_followers(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 39.90, 50")
    bob, cy = world.user("Bob"), world.user("Cy")
    for buyer in (bob, cy):
        await save_delivery(world, buyer)
    await add_followers(world, shop, 5000)
    await ann.send("/live start")
    offer = ann.last
    assert offer.buttons == [["📣 Tell followers (5000)"]]

    # From here the outbox is drained by hand, at Telegram's documented pace on a frozen clock.
    await world.bot.outbox.stop()

    async def handled() -> None:
        while world.tg.pending_updates() or world.bot.pipeline.busy:
            await world.bot.pipeline.idle()
            await asyncio.sleep(0.002)

    world.tg.set_settle_hook(handled)
    await ann.tap("📣 Tell followers (5000)", offer)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")

    store = world.store
    queue = await store.outbox.due(limit=6000)
    assert len(queue) == 5002
    # Bob's receipt first, then the owner's notice of his order, then the 5,000 alerts.
    assert [(m.chat_id, m.priority) for m in queue[:2]] == [(bob.id, Priority.ANSWER), (ann.id, Priority.OWNER)]
    assert all(m.kind == "alert" and m.priority is Priority.BULK for m in queue[2:])

    documented = LimitsConfig()
    clock = FrozenClock()
    tg = RecordingBot()
    sender = OutboxSender(store, tg, documented, pacer=Pacer(documented, clock=clock))

    async def drain_once() -> list[tuple[str, int, Priority]]:
        before = len(tg.calls)
        await sender._dispatch_due()
        await asyncio.gather(*list(sender._tasks))
        return tg.calls[before:]

    first = await drain_once()
    assert first[0] == ("editMessageText", bob.id, Priority.ANSWER)  # the receipt, before any alert
    assert first[1] == ("sendMessage", ann.id, Priority.OWNER)
    alerts_sent = [c for c in first if c[2] is Priority.BULK]
    assert 0 < len(alerts_sent) < documented.sends_per_second  # the bulk budget's burst, no more
    assert sender.pacer.wait_time(900_000 + 4999, Priority.BULK)  # the bulk budget is spent for now

    # Cy buys while 4,900-odd alerts still wait: his receipt goes at once, his owner's notice next.
    await cy.send(f"/start l_{shop.slug}_1")
    await cy.tap("Buy now")
    await cy.tap("Confirm order")
    second = await drain_once()
    assert second == [("editMessageText", cy.id, Priority.ANSWER)]
    clock.now += 1.0  # a second's bulk budget: the owner's notice first, then the alert goes on
    third = await drain_once()
    assert third[0] == ("sendMessage", ann.id, Priority.OWNER)
    assert third[1:] and all(c[2] is Priority.BULK for c in third[1:])


def test_paid_broadcasts_take_their_own_budget_not_the_spent_bulk_one():
    clock = FrozenClock()
    pacer = Pacer(LimitsConfig(), clock=clock)
    bulk = 0
    while not pacer.wait_time(1_000 + bulk, Priority.BULK):
        pacer.take(1_000 + bulk, Priority.BULK)
        bulk += 1
    assert bulk == LimitsConfig().sends_per_second  # the bulk budget is spent
    paid = 0
    while not pacer.wait_time(100_000 + paid, Priority.PAID_BROADCAST):
        pacer.take(100_000 + paid, Priority.PAID_BROADCAST)
        paid += 1
    assert paid == PAID_BROADCASTS_PER_SECOND  # a second's worth of paid broadcasts still go
    assert pacer.wait_time(5, Priority.PAID_BROADCAST).scope == "bulk"
    assert not pacer.wait_time(7, Priority.ANSWER)  # answers never wait for either
