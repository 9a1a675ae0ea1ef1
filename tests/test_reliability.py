"""Reliability: no update or order lost, faults survived, abuse refused."""

from __future__ import annotations

import asyncio
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import httpx

from core.config import WebhookConfig
from runtime.updates import UpdatePipeline
from storage import Store
from storage.inbox import StoredUpdate
from tests.harness import World, fake_request, make_config, start_world
from tests.stories import place_order, shop_with_product_on_link

ROOT = Path(__file__).resolve().parent.parent


def raw_command(update_id: int, user, text: str) -> dict:
    """An update exactly as Telegram would send it for `user` typing a command."""
    command = text.split()[0]
    return {"update_id": update_id, "message": {
        "message_id": 900 + update_id % 100, "date": int(time.time()), "text": text,
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": {"id": user.id, "is_bot": False, "first_name": user.first_name, "language_code": "en"},
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}]}}


async def test_an_update_stored_before_a_crash_is_handled_after_restart(world):
    ann = world.user("Ann")
    await ann.send("/start")
    await world.stop()
    # The process died after storing this update and before handling it.
    store = await Store.open(world.config.database)
    await store.inbox.store([raw_command(777_000, ann, "/help")])
    await store.close()
    await world.start()
    await world.settle()
    assert "/myorders" in ann.last.text  # the /help answer
    store = world.store
    assert await store.inbox.db.fetch_value("SELECT processed_at IS NOT NULL FROM inbox WHERE update_id = 777000") == 1


async def test_a_duplicate_update_id_is_handled_once(world):
    ann = world.user("Ann")
    await ann.send("/start")
    before = len(ann.chat.bot_messages)
    raw = raw_command(888_000, ann, "/help")
    assert await world.bot.pipeline.accept([raw, raw]) == 1
    assert await world.bot.pipeline.accept([raw]) == 0
    await world.settle()
    assert len(ann.chat.bot_messages) == before + 1


class RecordingApp:
    """Stands in for the Application: records when each update starts and ends."""

    def __init__(self) -> None:
        self.bot = None
        self.events: list[tuple[str, int, int]] = []

    async def process_update(self, update) -> None:
        user, seq = update.message.from_user.id, update.message.message_id
        self.events.append(("start", user, seq))
        await asyncio.sleep(0.01 if seq % 2 else 0.002)
        self.events.append(("end", user, seq))


class MemoryInbox:
    async def store(self, updates):
        from storage.inbox import user_key_of

        return [StoredUpdate(u["update_id"], user_key_of(u), u) for u in updates]

    async def unprocessed(self):
        return []

    async def mark_processed(self, done):
        pass


async def test_one_users_updates_run_in_order_while_different_users_run_concurrently():
    app = RecordingApp()
    pipeline = UpdatePipeline(app, MemoryInbox())
    await pipeline.start()
    try:
        updates = []
        for seq in range(1, 6):
            for user in (1, 2, 3):
                updates.append({"update_id": len(updates) + 1, "message": {
                    "message_id": seq, "date": 0, "text": "x", "chat": {"id": user, "type": "private"},
                    "from": {"id": user, "is_bot": False, "first_name": "U"}}})
        await pipeline.accept(updates)
        await pipeline.idle()
    finally:
        await pipeline.stop()
    for user in (1, 2, 3):
        mine = [(kind, seq) for kind, u, seq in app.events if u == user]
        assert mine == [(k, s) for s in range(1, 6) for k in ("start", "end")]  # strictly one after another
    first_end = next(i for i, e in enumerate(app.events) if e[0] == "end")
    assert {u for kind, u, _ in app.events[:first_end] if kind == "start"} == {1, 2, 3}  # all began together


async def test_a_failed_send_is_retried_and_the_user_still_gets_the_answer(world):
    ann = world.user("Ann")
    world.tg.fail_next("sendMessage", error_code=500, description="Internal Server Error", times=2, chat_id=ann.id)
    await ann.send("/help")
    assert "/myorders" in ann.last.text
    assert world.tg.count("sendMessage", chat_id=ann.id, ok=False) == 2


