"""The SQLite connection pair, transactions and schema migrations.

One connection writes and one reads. Writes are serialised by an asyncio lock and run as
`BEGIN IMMEDIATE` transactions, so two tasks can never interleave statements inside one
transaction on the shared connection (aiosqlite would happily do that). With WAL the reader
sees the last committed state without waiting for writers.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 5000


def migration_files() -> list[tuple[int, Path]]:
    """The migrations in order: files named NNNN_what.sql, version = NNNN."""
    files = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        files.append((int(path.name.split("_", 1)[0]), path))
    versions = [v for v, _ in files]
    if versions != list(range(1, len(files) + 1)):
        raise RuntimeError(f"migration files must be numbered 1..N without gaps, found {versions}")
    return files


LATEST_VERSION = len(migration_files())


class Database:
    """Owns the writer and reader connections of one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._after_commit: list[Callable[[], None]] = []

    async def open(self, *, migrate_to: int | None = None) -> "Database":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await self._writer.execute("PRAGMA journal_mode = WAL")
        await self.migrate(migrate_to)
        self._reader = await self._connect()
        return self

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        await conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    async def schema_version(self) -> int:
        conn = self._writer or self._reader
        assert conn is not None, "database is not open"
        async with conn.execute("PRAGMA user_version") as cur:
            row = await cur.fetchone()
        return int(row[0])

    async def migrate(self, target: int | None = None) -> None:
        """Bring the schema up to `target` (default: the latest), one transaction per step."""
        target = LATEST_VERSION if target is None else target
        current = await self.schema_version()
        if current > LATEST_VERSION:
            raise RuntimeError(
                f"database {self.path} has schema version {current}, newer than this Livecart "
                f"({LATEST_VERSION}); upgrade Livecart before opening it"
            )
        assert self._writer is not None
        for version, path in migration_files():
            if current < version <= target:
                script = path.read_text(encoding="utf-8")
                async with self._write_lock:
                    try:
                        await self._writer.executescript(
                            f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
                        )
                    except Exception:
                        if self._writer.in_transaction:
                            await self._writer.execute("ROLLBACK")
                        raise
                log.info("database %s migrated to schema version %d (%s)", self.path, version, path.name)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: all statements inside commit together or not at all."""
        assert self._writer is not None, "database is not open"
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                self._after_commit.clear()
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")
                callbacks, self._after_commit = self._after_commit, []
                for callback in callbacks:
                    callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run `callback` once the current write transaction commits (never if it rolls back)."""
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    async def fetch_one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        assert self._reader is not None, "database is not open"
        async with self._reader.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetch_all(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        assert self._reader is not None, "database is not open"
        async with self._reader.execute(sql, params) as cur:
            return list(await cur.fetchall())

    async def fetch_value(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def backup(self, target: str | Path) -> None:
        """A consistent copy of the live database (SQLite online backup)."""
        assert self._reader is not None, "database is not open"
        dest = await aiosqlite.connect(target)
        try:
            await self._reader.backup(dest)
        finally:
            await dest.close()


def now() -> float:
    """Unix time in seconds; one place so tests can reason about stored times."""
    return time.time()


async def fetch_one_in(conn: aiosqlite.Connection, sql: str, params: Iterable[Any] | dict = ()) -> sqlite3.Row | None:
    """Read inside a write transaction (sees its own uncommitted changes)."""
    async with conn.execute(sql, params) as cur:
        return await cur.fetchone()
