"""Scheduled backups, a restore drill, and an upgrade from the previous schema."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
import time
from dataclasses import replace
from pathlib import Path

import pytest

from core.config import BackupConfig
from runtime import metrics
from storage.backup import scheduled_backups
from storage.db import LATEST_VERSION, Database
from tests.harness import World, start_world
from tests.stories import place_order, shop_with_product_on_link

pytestmark = pytest.mark.sqlite_only  # about SQLite's own file: the PostgreSQL pass skips it


def backup_config(tmp_path: Path, keep: int = 2) -> BackupConfig:
    return BackupConfig(every=6 * 3600, keep=keep, directory=tmp_path / "backups")


def backups_ok() -> float:
    return metrics.REGISTRY.get_sample_value("livecart_backups_total", {"result": "ok"}) or 0.0


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


async def test_scheduled_backups_are_checked_copies_rotated_to_the_newest_few(tmp_path):
    world = await start_world(tmp_path, backup=backup_config(tmp_path, keep=2))
    try:
        ann, shop, _ = await shop_with_product_on_link(world)
        ok_before = backups_ok()
        (tmp_path / "backups").mkdir(exist_ok=True)
        cut_off = tmp_path / "backups" / ".livecart-20261201-000000-000.sqlite3.4242.partial"
        cut_off.write_bytes(b"half a copy, from a backup a stop cut off")
        written = []
        for buyer in ("Bob", "Cat", "Dan"):
            await place_order(world, world.user(buyer), shop)
            written.append(await world.bot.backups.back_up_now())
        assert [r.orders for r in written] == [1, 2, 3]  # each holds what the shop had when it was made
        kept = scheduled_backups(tmp_path / "backups")
        assert kept == [r.path for r in written[-2:]]  # the first one made at start and the oldest rotated out
        assert not cut_off.exists()  # swept
        for path in kept:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            conn = sqlite3.connect(path)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
        assert backups_ok() - ok_before >= 3  # (the one made at start may finish meanwhile)
        assert world.bot.backups.next_due_in() > 5 * 3600  # a restart now would not back up again at once
    finally:
        await world.stop()


async def test_the_first_scheduled_backup_is_made_when_the_bot_starts_without_one(tmp_path):
    world = await start_world(tmp_path, backup=backup_config(tmp_path))
    try:
        for _ in range(2000):
            if scheduled_backups(tmp_path / "backups"):
                break
            await asyncio.sleep(0.005)
        assert len(scheduled_backups(tmp_path / "backups")) == 1
    finally:
        await world.stop()


async def test_restore_drill_every_order_product_and_conversation_is_there(tmp_path):
    """Back up a running shop, restore the copy into a new file, start the bot on it."""
    world = await start_world(tmp_path, backup=backup_config(tmp_path))
    try:
        ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 39.90, 50")
        await ann.send("/addproduct Kiwifruit, 25, 80")
        bob, cat = world.user("Bob"), world.user("Cat")
        await place_order(world, bob, shop)
        await place_order(world, cat, shop, taps_plus=2)
        await ann.send("/addproduct")  # a conversation in the middle: the bot waits for the name
        assert "What is the product called?" in ann.last.text
        backup = await world.bot.backups.back_up_now()
        tables = ("orders", "order_items", "products", "flows", "users")
        originals = {t: count(world.config.database, t) for t in tables}
    finally:
        await world.stop()

    restored = tmp_path / "restored" / "livecart.sqlite3"
    restored.parent.mkdir()
    shutil.copyfile(backup.path, restored)
    assert {t: count(restored, t) for t in originals} == originals

    restored_config = replace(world.config, database=restored, backup=BackupConfig())
    again = World(world.tg, restored_config, None)  # type: ignore[arg-type]
    await again.start()
    try:
        await ann.send("Pomelo")  # the conversation goes on where it was
        assert "What does Pomelo cost?" in ann.last.text
        await ann.send("/cancel")
        await ann.send("/orders")
        assert "New: 2" in ann.last.text
        await ann.tap("#1002")
        assert "New order #1002" in ann.last.text and "Oranges × 3" in ann.last.text
        await bob.send("/myorders")
        assert "#1001" in bob.last.text
        await ann.send("/products")
        products = [row[0] for row in ann.last.buttons]
        assert products[:2] == ["Kiwifruit · CN¥25.00 · 80 left", "Oranges · CN¥39.90 · 46 left"]
        dan = world.user("Dan")
        await place_order(again, dan, shop)  # and the shop sells on: the next number follows
        assert "#1003" in dan.chat.bot_messages[-1].text
    finally:
        await again.stop()


async def old_shop_database(path: Path, version: int, owner_id: int, buyer_id: int) -> None:
    """A database as the previous schema left it, written with the columns every schema has had."""
    db = await Database(path).open(migrate_to=version)
    try:
        async with db.write() as conn:
            for user_id, name in ((owner_id, "Ann"), (buyer_id, "Bob")):
                await conn.execute("INSERT INTO users (id, first_name, language_code, created_at, updated_at)"
                                   " VALUES (?, ?, 'en', 0, 0)", (user_id, name))
            await conn.execute("INSERT INTO shops (id, slug, name, owner_id, currency, timezone, created_at)"
                               " VALUES (1, 'oldshop1', 'Old Orchard', ?, 'CNY', 'Asia/Shanghai', 0)", (owner_id,))
            await conn.execute("INSERT INTO shop_members (shop_id, user_id, role, added_at) VALUES (1, ?, 'owner', 0)",
                               (owner_id,))
            await conn.execute("UPDATE users SET current_shop_id = 1 WHERE id = ?", (owner_id,))
            await conn.execute("INSERT INTO products (id, shop_id, name, price, stock, created_at, updated_at)"
                               " VALUES (1, 1, 'Old oranges', 3990, 10, 0, 0)")
            for number in (1001, 1002):
                cur = await conn.execute(
                    "INSERT INTO orders (shop_id, number, buyer_id, status, currency, total, units, phone, recipient,"
                    " address, checkout_token, created_at, updated_at) VALUES (1, ?, ?, 'placed', 'CNY', 3990, 1,"
                    " '+8613800138000', 'Bob', '8 Orchard Lane', ?, ?, ?)",
                    (number, buyer_id, f"old{number}", time.time(), time.time()))
                await conn.execute("INSERT INTO order_items (order_id, product_id, name, unit_price, quantity)"
                                   " VALUES (?, 1, 'Old oranges', 3990, 1)", (cur.lastrowid,))
            await conn.execute("UPDATE shops SET next_order_number = 1003")
    finally:
        await db.close()


async def test_the_current_bot_starts_on_a_database_of_the_previous_schema_and_backs_it_up_first(tmp_path):
    from faketg import FakeTelegram
    from tests.harness import make_config

    previous = LATEST_VERSION - 1
    database = tmp_path / "livecart.sqlite3"
    tg = FakeTelegram()
    ann, bob = tg.user("Ann"), tg.user("Bob")
    await old_shop_database(database, previous, ann.id, bob.id)
    world = World(tg, make_config(tmp_path), None)  # type: ignore[arg-type]
    await world.start()
    try:
        assert await world.store.db.schema_version() == LATEST_VERSION
        backups = list(tmp_path.glob(f"livecart.sqlite3.v{previous}-*.backup"))
        assert len(backups) == 1  # beside the database, as it was before the upgrade
        conn = sqlite3.connect(backups[0])
        assert conn.execute("PRAGMA user_version").fetchone()[0] == previous
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 2
        conn.close()
        assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600

        await ann.send("/orders")
        assert "New: 2" in ann.last.text
        await ann.tap("#1001")
        assert "Old oranges × 1" in ann.last.text
        await ann.tap("✅ Confirm")
        assert "Old Orchard confirmed your order #1001" in bob.last.text
    finally:
        await world.stop()
    # Opening it again does not back it up again: it is current now.
    await (await Database(database).open()).close()
    assert len(list(tmp_path.glob("livecart.sqlite3.v*.backup"))) == 1


async def test_orders_and_products_from_before_shipping_presale_and_claims_carry_over_unchanged(tmp_path):
    """A database as it was before shipping fees, pre-sales, claims and one-variant links (version
    19): its orders keep their totals with no fee, region or ship date, its products are in stock,
    and a new order from it gets the new features."""
    from faketg import FakeTelegram
    from tests.harness import make_config

    database = tmp_path / "livecart.sqlite3"
    tg = FakeTelegram()
    ann, bob = tg.user("Ann"), tg.user("Bob")
    await old_shop_database(database, 19, ann.id, bob.id)
    world = World(tg, make_config(tmp_path), None)  # type: ignore[arg-type]
    await world.start()
    try:
        orders = await world.store.orders.of_buyer(bob.id)
        assert [(o.total, o.shipping_fee, o.region, o.ships_from, o.parcel_of) for o in orders] == \
            [(3990, 0, None, None, None)] * 2
        product = await world.store.products.get(1)
        assert product.ships_from is None and not product.presale_closed
        assert not (await world.store.shipping.of_shop(1, "CN")).configured
        assert not (await world.store.claims.policy(1)).enabled
        await ann.send("/orders")
        await ann.tap("#1001")
        assert "Shipping" not in ann.last.text and "Total: CN¥39.90" in ann.last.text
    finally:
        await world.stop()
