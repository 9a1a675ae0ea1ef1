"""The PostgreSQL database: the same calls as storage/db.py's SQLite one, through asyncpg's pool.

Chosen by bench/pg_drivers.py: asyncpg spends 0.36 ms of the client's CPU on the flash sale's
order against psycopg 3's 0.60 ms, and the bot's event loop is what a sale waits on.

What differs from SQLite, and why:

* Many transactions run at once, in this process and in other workers: each `write()` takes a
  connection from the pool for its life. A write nested in an open transaction of the same task
  joins it as a savepoint, and `hold_commit()` keeps the first one open until the hold ends,
  exactly as on SQLite (storage/journal.py relies on both).
* Checks that read before they write cannot lean on a single writer: they lock what they read
  (`SELECT ... FOR UPDATE` through the transaction's `lock`) or write conditionally; each names
  how beside it.
* Reads and lookups both go through the pool, except inside the task's own open transaction,
  where they read on its connection (and so see its changes; SQLite's lookup connection sees the
  last commit): a transaction waiting for a second connection could exhaust the pool.
* A single statement that needs no transaction of its own (`write_one`: a lease, a processed mark)
  is one round trip; a commit can wake other workers (`after_commit(tell_others=...)`, NOTIFY).
* SUM and AVG answer `numeric`, which asyncpg would hand over as Decimal; the repositories
  count in integers (minor units) and floats, so numeric comes back as int when whole, else float.
* The schema has migrations of its own (storage/migrations_pg/), numbered with SQLite's: a new
  database starts from the baseline at version 25; tests/test_migrations_pg.py checks that both
  engines' schemas match.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg

from storage.dialect import Translated, to_postgres
from storage.engine import redacted

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations_pg")
LOCKABLE = frozenset({"users", "shops", "products"})  # tables whose rows `lock` may take
POOL_SIZE = 10  # bench/pg_drivers.py: 64 concurrent orders through 10 connections kept p99 < 80 ms
CHANNEL_PREFIX = "livecart_"  # LISTEN/NOTIFY channels: livecart_outbox
MIGRATION_LOCK = 0x4C697665  # an advisory lock id: one worker migrates, the others wait for it


def pg_migration_files() -> list[tuple[int, Path]]:
    """PostgreSQL's migrations in order: the baseline, then one per SQLite migration after it."""
    files = sorted((int(p.name.split("_", 1)[0]), p) for p in MIGRATIONS_DIR.glob("*.sql"))
    versions = [v for v, _ in files]
    if not versions or versions != list(range(versions[0], versions[0] + len(versions))):
        raise RuntimeError(f"PostgreSQL migrations must be numbered without gaps, found {versions}")
    return files


