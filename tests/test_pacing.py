"""Pacing by kind: answers at once within their chat's pace, proactive sends in the bulk budget,
a 429 pausing only what it applies to. Unit tests with a hand-moved clock, then the bot against
faketg's flood models."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from core.config import LimitsConfig
from runtime.pacing import CHAT_BURST, Pacer
from storage.outbox import Outgoing, Priority
from tests.harness import start_world
from tests.stories import save_delivery, shop_with_product_on_link

LIMITS = LimitsConfig()  # Telegram's documented figures: 25/s bulk, 1/s a chat, 20/min a group


class Clock:
    def __init__(self) -> None:
        self.t = 500.0

    def __call__(self) -> float:
        return self.t


def drain(pacer: Pacer, chat: int, priority: Priority, n: int) -> int:
    """Take up to n sends without waiting; how many went."""
    went = 0
    for _ in range(n):
        if pacer.wait_time(chat, priority):
            break
        pacer.take(chat, priority)
        went += 1
    return went


def test_answers_to_many_chats_are_not_held_by_the_bulk_budget():
    pacer = Pacer(LIMITS, Clock())
    assert sum(drain(pacer, chat, Priority.ANSWER, 1) for chat in range(1, 1001)) == 1000


def test_bulk_notices_share_the_bulk_budget():
    pacer = Pacer(LIMITS, Clock())
    went = sum(drain(pacer, chat, Priority.BULK, 1) for chat in range(1, 101))
    assert went == LIMITS.sends_per_second
    wait = pacer.wait_time(999, Priority.OWNER)
    assert wait.scope == "bulk" and wait.seconds > 0


def test_one_chat_gets_a_short_burst_then_its_pace():
    clock = Clock()
    pacer = Pacer(LIMITS, clock)
    assert drain(pacer, 7, Priority.ANSWER, 10) == CHAT_BURST
    assert pacer.wait_time(7, Priority.ANSWER).scope == "chat"
    clock.t += 1.0
    assert drain(pacer, 7, Priority.ANSWER, 10) == 1


def test_a_429_on_a_bulk_send_pauses_the_bulk_budget_not_answers():
    clock = Clock()
    pacer = Pacer(LIMITS, clock)
    assert pacer.note_429(5, Priority.BULK, 3.0, had_slack=True) == "bulk"
    assert pacer.wait_time(6, Priority.OWNER).seconds == 3.0
    assert not pacer.wait_time(6, Priority.ANSWER)  # a buyer's answer still goes at once
    clock.t += 3.0
    assert not pacer.wait_time(6, Priority.OWNER)


def test_a_429_on_a_chat_over_its_own_pace_pauses_only_that_chat():
    pacer = Pacer(LIMITS, Clock())
    drain(pacer, 7, Priority.ANSWER, 3)
    assert pacer.note_429(7, Priority.ANSWER, 2.0, had_slack=False) == "chat"
    assert pacer.wait_time(7, Priority.ANSWER).seconds == 2.0
    assert not pacer.wait_time(8, Priority.ANSWER)
    assert not pacer.bot_wide


def test_a_429_on_a_group_pauses_only_that_group():
    pacer = Pacer(LIMITS, Clock())
    assert pacer.note_429(-100, Priority.ANSWER, 9.0, had_slack=False) == "group"
    assert pacer.wait_time(-100, Priority.ANSWER).seconds == 9.0
    assert not pacer.wait_time(-200, Priority.ANSWER)


def test_a_429_to_a_chat_within_its_pace_turns_on_a_bot_wide_pace_answers_first():
    clock = Clock()
    pacer = Pacer(LIMITS, clock)
    assert pacer.note_429(7, Priority.ANSWER, 1.0, had_slack=True) == "all"
    assert pacer.bot_wide and pacer.learned == 1
    went = sum(drain(pacer, chat, Priority.ANSWER, 1) for chat in range(100, 200))
    assert went == LIMITS.all_chats_per_second  # every chat's answers now share 30/s
    clock.t += 601
    assert not pacer.bot_wide  # learned for ten minutes, then tried again


async def test_answers_waiting_for_the_bot_wide_pace_go_before_bulk():
    clock = Clock()
    pacer = Pacer(replace(LIMITS, all_chats_per_second=1.0), clock)
    pacer.note_429(7, Priority.ANSWER, 1.0, had_slack=True)
    pacer.take(1, Priority.ANSWER)  # the bot-wide budget is spent
    waiting = asyncio.create_task(pacer.acquire(2, Priority.ANSWER))
    await asyncio.sleep(0)
    clock.t += 1.0  # a token is back: it is the answer's, not the notice's
    assert pacer.wait_time(3, Priority.OWNER).scope == "bulk"
    await asyncio.wait_for(waiting, 5)


# ---------------------------------------------------------------- the bot against the flood models


def documented_limits(world):
    """The config's real limits (tests usually lift them), shared by the limiter and the outbox."""
    real = LimitsConfig()
    pacer = Pacer(real)
    world.bot.outbox.pacer = pacer
    world.bot.app.bot.rate_limiter.pacer = pacer
    return pacer


