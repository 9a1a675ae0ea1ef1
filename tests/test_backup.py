"""`bot.py backup`: a safe, consistent copy (issue 16 item 5), and the checks every backup passes."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from storage import Store
from storage.inbox import Inbox
from storage.backup import BackupError, backup_database, rotate, scheduled_backups, scheduled_name
from storage.db import LATEST_VERSION, Database

pytestmark = pytest.mark.sqlite_only  # about SQLite's own file: the PostgreSQL pass skips it

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def config_for(tmp_path: Path, database: Path) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ntoken = "{TOKEN}"\n[storage]\ndatabase = "{database}"\n', encoding="utf-8")
    return config


def run_backup(config: Path, target: Path | str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LIVECART_TOKEN"}
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), "--config", str(config), "backup", str(target)],
                          capture_output=True, text=True, timeout=60, env=env)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def shop_database(path: Path, orders: int = 0, migrate_to: int | None = None) -> None:
    """A database with a shop (and `orders` orders written as the orders table stores them)."""
    db = await Database(path).open(migrate_to=migrate_to)
    store = Store(db, await Inbox.open(db))
    try:
        async with db.write() as conn:  # as every schema stores a user (the repository reads today's columns)
            await conn.execute("INSERT INTO users (id, first_name, language_code, created_at, updated_at)"
                               " VALUES (1, 'Ann', 'en', 0, 0)")
        shop = await store.shops.create(1, "Oranges", "CNY", "Asia/Shanghai")
        async with db.write() as conn:
            for n in range(orders):
                await conn.execute(
                    "INSERT INTO orders (shop_id, number, buyer_id, status, currency, total, units, phone, recipient,"
                    " address, checkout_token, created_at, updated_at) VALUES (?, ?, 1, 'placed', 'CNY', 990, 1,"
                    " '+8613800138000', 'Ann', '8 Orchard Lane', ?, 0, 0)", (shop.id, 1001 + n, f"t{n}"))
    finally:
        await store.close()


def test_backup_of_a_missing_database_is_refused_and_creates_no_database(tmp_path):
    database = tmp_path / "missing.sqlite3"
    result = run_backup(config_for(tmp_path, database), tmp_path / "copy.sqlite3")
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert not database.exists() and not (tmp_path / "copy.sqlite3").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


async def test_backup_never_migrates_or_changes_the_source(tmp_path):
    database = tmp_path / "old.sqlite3"
    await shop_database(database, orders=3, migrate_to=LATEST_VERSION - 1)  # as an older Livecart left it
    before = digest(database)
    result = run_backup(config_for(tmp_path, database), tmp_path / "copy.sqlite3")
    assert result.returncode == 0, result.stderr
    assert "3 orders" in result.stdout
    assert digest(database) == before
    for path in (database, tmp_path / "copy.sqlite3"):
        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION - 1
        conn.close()


async def test_backup_refuses_a_target_that_is_the_database_itself(tmp_path):
    database = tmp_path / "live.sqlite3"
    await shop_database(database, orders=2)
    before = digest(database)
    (tmp_path / "sub").mkdir()
    os.symlink(database, tmp_path / "alias.sqlite3")
    config = config_for(tmp_path, database)
    for same in (database, tmp_path / "sub" / ".." / "live.sqlite3", tmp_path / "alias.sqlite3"):
        result = run_backup(config, same)
        assert result.returncode == 1 and "is the database itself" in result.stderr, same
    assert digest(database) == before


async def test_backup_replaces_the_target_by_renaming_a_finished_copy(tmp_path):
    database = tmp_path / "live.sqlite3"
    await shop_database(database, orders=4)
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"yesterday's backup")
    witness = tmp_path / "witness"
    os.link(target, witness)  # a second name for the old file: writing in place would change it too
    result = backup_database(database, target)
    assert result.orders == 4
    assert witness.read_bytes() == b"yesterday's backup"
    assert sqlite3.connect(target).execute("SELECT count(*) FROM orders").fetchone()[0] == 4
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]


async def test_a_failed_backup_keeps_the_previous_one_and_leaves_no_partial_file(tmp_path):
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"this is not a database" * 500)
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"the last good backup")
    with pytest.raises(BackupError, match="could not be read"):
        backup_database(broken, target)
    assert target.read_bytes() == b"the last good backup"
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name or "copy.sqlite3-" in p.name]


async def test_backup_is_readable_by_its_owner_only(tmp_path):
    database = tmp_path / "live.sqlite3"
    await shop_database(database)
    target = tmp_path / "copy.sqlite3"
    target.write_bytes(b"")
    target.chmod(0o644)  # an old, too open file at the target
    old_umask = os.umask(0)
    try:
        result = run_backup(config_for(tmp_path, database), target)
    finally:
        os.umask(old_umask)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


async def test_backup_while_the_bot_writes_is_a_consistent_copy(tmp_path):
    database = tmp_path / "live.sqlite3"
    await shop_database(database, orders=5)
    store = await Store.open(database)  # open, as while the bot runs (WAL, uncheckpointed writes)
    try:
        async with store.db.write() as conn:
            await conn.execute("UPDATE shops SET name = 'Oranges and Kiwis'")
        result = backup_database(database, tmp_path / "copy.sqlite3")
    finally:
        await store.close()
    copy = sqlite3.connect(result.path)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT name FROM shops").fetchall() == [("Oranges and Kiwis",)]
    assert result.orders == 5


def test_rotation_keeps_the_newest_backups_and_touches_nothing_else(tmp_path):
    names = [scheduled_name(1_700_000_000 + 3600 * i) for i in range(5)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "livecart.sqlite3").write_bytes(b"not a scheduled backup")
    deleted = rotate(tmp_path, keep=2)
    assert [p.name for p in deleted] == names[:3]
    assert [p.name for p in scheduled_backups(tmp_path)] == names[3:]
    assert (tmp_path / "livecart.sqlite3").exists()
