"""Several webhook workers on one PostgreSQL database, with updates spread among them at random.

Runs in the PostgreSQL pass of `./run tests` (LIVECART_TEST_POSTGRES).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from storage.outbox import Outgoing, Priority
from tests import pg_databases
from tests.harness import make_config
from tests.stories import add_product, current_shop, merchant_with_shop, save_delivery
from tests.workers_world import start_workers

pytestmark = pytest.mark.skipif(pg_databases.server_url() is None, reason="needs LIVECART_TEST_POSTGRES")


@pytest.fixture
async def three(tmp_path):
    world = await start_workers(make_config(tmp_path), 3)
    try:
        yield world
    finally:
        await world.stop()


async def test_a_sale_spread_over_three_workers_places_each_order_once_and_sells_no_unit_twice(three):
    ann = await merchant_with_shop(three)
    product_id = await add_product(ann, "Oranges, 39.90, 5")
    await ann.tap("🔴 Put on next free link")
    shop = await current_shop(three, ann)
    buyers = [three.user(f"Buyer{i}") for i in range(8)]
    for buyer in buyers:
        await save_delivery(three, buyer)

    async def buy(buyer):
        await buyer.send(f"/start l_{shop.slug}_1")
        await buyer.tap("Buy now")
        if any("Confirm order" in b for row in buyer.last.buttons for b in row):
            await buyer.tap("Confirm order")

    await asyncio.gather(*(buy(b) for b in buyers))
    await three.settle()
    orders = await three.store.db.fetch_all("SELECT buyer_id, number FROM orders ORDER BY number")
    assert len(orders) == 5 and len({o[0] for o in orders}) == 5
    assert [o[1] for o in orders] == list(range(1001, 1006))
    assert (await three.store.products.get(product_id)).stock == 0
    receipts = [m for b in buyers for m in b.chat.bot_messages if "Order #" in (m.text or "") and "placed" in (m.text or "")]
    assert len(receipts) == 5, "one receipt per order, none sent twice"
    notices = Counter(m.text.split("\n")[0] for m in ann.chat.bot_messages if m.text and m.text.startswith("🛒"))
    assert all(n == 1 for n in notices.values()), notices
    assert all(d > 0 for d in three.delivered), f"every worker was given updates: {three.delivered}"


async def test_one_users_updates_spread_over_workers_are_handled_in_order(three):
    ann = await merchant_with_shop(three)
    await add_product(ann, "Tea, 88, 200")
    await ann.tap("🔴 Put on next free link")
    shop = await current_shop(three, ann)
    # /addproduct's questions answered before any is handled, each update to a random worker:
    # handled out of order, "Honey" would be read as a price or "58" as a name.
    three.tg.set_settle_hook(None)
    for line in ("/addproduct", "Honey", "58", "30"):
        await ann.send(line)
    three.tg.set_settle_hook(three.settle)
    await three.settle()
    while "Skip" in " ".join(b for row in ann.last.buttons for b in row):  # the photo, the description
        await ann.tap("Skip")
    honey = await three.store.db.fetch_one("SELECT name, price, stock FROM products WHERE name = 'Honey'")
    assert tuple(honey) == ("Honey", 5800, 30), [m.text for m in ann.chat.bot_messages[-8:]]
    assert shop.id and sum(three.delivered) >= 6


async def test_the_outbox_is_drained_by_every_worker_without_sending_a_message_twice(three):
    people = [three.user(f"Follower{i}") for i in range(60)]
    for person in people:
        await person.send("/start")
    await three.settle()
    for bot in three.workers:  # as every 5 s: each worker knows there are three
        await bot.workers.beat()
    before = {p.id: len(p.chat.bot_messages) for p in people}
    messages = [Outgoing(p.id, "sendMessage", {"text": f"Harvest news {p.id}"}, priority=Priority.BULK)
                for p in people]
    await three.store.outbox.send_all_later(messages)
    for bot in three.workers:
        bot.outbox.job.wake()
    await three.settle()
    for person in people:
        news = [m for m in person.chat.bot_messages[before[person.id]:] if m.text == f"Harvest news {person.id}"]
        assert len(news) == 1, (person.id, len(news))
    holders = await three.store.db.fetch_all("SELECT DISTINCT holder FROM leases WHERE name LIKE 'chat:%'")
    assert len(holders) >= 2, "more than one worker sent"


async def test_scheduled_work_runs_on_one_worker_and_another_takes_over_when_it_stops(three):
    leading = [bot for bot in three.workers if bot.workers.leading]
    assert len(leading) == 1
    for bot in three.workers:
        await bot.workers.beat()
    assert sum(bot.workers.leading for bot in three.workers) == 1
    await three.stop_worker(three.workers.index(leading[0]))
    for bot in three.workers:
        await bot.workers.beat()
    assert sum(bot.workers.leading for bot in three.workers) == 1


async def test_the_bot_wide_telegram_budget_is_shared_not_multiplied(three):
    for bot in three.workers:
        await bot.workers.beat()
    rates = [bot.pacer._bulk.rate for bot in three.workers]  # noqa: SLF001 - the budget each keeps
    assert sum(rates) == pytest.approx(three.config.limits.sends_per_second)
    await three.stop_worker(0)
    for bot in three.workers:
        await bot.workers.beat()
    assert sum(bot.pacer._bulk.rate for bot in three.workers) == pytest.approx(three.config.limits.sends_per_second)  # noqa: SLF001


async def test_a_staff_member_added_on_one_worker_gets_orders_handled_by_another(three):
    ann = await merchant_with_shop(three)
    await add_product(ann, "Tea, 88, 200")
    await ann.tap("🔴 Put on next free link")
    shop = await current_shop(three, ann)
    await ann.send("/staff")  # on one worker...
    await ann.tap("Invite staff")
    cara = three.user("Cara")
    await cara.send(f"/start {ann.last.text.split()[-1].split('start=')[1]}")
    bobs = [three.user(f"Bob{i}") for i in range(4)]  # several orders: each lands on some worker
    for bob in bobs:
        await save_delivery(three, bob)
        await bob.send(f"/start l_{shop.slug}_1")
        await bob.tap("Buy now")
        await bob.tap("Confirm order")
    await three.settle()
    # ...the orders on the others: every worker reads the staff list fresh (no per-worker cache).
    seen = " ".join(m.text or "" for m in cara.chat.bot_messages)
    assert all(f"#{n}" in seen for n in range(1001, 1001 + len(bobs))), seen


async def test_a_second_polling_process_on_the_same_postgresql_database_is_refused_naming_the_first(tmp_path):
    import os

    from runtime.livecart import Livecart
    from runtime.single_poller import AnotherPoller
    from tests.harness import fake_request, start_world

    world = await start_world(tmp_path)  # polling, holding the database's advisory lock
    try:
        second = Livecart(world.config, request=fake_request(world.tg), updates_request=fake_request(world.tg, 4))
        with pytest.raises(AnotherPoller) as refused:
            await second.start()
        await second.stop()
        message = str(refused.value)
        assert f"(pid {os.getpid()})" in message and "already polling" in message and "***" not in message
        assert "webhook mode" in message  # the way to several workers
    finally:
        await world.stop()


async def test_the_doctor_checks_a_postgresql_database_and_counts_the_live_workers(three):
    from runtime.doctor import FAIL, OK, check_postgres
    from storage.db import LATEST_VERSION
    from tests import harness

    finding = await check_postgres(harness.postgres_database)
    assert finding.status == OK
    assert f"PostgreSQL, schema version {LATEST_VERSION} (current), 3 worker(s) live" in finding.line()
    import uuid

    server = pg_databases.server_url()
    new = f"livecart_doctor_{uuid.uuid4().hex[:8]}"
    admin = await pg_databases._connect(server)  # noqa: SLF001 - the test's own server connection
    try:
        await admin.execute(f'CREATE DATABASE "{new}"')
        fresh = await check_postgres(pg_databases.database_url(server, new))
        assert fresh.status == OK and "no tables yet; the bot creates them when it starts" in fresh.line()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{new}" WITH (FORCE)')
        await admin.close()
    unreachable = await check_postgres("postgresql://shop:secret@/livecart?host=/nonexistent")
    assert unreachable.status == FAIL and "cannot connect" in unreachable.line()
    assert "secret" not in unreachable.line() and "shop:***@" in unreachable.line()


async def test_an_update_a_dead_worker_stored_but_never_handled_is_adopted_by_another(three):
    from tests.test_reliability import raw_command

    ann = three.user("Ann")
    await ann.send("/start")
    # As a worker leaves it when killed after answering Telegram's 200, before handling: stored,
    # unprocessed, its user's lease run out. Nothing else of Ann's comes to wake anyone.
    await three.store.inbox.store([raw_command(777_001, ann, "/help")])
    async with three.store.db.write() as conn:
        await conn.execute("UPDATE inbox SET received_at = received_at - 60 WHERE update_id = 777001")
    for bot in three.workers:  # the adoption job's run, on every worker at once
        await bot.pipeline.adopt()
    await three.settle()
    assert "/myorders" in ann.last.text
    assert await three.store.inbox.unprocessed_count() == 0
    helps = [m for m in ann.chat.bot_messages if "/myorders" in (m.text or "")]
    assert len(helps) == 1, "adopted by all three, handled by one"


async def test_housekeeping_forgets_the_leases_of_workers_gone_for_an_hour(three):
    import time

    async with three.store.db.write() as conn:
        await conn.execute("INSERT INTO leases (name, holder, until) VALUES ('worker:gone', 'gone', ?)",
                           (time.time() - 7200,))
        await conn.execute("INSERT INTO leases (name, holder, until) VALUES ('chat:5', 'gone', ?)", (time.time() - 7200,))
    assert (await three.workers[0].keep_house_once())["leases"] == 2
    live = await three.store.db.fetch_value("SELECT count(*) FROM leases WHERE name LIKE 'worker:%'")
    assert live == 3  # the three live workers' own
