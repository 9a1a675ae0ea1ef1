"""Schema migrations: a new database and one from an older version both end at the current schema."""

from __future__ import annotations

import sqlite3

import pytest

from storage.db import LATEST_VERSION, Database

pytestmark = pytest.mark.sqlite_only  # about SQLite's own file: the PostgreSQL pass skips it


def schema(path) -> dict[str, str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name").fetchall()
    finally:
        conn.close()
    return dict(rows)


async def test_new_database_gets_the_latest_schema(tmp_path):
    db = await Database(tmp_path / "new.sqlite3").open()
    try:
        assert await db.schema_version() == LATEST_VERSION
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        assert await db.fetch_value("PRAGMA busy_timeout") == 5000
    finally:
        await db.close()


async def test_database_from_every_older_version_is_upgraded_to_the_same_schema(tmp_path):
    fresh = tmp_path / "fresh.sqlite3"
    await (await Database(fresh).open()).close()
    for start in range(1, LATEST_VERSION):
        path = tmp_path / f"v{start}.sqlite3"
        old = await Database(path).open(migrate_to=start)
        assert await old.schema_version() == start
        # Data written by the old version survives the upgrade.
        async with old.write() as conn:
            await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (1, 'Old', 0, 0)")
        await old.close()
        upgraded = await Database(path).open()
        assert await upgraded.schema_version() == LATEST_VERSION
        assert await upgraded.fetch_value("SELECT first_name FROM users WHERE id = 1") == "Old"
        await upgraded.close()
        assert schema(path) == schema(fresh)


async def test_failed_write_transaction_leaves_nothing_behind(tmp_path):
    db = await Database(tmp_path / "t.sqlite3").open()
    try:
        try:
            async with db.write() as conn:
                await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (2, 'X', 0, 0)")
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert await db.fetch_value("SELECT count(*) FROM users") == 0
        async with db.write() as conn:  # and the writer is free again
            await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (3, 'Y', 0, 0)")
        assert await db.fetch_value("SELECT count(*) FROM users") == 1
    finally:
        await db.close()


@pytest.mark.suspends_transactions
async def test_concurrent_write_transactions_do_not_interleave(tmp_path):
    """Each transaction reads a counter and writes it back +1; interleaving would lose increments."""
    import asyncio

    db = await Database(tmp_path / "c.sqlite3").open()
    try:
        async with db.write() as conn:
            await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (1, '0', 0, 0)")

        async def bump() -> None:
            async with db.write() as conn:
                async with conn.execute("SELECT first_name FROM users WHERE id = 1") as cur:
                    value = int((await cur.fetchone())[0])
                await asyncio.sleep(0)  # give another task every chance to cut in
                await conn.execute("UPDATE users SET first_name = ? WHERE id = 1", (str(value + 1),))

        await asyncio.gather(*(bump() for _ in range(100)))
        assert await db.fetch_value("SELECT first_name FROM users WHERE id = 1") == "100"
    finally:
        await db.close()
