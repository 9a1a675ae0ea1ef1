"""Write transactions: one at a time, all or nothing, and no convoy behind a slow one."""

from __future__ import annotations

import asyncio

import pytest

from storage.db import Database, WriterGate


async def test_transactions_never_interleave_even_when_one_waits_inside(tmp_path):
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        async with db.write() as conn:
            await conn.execute("CREATE TABLE log (who TEXT, step INTEGER)")
        order: list[str] = []

        async def writer(name: str, pause: float) -> None:
            async with db.write() as conn:
                order.append(f"{name} in")
                await conn.execute("INSERT INTO log VALUES (?, 1)", (name,))
                await asyncio.sleep(pause)  # another task runs meanwhile; it must not get in
                await conn.execute("INSERT INTO log VALUES (?, 2)", (name,))
                order.append(f"{name} out")

        await asyncio.gather(writer("a", 0.02), writer("b", 0.0), writer("c", 0.01))
        assert order == ["a in", "a out", "b in", "b out", "c in", "c out"]
        rows = await db.fetch_all("SELECT who, step FROM log ORDER BY rowid")
        assert [tuple(r) for r in rows] == [("a", 1), ("a", 2), ("b", 1), ("b", 2), ("c", 1), ("c", 2)]
    finally:
        await db.close()


async def test_a_failed_transaction_leaves_nothing_and_frees_the_writer(tmp_path):
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        async with db.write() as conn:
            await conn.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError):
            async with db.write() as conn:
                await conn.execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("boom")
        async with db.write() as conn:  # not stuck
            await conn.execute("INSERT INTO t VALUES (2)")
        assert [r[0] for r in await db.fetch_all("SELECT x FROM t")] == [2]
    finally:
        await db.close()


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
