"""The writer gate: one write transaction at a time, and no convoy behind one that waited.

(All-or-nothing and no interleaving are tested in test_migrations.py.)
"""

from __future__ import annotations

import asyncio

import pytest

from storage.db import WriterGate

pytestmark = pytest.mark.sqlite_only  # about SQLite's own file: the PostgreSQL pass skips it


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


async def test_a_transaction_that_waits_on_something_else_is_caught(tmp_path):
    # The check every test runs under (tests/conftest.py): a transaction body that lets the event
    # loop run, or reads through another connection, is recorded with where it happened.
    import asyncio

    from storage import db as dbm
    from storage.db import Database

    database = await Database(tmp_path / "x.sqlite3").open()
    try:
        before = len(dbm.suspensions)
        async with database.write() as conn:
            await conn.execute("SELECT 1")  # its own statements: fine
        await asyncio.sleep(0)
        assert dbm.suspensions[before:] == []
        async with database.write() as conn:
            await asyncio.sleep(0)  # anything else that suspends: caught
        async with database.write() as conn:
            await database.lookup_one("SELECT 1")  # a read through another connection: caught
        await asyncio.sleep(0)
        caught = dbm.suspensions[before:]
        assert len(caught) == 2 and "test_db_writes.py" in caught[0] and caught[1].startswith("lookup in a transaction")
    finally:
        del dbm.suspensions[before:]  # this test's own, on purpose
        await database.close()


async def test_a_storage_call_refuses_an_async_message_renderer():
    import pytest as _pytest

    from storage.outbox import rendered

    async def renderer():
        return []

    with _pytest.raises(TypeError, match="plain function"):
        rendered(renderer())
