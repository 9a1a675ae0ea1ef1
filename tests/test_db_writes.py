"""The writer gate: one write transaction at a time, and no convoy behind one that waited.

(All-or-nothing and no interleaving are tested in test_migrations.py.)
"""

from __future__ import annotations

import asyncio

from storage.db import WriterGate


async def test_a_newcomer_takes_a_free_gate_without_queueing_behind_woken_waiters():
    """What asyncio.Lock would not do, and what kept a whole flash sale in a convoy."""
    gate = WriterGate()
    events: list[str] = []

    async def waiter() -> None:
        async with gate:
            events.append("waiter in")

    await gate.__aenter__()
    waiter_task = asyncio.create_task(waiter())
    await asyncio.sleep(0)  # the waiter queues behind us
    await gate.__aexit__(None, None, None)  # released: the waiter is woken but has not run yet
    async with gate:  # a newcomer right now gets in at once (asyncio.Lock would queue it)
        events.append("newcomer in")
    await waiter_task
    assert events == ["newcomer in", "waiter in"]


async def test_a_cancelled_waiter_does_not_swallow_the_turn():
    gate = WriterGate()
    got_in: list[str] = []

    async def enter(name: str) -> None:
        async with gate:
            got_in.append(name)

    await gate.__aenter__()  # held
    first = asyncio.create_task(enter("first"))
    second = asyncio.create_task(enter("second"))
    await asyncio.sleep(0)
    await gate.__aexit__(None, None, None)  # wakes "first"...
    first.cancel()  # ...which is cancelled before it runs
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.wait_for(second, 1)  # "second" still gets its turn
    assert got_in == ["second"]
