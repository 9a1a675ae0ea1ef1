"""A locked database never freezes the bot: another process holding the store's write lock stalls
only the writes that need it; lookups, the outbox and the webhook go on, and the waiting writes
complete once the lock is free."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from runtime.webhook import WebhookApp
from storage import Store
from storage.inbox import inbox_path
from storage.outbox import Outgoing
from tests.stories import save_delivery, shop_with_product_on_link

pytestmark = pytest.mark.sqlite_only  # about SQLite's own file: the PostgreSQL pass skips it

HOLD_SECONDS = 6

LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE shops SET name = name")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("COMMIT")
"""


def store_is_locked(path) -> bool:
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        return "locked" in str(exc)
    finally:
        conn.close()


async def until_async(predicate, what: str, timeout: float = 30.0):
    for _ in range(int(timeout / 0.01)):
        if await predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def until(predicate, what: str, timeout: float = 30.0):
    for _ in range(int(timeout / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def test_a_store_locked_by_another_process_for_6s_stalls_only_the_writes(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob, carl, dora = world.user("Bob"), world.user("Carl"), world.user("Dora")
    for buyer in (bob, carl, dora):
        await save_delivery(world, buyer)
    for buyer in (bob, carl):  # (Dora looks at no card: a command after one ends its card step, a write)
        await buyer.send(f"/start l_{shop.slug}_1")
    # A message whose first try meets a 429 (retry after 1 s): its retry falls while the lock is held.
    world.tg.fail_next("sendMessage", 429, retry_after=1, chat_id=dora.id)
    await world.store.outbox.send_later(Outgoing(dora.id, "sendMessage", {"text": "Your parcel is packed"}))
    await until_async(lambda: world.store.db.fetch_value("SELECT attempts FROM outbox WHERE chat_id = ?", (dora.id,)),
                      "the first try refused")

    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(world.config.database), str(HOLD_SECONDS)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout.readline().strip() == "locked"
        world.tg.set_settle_hook(None)  # Bob's write will wait for the lock: the taps must not
        adding = await bob.tap("Add to cart")  # a write: waits for the lock
        browsing = await carl.tap("Shop catalog")  # only reads
        # An update arriving by webhook meanwhile is stored (the inbox has its own file) and handled.
        hook = WebhookApp(world.bot.pipeline, "s3cret", "/hook")
        raw = {"update_id": 990_001, "message": {
            "message_id": 5, "date": int(time.time()), "text": "/myorders",
            "chat": {"id": dora.id, "type": "private", "first_name": "Dora"},
            "from": {"id": dora.id, "is_bot": False, "first_name": "Dora", "language_code": "en"},
            "entities": [{"type": "bot_command", "offset": 0, "length": 9}]}}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=hook), base_url="http://bot") as client:
            answer = await client.post("/hook", json=raw, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"})
        assert answer.status_code == 200

        await until(lambda: browsing.answered and "Tap a product" in (carl.last.text or ""), "Carl's catalog shown")
        await until(lambda: "Your parcel is packed" in [m.text for m in dora.chat.bot_messages], "the outbox sending")
        await until(lambda: any("no orders yet" in (m.text or "") for m in dora.chat.bot_messages),
                    "Dora's /myorders by webhook answered")
        assert "Tap a product to see it and order." in carl.last.text  # the catalog, shown meanwhile
        # All of that happened while the other process still held the lock, and Bob's write waited.
        assert locker.poll() is None and store_is_locked(world.config.database)
        assert not adding.answered
        assert await world.store.carts.lines(bob.id, shop.id) == []
    finally:
        locker.wait(timeout=HOLD_SECONDS + 30)
    # The lock is gone: the waiting write completes and Bob gets his answer.
    await world.settle()
    assert adding.answered and "1 in your cart" in adding.answer_text
    assert [(line.product_id, line.quantity) for line in await world.store.carts.lines(bob.id, shop.id)] == [(product_id, 1)]
    assert world.store.db.busy_waits > 0
    sent = await world.store.db.fetch_value("SELECT sent_at IS NOT NULL FROM outbox WHERE chat_id = ? AND params LIKE '%packed%'",
                                            (dora.id,))
    assert sent == 1  # marked sent once the lock was free, and sent once
    assert [m.text for m in dora.chat.bot_messages].count("Your parcel is packed") == 1


async def test_updates_left_in_the_old_inbox_table_move_to_the_inbox_file(tmp_path):
    path = tmp_path / "shop.sqlite3"
    store = await Store.open(path)
    async with store.db.write() as conn:  # as a database from before the inbox had its own file
        await conn.execute("INSERT INTO inbox (update_id, user_key, payload, received_at) VALUES (41, 7, '{}', 0)")
        await conn.execute("INSERT INTO inbox (update_id, user_key, payload, received_at, processed_at)"
                           " VALUES (40, 7, '{}', 0, 1)")
    await store.close()
    store = await Store.open(path)
    try:
        assert [u.update_id for u in await store.inbox.unprocessed()] == [41]
        assert await store.db.fetch_value("SELECT count(*) FROM inbox") == 0
        assert inbox_path(path).exists()
    finally:
        await store.close()
