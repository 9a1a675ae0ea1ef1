"""faketg's model of Telegram's flood control: each limit, in both models, with a hand-moved clock."""

from __future__ import annotations

import pytest
from telegram.error import RetryAfter

from faketg import FakeTelegram
from faketg.flood import FloodModel, counts_as_message
from handlers.telegram_errors import retry_after_seconds
from tests.test_faketg import make_bot


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fake(clock: Clock, model: str) -> FakeTelegram:
    tg = FakeTelegram(clock=clock)
    tg.limit_flood(model)
    return tg


async def send(bot, chat_id: int, n: int) -> int:
    """Send n messages; how many went through before the first 429."""
    for i in range(n):
        try:
            await bot.send_message(chat_id, f"m{i}")
        except RetryAfter:
            return i
    return n


def test_only_messages_count() -> None:
    assert counts_as_message("sendMessage") and counts_as_message("editMessageText")
    assert counts_as_message("copyMessage") and counts_as_message("sendPhoto")
    assert not counts_as_message("answerCallbackQuery") and not counts_as_message("getUpdates")
    assert not counts_as_message("sendChatAction")


async def test_flood_control_is_off_by_default(clock: Clock) -> None:
    tg = FakeTelegram(clock=clock)
    alice = tg.user("Alice")
    async with make_bot(tg) as bot:
        assert await send(bot, alice.id, 50) == 50


async def test_one_chat_gets_a_short_burst_then_429_with_retry_after(clock: Clock) -> None:
    tg = fake(clock, "documented")
    alice = tg.user("Alice")
    async with make_bot(tg) as bot:
        assert await send(bot, alice.id, 20) == FloodModel().per_chat_burst
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(alice.id, "again")
        assert retry_after_seconds(refused.value) >= 1
        clock.t += 1.0  # one more a second
        assert await send(bot, alice.id, 1) == 1
    assert tg.flood.refused_by["chat"] == 2
    assert len([m for m in tg.sent_to(alice.id)]) == 6, "a refused call changes nothing"


async def test_a_group_takes_twenty_a_minute(clock: Clock) -> None:
    tg = fake(clock, "documented")
    group = tg.group("Fans", tg.user("Alice"))
    async with make_bot(tg) as bot:
        sent = await send(bot, group.id, 10)
        assert sent == FloodModel().group_burst
        clock.t += 3.0  # 20/min: one every 3 s
        assert await send(bot, group.id, 2) == 1
    assert tg.flood.refused_by["group"] == 2


async def test_documented_bulk_to_silent_chats_is_thirty_a_second(clock: Clock) -> None:
    tg = fake(clock, "documented")
    users = [tg.user(f"U{i}") for i in range(60)]
    async with make_bot(tg) as bot:
        went = 0
        for u in users:
            went += await send(bot, u.id, 1)
    assert went == 30
    assert tg.flood.refused_by["overall"] == 30


async def test_documented_answers_to_chats_that_just_wrote_are_not_bulk(clock: Clock) -> None:
    tg = fake(clock, "documented")
    users = [tg.user(f"U{i}") for i in range(60)]
    for u in users:
        tg.flood.heard_from(u.id)
    async with make_bot(tg) as bot:
        went = sum([await send(bot, u.id, 1) for u in users])
    assert went == 60


async def test_strict_counts_every_chat_message_against_thirty_a_second(clock: Clock) -> None:
    tg = fake(clock, "strict")
    users = [tg.user(f"U{i}") for i in range(60)]
    for u in users:
        tg.flood.heard_from(u.id)
    async with make_bot(tg) as bot:
        went = sum([await send(bot, u.id, 1) for u in users])
        assert went == 30
        clock.t += 1.0
        went = sum([await send(bot, u.id, 1) for u in users[30:]])
    assert went == 30


async def test_answering_a_callback_is_never_refused(clock: Clock) -> None:
    tg = fake(clock, "strict")
    alice = tg.user("Alice")
    async with make_bot(tg) as bot:
        await send(bot, alice.id, 40)
        for _ in range(40):
            await bot.get_me()
    assert tg.flood.refused == 1  # the sixth message; no getMe


async def test_a_user_tapping_counts_as_hearing_from_the_chat(clock: Clock) -> None:
    tg = fake(clock, "documented")
    alice = tg.user("Alice")
    tg.push_update({"message": {"message_id": 1, "date": 0, "chat": {"id": alice.id, "type": "private"},
                                "text": "hi"}})
    assert tg.flood._last_heard[alice.id] == clock.t