def _numeric(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eEN") else int(text)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("numeric", encoder=str, decoder=_numeric, schema="pg_catalog", format="text")


async def _reset_connection(conn: asyncpg.Connection) -> None:
    """Back into the pool: end a transaction left open (a cancelled task). We change no session
    state, so asyncpg's default reset (four statements, a round trip per release) is not needed."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


def _row_count(status: str) -> int:
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


class PgCursor:
    """A statement inside a write transaction, read with the same awaits as storage/db.Cursor:
    `await tx.execute(...)` runs it, and so does `async with tx.execute(...) as cur:`."""

    __slots__ = ("_conn", "_statement", "_args", "_rows", "_next", "rowcount")

    def __init__(self, conn: asyncpg.Connection, statement: Translated, args: Sequence[Any]) -> None:
        self._conn, self._statement, self._args = conn, statement, args
        self._rows: list[asyncpg.Record] | None = None
        self._next = 0
        self.rowcount = -1

    async def _run(self) -> "PgCursor":
        if self._rows is None:
            if self._statement.returns_rows:
                self._rows = await self._conn.fetch(self._statement.sql, *self._args)
                self.rowcount = len(self._rows)
            else:
                self.rowcount = _row_count(await self._conn.execute(self._statement.sql, *self._args))
                self._rows = []
        return self

    def __await__(self):
        return self._run().__await__()

    async def __aenter__(self) -> "PgCursor":
        return await self._run()

    async def __aexit__(self, *exc: object) -> None:
        return None

    @property
    def lastrowid(self) -> int | None:
        raise NotImplementedError("PostgreSQL has no lastrowid: write the INSERT with RETURNING id")

    async def fetchone(self) -> asyncpg.Record | None:
        rows = (await self._run())._rows or []
        if self._next >= len(rows):
            return None
        self._next += 1
        return rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        rows = (await self._run())._rows or []
        rest, self._next = rows[self._next:], len(rows)
        return rest


class PgWriteTransaction:
    """What `PgDatabase.write()` yields: one pooled connection inside BEGIN ... COMMIT."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> PgCursor:
        statement = to_postgres(sql)
        return PgCursor(self._conn, statement, statement.args(params))

    async def lock(self, table: str, row_id: int) -> None:
        """`SELECT ... FOR UPDATE` on one row, until the transaction ends: a check that reads before
        it writes (a buyer's limits, open orders, deal share) locks its buyer first, so two workers
        placing for one buyer at once take turns instead of both passing the check."""
        assert table in LOCKABLE, table
        await self._conn.execute(f"SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE", row_id)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            await self._conn.executemany(to_postgres(sql).sql, rows)


class _Open:
    """A task's open transaction."""

    __slots__ = ("conn", "after_commit", "notify")

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.after_commit: list[Callable[[], None]] = []
        self.notify: set[str] = set()  # channels told of this transaction when it commits


class PgDatabase:
    """Owns the pool of one PostgreSQL database."""

    engine = "postgresql"
    shared = True  # several workers write it: no in-process cache of rows is trusted

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        self.path = None  # no file: backups and the polling lock work differently (runtime/)
        self._pool_size = pool_size
        self._pool: asyncpg.Pool | None = None
        self._open: dict[asyncio.Task[Any] | None, _Open] = {}
        self.busy_waits = 0  # SQLite's file lock has no counterpart here
        self._listener: asyncpg.Connection | None = None  # LISTEN needs a connection of its own

    async def open(self, *, migrate_to: int | None = None, schema: str | None = None) -> "PgDatabase":
        assert schema is None, "PostgreSQL keeps every table in the one database (the inbox's too)"
        self._pool = await asyncpg.create_pool(self.url, min_size=2, max_size=self._pool_size,
                                               init=_init_connection, reset=_reset_connection)
        await self.migrate(migrate_to)
        return self

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        if self._pool is not None:
            await self._pool.close()
        self._pool = None

    async def checkpoint(self) -> None:
        """SQLite copies its log into the file here; PostgreSQL's own vacuum takes care of that."""

    def pool(self) -> asyncpg.Pool:
        assert self._pool is not None, "database is not open"
        return self._pool

    async def schema_version(self) -> int:
        async with self.pool().acquire() as conn:
            return await _version(conn)

    async def migrate(self, target: int | None = None) -> None:
        """Bring the schema up to `target` (default: the latest), one transaction per step, with an
        advisory lock so that workers starting together migrate once."""
        from storage.db import LATEST_VERSION  # the one latest version, shared with SQLite

        target = LATEST_VERSION if target is None else target
        async with self.pool().acquire() as conn:
            current = await _version(conn)
            if current > LATEST_VERSION:
                raise RuntimeError(f"database {redacted(self.url)} has schema version {current}, newer than this "
                                   f"Livecart ({LATEST_VERSION}); upgrade Livecart before opening it")
            for version, path in pg_migration_files():  # the baseline first: a new database's schema
                if version > target or current >= version:
                    continue
                async with conn.transaction():
                    await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                    current = await _version(conn)  # another worker may have done it meanwhile
                    if current >= version:
                        continue
                    await conn.execute(path.read_text(encoding="utf-8"))
                    await conn.execute("UPDATE schema_version SET version = $1", version)
                    current = version
                log.info("database %s migrated to schema version %d (%s)", redacted(self.url), version, path.name)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[PgWriteTransaction]:
        """A write transaction: all statements inside commit together or not at all (see db.py)."""
        from storage.db import hold_takes_over  # the same hold serves both engines

        task = asyncio.current_task()
        mine = self._open.get(task)
        if mine is not None:
            await mine.conn.execute("SAVEPOINT nested")
            try:
                yield PgWriteTransaction(mine.conn)
            except BaseException:
                await mine.conn.execute("ROLLBACK TO SAVEPOINT nested")
                await mine.conn.execute("RELEASE SAVEPOINT nested")
                raise
            await mine.conn.execute("RELEASE SAVEPOINT nested")
            return
        conn = await self.pool().acquire()
        try:
            await conn.execute("BEGIN")
        except BaseException:
            await self.pool().release(conn)
            raise
        self._open[task] = _Open(conn)
        try:
            yield PgWriteTransaction(conn)
        except BaseException:
            await self._finish(commit=False)
            raise
        if hold_takes_over(self, task):
            return
        await self._finish(commit=True)

    async def _finish(self, *, commit: bool, before_commit: Sequence[tuple[str, Sequence[Any]]] = ()) -> None:
        """End the current task's open transaction and give its connection back."""
        mine = self._open.pop(asyncio.current_task())
        try:
            if commit:
                try:
                    for sql, params in before_commit:
                        statement = to_postgres(sql)
                        await mine.conn.execute(statement.sql, *statement.args(params))
                    # NOTIFY is delivered at commit; sent with it, it costs no round trip of its own.
                    await mine.conn.execute("".join(f"NOTIFY {CHANNEL_PREFIX}{c}; " for c in mine.notify) + "COMMIT")
                except BaseException:
                    commit = False
                    raise
                finally:
                    if not commit and mine.conn.is_in_transaction():
                        await mine.conn.execute("ROLLBACK")
            else:
                await mine.conn.execute("ROLLBACK")
        finally:
            await self.pool().release(mine.conn)
        if commit:
            for callback in mine.after_commit:
                callback()

    async def write_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[asyncpg.Record]:
        """One statement committed on its own: a single round trip (PostgreSQL runs a statement
        outside BEGIN as its own transaction); inside the task's open transaction, part of it."""
        statement = to_postgres(sql)
        mine = self._open.get(asyncio.current_task())
        if mine is not None:
            return await mine.conn.fetch(statement.sql, *statement.args(params))
        return await self.pool().fetch(statement.sql, *statement.args(params))

    def hold_commit(self):
        from storage.db import HeldCommit

        return HeldCommit(self)

    def after_commit(self, callback: Callable[[], None], *, tell_others: str | None = None) -> None:
        """Run `callback` once the current task's write transaction commits (never if it rolls
        back); `tell_others` also wakes what other workers `listen` for on that channel."""
        mine = self._open.get(asyncio.current_task())
        if mine is None:
            raise RuntimeError("after_commit outside a write transaction")
        if callback not in mine.after_commit:
            mine.after_commit.append(callback)
        if tell_others is not None:
            mine.notify.add(tell_others)

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call `callback` whenever a worker commits a transaction that told `channel` (the
        outbox: a message queued by one worker for a chat another holds wakes the holder)."""
        if self._listener is None:
            self._listener = await asyncpg.connect(self.url)
        await self._listener.add_listener(f"{CHANNEL_PREFIX}{channel}", lambda *_: callback())

    async def fetch_all(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> list[asyncpg.Record]:
        """Rows of a query. Inside the task's own transaction (a held one, or a repository reading
        in one) it reads on that transaction's connection: a second connection per transaction
        could exhaust the pool with every holder waiting for one more."""
        statement = to_postgres(sql)
        mine = self._open.get(asyncio.current_task())
        if mine is not None:
            return await mine.conn.fetch(statement.sql, *statement.args(params))
        return await self.pool().fetch(statement.sql, *statement.args(params))

    async def fetch_one(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> asyncpg.Record | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_row(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> asyncpg.Record:
        row = await self.fetch_one(sql, params)
        if row is None:
            raise LookupError(f"no row from a query that always has one: {' '.join(sql.split())[:80]}")
        return row

    async def fetch_value(self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    lookup_all = fetch_all
    lookup_one = fetch_one
    lookup_value = fetch_value


async def probe(url: str) -> tuple[int, int]:
    """(schema version, live workers) of a database, for the doctor; raises when unreachable."""
    conn = await asyncpg.connect(url, timeout=5)
    try:
        version = await _version(conn)
        workers = 0
        if await conn.fetchval("SELECT to_regclass('leases') IS NOT NULL"):
            workers = await conn.fetchval("SELECT count(*) FROM leases WHERE name LIKE 'worker:%' AND until >= "
                                          "extract(epoch FROM now())")
        return version, int(workers)
    finally:
        await conn.close()


async def _version(conn: asyncpg.Connection) -> int:
    exists = await conn.fetchval("SELECT to_regclass('schema_version') IS NOT NULL")
    return int(await conn.fetchval("SELECT version FROM schema_version")) if exists else 0
