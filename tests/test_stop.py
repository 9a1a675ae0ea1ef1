"""The stop drill as a test: SIGTERM in the middle of a flash sale, then a restart."""

from __future__ import annotations

import asyncio
import sqlite3

from storage.outbox import Outgoing
from tests.harness import start_world
from tests.stop_drill import STOP_BOUND, run_stop_drill


async def test_sigterm_in_the_middle_of_a_flash_sale_stops_within_10s_and_handles_everything_exactly_once(tmp_path):
    result = await run_stop_drill(tmp_path, buyers=300, stock=100)
    assert result.stops == 2 and result.exit_codes == [0, 0]
    assert all(seconds < STOP_BOUND for seconds in result.stop_seconds), result.stop_seconds
    assert result.in_flight_at_stop > 0  # the stop really came while buyers waited for answers
    assert result.handlers_cut_short == 0 and result.unprocessed_updates == 0
    assert result.callbacks_answered_twice == 0 and result.callbacks_unanswered == 0
    assert result.cards_sent_twice == 0
    assert result.orders == result.receipts == 100
    assert result.sold_out_answers == 200 and result.unanswered == 0
    assert result.units + result.stock_left == result.stock
    assert result.owner_notices == result.orders and result.duplicate_notices == 0
    assert result.duplicate_receipts == 0



async def scalar(world, sql: str):
    """Read the stopped bot's database from outside, as an operator would."""
    if isinstance(world.config.database, str):  # PostgreSQL
        import asyncpg

        pg = await asyncpg.connect(world.config.database)
        try:
            return await pg.fetchval(sql)
        finally:
            await pg.close()
    conn = sqlite3.connect(world.bot.store.inbox.db.path if "inbox" in sql else world.config.database)
    try:
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


async def wait_until(predicate, what: str) -> None:
    for _ in range(5000):
        if predicate():
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"never happened: {what}")


async def test_a_stop_lets_a_message_in_flight_arrive_and_never_sends_it_again(tmp_path):
    world = await start_world(tmp_path)
    ann = world.user("Ann")
    await ann.send("/start")
    world.tg.delay_next("sendMessage", seconds=1.0, after=True)  # delivered at once, Telegram's answer is slow
    await world.store.outbox.send_later(Outgoing(ann.id, "sendMessage", {"text": "Your parcel is on its way"}))
    await wait_until(lambda: ann.last.text == "Your parcel is on its way", "the message to arrive")
    await world.stop()  # while the outbox waits for Telegram's answer
    assert await scalar(world, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0  # recorded as sent
    await world.start()
    try:
        await world.settle()
        assert [m.text for m in ann.chat.bot_messages].count("Your parcel is on its way") == 1
    finally:
        await world.stop()


async def test_a_stop_finishes_the_handler_in_flight_and_leaves_the_next_update_for_the_restart(tmp_path):
    world = await start_world(tmp_path)
    ann = world.user("Ann")
    await ann.send("/start")
    world.tg.set_settle_hook(None)  # Ann does not wait for the answers
    world.tg.delay_next("sendMessage", seconds=1.0)  # the answer to /help is slow to go out
    await ann.send("/help")
    await wait_until(lambda: world.bot.pipeline.busy, "the bot to be handling /help")
    await ann.send("/language")  # queued behind /help (one user's updates go in order)
    await wait_until(lambda: world.tg.pending_updates() == 0, "the bot to have fetched /language")
    await world.stop()
    assert "/myorders" in ann.last.text  # the handler in flight finished before the bot stopped
    assert await scalar(world, "SELECT count(*) FROM inbox WHERE processed_at IS NULL") == 1  # /language, stored
    await world.start()
    try:
        await world.settle()
        assert len([m for m in ann.chat.bot_messages if "/myorders" in (m.text or "")]) == 1
        assert ann.last.text == "Choose your language:"  # /language, answered after the restart, once
        assert len([m for m in ann.chat.bot_messages if m.text == "Choose your language:"]) == 1
    finally:
        await world.stop()