async def test_buyers_checking_out_at_once_draw_no_429_under_the_documented_model(tmp_path):
    world = await start_world(tmp_path)
    try:
        ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 9.90, 100")
        buyers = [world.user(f"B{i}") for i in range(40)]
        for b in buyers:
            await save_delivery(world, b)
        documented_limits(world)
        world.tg.limit_flood("documented")
        await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
        await asyncio.gather(*(b.tap("Buy now") for b in buyers))
        await asyncio.gather(*(b.tap("Confirm order") for b in buyers))
        await world.settle()
        assert world.tg.flood.refused == 0
        assert all("placed" in b.last.text for b in buyers)
        assert [c for c in world.tg.calls if c.error_code == 429] == []
    finally:
        await world.stop()


async def test_a_429_for_one_buyer_does_not_hold_back_another(tmp_path):
    world = await start_world(tmp_path)
    try:
        ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 9.90, 100")
        slow, quick = world.user("Slow"), world.user("Quick")
        documented_limits(world)
        world.tg.fail_next("sendMessage", 429, retry_after=2, chat_id=slow.id)
        opening = asyncio.create_task(slow.send(f"/start l_{shop.slug}_1"))
        await asyncio.sleep(0.2)
        await quick.send(f"/start l_{shop.slug}_1")
        await opening
        await world.settle()
        cards = [c.chat_id for c in world.tg.calls if c.method == "sendMessage" and c.ok
                 and c.chat_id in (slow.id, quick.id)]
        assert cards == [quick.id, slow.id], "the quick buyer's card waited for the other chat's 429"
        assert "Oranges" in slow.last.text  # the slow buyer's card came after its retry_after
    finally:
        await world.stop()


async def test_the_outbox_sends_owners_notices_before_other_proactive_messages(tmp_path):
    world = await start_world(tmp_path)
    try:
        ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 9.90, 100")
        buyers = [world.user(f"B{i}") for i in range(5)]
        for b in buyers:
            await save_delivery(world, b)
        store = world.bot.store
        # Queue proactive sends ahead of the sale: they must not delay the receipts.
        async with store.db.write() as conn:
            for b in buyers:
                await store.outbox.enqueue(conn, Outgoing(b.id, "sendMessage", {"text": "restock"},
                                                          priority=Priority.BULK))
            await store.outbox.enqueue(conn, Outgoing(ann.id, "sendMessage", {"text": "owner note"},
                                                      priority=Priority.OWNER))
        due = await store.outbox.due()
        assert [m.priority for m in due] == sorted(m.priority for m in due)
        assert due[0].priority is Priority.OWNER and due[-1].priority is Priority.BULK
        await world.settle()
    finally:
        await world.stop()
