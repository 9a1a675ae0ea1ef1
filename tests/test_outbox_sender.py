"""The outbox sender's pacing and bookkeeping, tested without real time."""

from __future__ import annotations

import asyncio

from core.config import LimitsConfig
from runtime.outbox_sender import OutboxSender
from runtime.pacing import TokenBucket
from storage.outbox import OutboxMessage, Outgoing
from tests.harness import start_world


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_chat_takes_a_burst_of_three_then_one_a_second():
    clock = FakeClock()
    bucket = TokenBucket(rate=1.0, burst=3, clock=clock)
    for _ in range(3):
        assert bucket.wait_time() == 0
        bucket.take()
    assert bucket.wait_time() == 1.0
    clock.now += 0.5
    assert bucket.wait_time() == 0.5
    clock.now += 0.5
    assert bucket.wait_time() == 0
    bucket.take()
    clock.now += 60
    assert bucket.wait_time() == 0  # refills, but never beyond the burst
    for _ in range(3):
        bucket.take()
    assert bucket.wait_time() > 0


def test_a_group_is_paced_at_twenty_a_minute():
    clock = FakeClock()
    bucket = TokenBucket(rate=20 / 60, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()
    assert round(bucket.wait_time(), 3) == 3.0


class StubOutbox:
    """Rows live here; `due` can be held open to let a send finish meanwhile."""

    def __init__(self) -> None:
        self.rows = {1: OutboxMessage(1, 42, "sendMessage", {"text": "hi"}, 0)}
        self.sent: list[int] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.stale: list[OutboxMessage] | None = None

    def listen(self, callback) -> None:
        pass

    async def due(self, limit: int = 200) -> list[OutboxMessage]:
        snapshot = self.stale if self.stale is not None else [r for i, r in self.rows.items() if i not in self.sent]
        await self.hold.wait()
        return snapshot

    async def next_due_at(self):
        return None

    async def mark_sent(self, ids: list[int]) -> None:
        self.sent += ids


class StubStore:
    def __init__(self) -> None:
        self.outbox = StubOutbox()


class CountingBot:
    def __init__(self) -> None:
        self.calls = 0

    async def do_api_request(self, method, api_kwargs=None, rate_limit_args=None):
        self.calls += 1
        await asyncio.sleep(0)
        return True


async def test_a_row_finished_while_the_due_query_ran_is_not_sent_again():
    """Regression: a stale `due` answer listed a row whose send had just finished; it went out twice."""
    store, bot = StubStore(), CountingBot()
    sender = OutboxSender(store, bot, LimitsConfig(sends_per_second=1000, sends_per_chat_per_second=1000))
    await sender._dispatch_due()  # starts sending row 1
    store.outbox.stale = list(store.outbox.rows.values())  # the next query still lists row 1 ...
    store.outbox.hold.clear()
    second = asyncio.create_task(sender._dispatch_due())
    await asyncio.sleep(0)
    await asyncio.gather(*sender._tasks)  # ... because row 1 finishes while that query is in flight
    store.outbox.hold.set()
    await second
    await asyncio.gather(*sender._tasks)
    assert bot.calls == 1 and store.outbox.sent == [1]


async def test_a_message_that_cannot_be_handed_to_telegram_is_given_up_and_does_not_stall_its_chat(tmp_path):
    """A row our own code cannot turn into a request (a bug in its parameters) used to crash the
    sending task and leave the chat's queue waiting forever; it is given up, logged, and the next
    message to that chat goes out."""
    world = await start_world(tmp_path)
    try:
        bob = world.user("Bob")
        await bob.send("/start")
        store = world.bot.store
        async with store.db.write() as conn:
            await store.outbox.enqueue(conn, Outgoing(bob.id, "sendMediaGroup", {"media": [{"no": "media"}]}))
            await store.outbox.enqueue(conn, Outgoing(bob.id, "sendMessage", {"text": "after the broken one"}))
        await world.settle()
        assert bob.last.text == "after the broken one"
        assert await store.outbox.due() == []
    finally:
        await world.stop()