async def test_a_429_on_a_reply_is_waited_out(world):
    ann = world.user("Ann")
    world.tg.fail_next("sendMessage", error_code=429, retry_after=1, times=1, chat_id=ann.id)
    await ann.send("/help")
    assert "/myorders" in ann.last.text


async def test_a_user_who_blocked_the_bot_is_marked(world):
    ann = world.user("Ann")
    await ann.send("/start")
    ann.block_bot()
    # An update sent just before blocking arrives after it: our answer is refused with 403.
    await world.bot.pipeline.accept([raw_command(666_000, ann, "/help")])
    await world.settle()
    assert (await world.store.users.get(ann.id)).blocked_at is not None
    assert world.tg.count("sendMessage", chat_id=ann.id, ok=False) == 1


async def test_outbox_rides_out_500s_and_timeouts_then_delivers_once(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    world.tg.fail_next("sendMessage", error_code=500, description="Internal Server Error", times=2, chat_id=ann.id)
    await place_order(world, world.user("Bob"), shop)
    async with world.store.db.write() as conn:  # skip the backoff wait
        await conn.execute("UPDATE outbox SET not_before = 0 WHERE sent_at IS NULL")
    world.bot.outbox.job.wake()
    await world.settle()
    assert len([m for m in ann.chat.bot_messages if "New order #1001" in (m.text or "")]) == 1


async def test_a_flooding_user_is_slowed_down_and_others_are_not(tmp_path):
    world = await start_world(tmp_path)
    try:
        world.bot.app.bot_data.pop("flood_gate", None)
        world.bot.app.bot_data["services"].config = replace(
            world.config, limits=replace(world.config.limits, updates_per_user_per_minute=10))
        spam, calm = world.user("Spam"), world.user("Calm")
        for _ in range(15):
            await spam.send("/help")
        await calm.send("/help")
        helps = [m for m in spam.chat.bot_messages if "/myorders" in (m.text or "")]
        slow = [m for m in spam.chat.bot_messages if "Please wait a minute" in (m.text or "")]
        assert len(helps) == 10 and len(slow) == 1
        assert "/myorders" in calm.last.text
    finally:
        await world.stop()


async def test_webhook_refuses_a_wrong_secret_and_stores_nothing(tmp_path):
    from runtime.webhook import WebhookApp

    world = await start_world(tmp_path)
    try:
        ann = world.user("Ann")
        app = WebhookApp(world.bot.pipeline, "s" * 32, "/telegram")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hook") as client:
            update = raw_command(555_000, ann, "/help")
            wrong = await client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"})
            missing = await client.post("/telegram", json=update)
            assert wrong.status_code == 403 and missing.status_code == 403
            assert await world.store.inbox.db.fetch_value("SELECT count(*) FROM inbox WHERE update_id = 555000") == 0
            bad = await client.post("/telegram", content=b"not json", headers={"X-Telegram-Bot-Api-Secret-Token": "s" * 32})
            assert bad.status_code == 400
            ok = await client.post("/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "s" * 32})
            assert ok.status_code == 200
            assert await world.store.inbox.db.fetch_value("SELECT count(*) FROM inbox WHERE update_id = 555000") == 1
        await world.settle()
        assert "/myorders" in ann.last.text
    finally:
        await world.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_mode_serves_over_http_and_registers_secret_and_allowed_updates(tmp_path):
    port = free_port()
    config = replace(make_config(tmp_path), mode="webhook",
                     webhook=WebhookConfig(url="https://shop.example/hook", listen="127.0.0.1", port=port,
                                           secret_token="t" * 40))
    from faketg import FakeTelegram
    from runtime.livecart import Livecart

    tg = FakeTelegram()
    bot = Livecart(config, request=fake_request(tg), updates_request=fake_request(tg, 4))
    await bot.start(polling=False)
    try:
        assert tg.webhook["url"] == "https://shop.example/hook"
        assert tg.webhook["secret_token"] == "t" * 40
        assert set(tg.webhook["allowed_updates"]) == {"message", "callback_query", "pre_checkout_query",
                                                      "my_chat_member"}  # the bot made a channel's admin
        ann = tg.user("Ann")
        async with httpx.AsyncClient() as client:
            response = await client.post(f"http://127.0.0.1:{port}/hook", json=raw_command(1, ann, "/help"),
                                         headers={"X-Telegram-Bot-Api-Secret-Token": "t" * 40})
        assert response.status_code == 200
        await bot.settle()
        assert "/myorders" in ann.last.text
    finally:
        await bot.stop()


def test_backup_writes_a_consistent_copy_while_the_database_is_in_use(tmp_path):
    db = tmp_path / "live.sqlite3"
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ntoken = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\n[storage]\ndatabase = "{db}"\n')

    async def prepare():
        store = await Store.open(db)
        await store.users.seen(1, "Ann", None, "en")
        await store.shops.create(1, "Oranges", "CNY", "Asia/Shanghai")
        return store

    store = asyncio.run(prepare())  # left open: a writer with WAL, as while the bot runs
    try:
        target = tmp_path / "copy.sqlite3"
        result = subprocess.run([sys.executable, str(ROOT / "bot.py"), "--config", str(config), "backup", str(target)],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        copy = sqlite3.connect(target)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT name FROM shops").fetchall() == [("Oranges",)]
        copy.close()
    finally:
        asyncio.run(store.close())


async def test_a_timed_out_send_is_retried_and_the_user_gets_the_answer(tmp_path):
    from faketg import FakeTelegram
    from runtime.livecart import Livecart
    from runtime.telegram_request import TelegramRequest

    tg = FakeTelegram()

    def timing_out_request(pool: int) -> TelegramRequest:
        # The fake's own transport honours read timeouts, as a real connection would.
        return TelegramRequest(connection_pool_size=pool, read_timeout=0.5,
                               httpx_kwargs={"transport": tg.transport()})

    world = World(tg, make_config(tmp_path), None)
    world.bot = Livecart(world.config, request=timing_out_request(64), updates_request=fake_request(tg, 4), long_poll=1)
    await world.bot.start()
    tg.set_settle_hook(world.settle)
    try:
        ann = tg.user("Ann")
        tg.delay_next("sendMessage", seconds=2.0, times=1)  # the first try times out and changes nothing
        await ann.send("/help")
        assert "/myorders" in ann.last.text
        assert len([m for m in ann.chat.bot_messages if "/myorders" in (m.text or "")]) == 1
        assert tg.count("sendMessage", chat_id=ann.id) == 2  # the timed-out try and the retry
    finally:
        await world.stop()


async def test_a_buyer_with_too_many_open_orders_is_told_to_wait(tmp_path):
    world = await start_world(tmp_path)
    try:
        world.bot.app.bot_data["services"].config = replace(
            world.config, limits=replace(world.config.limits, open_orders_per_buyer_per_shop=2))
        ann, shop, product_id = await shop_with_product_on_link(world)
        bob = world.user("Bob")
        for _ in range(2):
            await place_order(world, bob, shop)
        await bob.send(f"/start l_{shop.slug}_1")
        await bob.tap("Buy now")
        await bob.tap("Confirm order")
        assert "already have 2 open orders" in bob.last.text
        assert len(await world.store.orders.of_buyer(bob.id)) == 2
    finally:
        await world.stop()


async def test_handled_updates_and_sent_messages_older_than_a_week_are_pruned(world):
    ann = world.user("Ann")
    await ann.send("/start")
    await ann.send("/help")
    async with world.store.db.write() as conn:
        await conn.execute("INSERT INTO outbox (chat_id, method, params, not_before, created_at, sent_at)"
                           " VALUES (?, 'sendMessage', '{}', 0, 0, 0)", (ann.id,))
    last = await world.store.inbox.db.fetch_value("SELECT max(update_id) FROM inbox")
    updates, messages = await world.bot.prune(now=time.time() + 8 * 24 * 3600)
    assert updates >= 1 and messages == 1
    # The newest update stays: it is what the next getUpdates offset is counted from.
    assert await world.store.inbox.db.fetch_value("SELECT max(update_id) FROM inbox") == last
    assert await world.store.inbox.next_offset() == last + 1
    assert await world.bot.prune() == (0, 0)  # nothing recent is touched
