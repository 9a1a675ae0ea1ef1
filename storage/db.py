"""The SQLite connections, transactions and schema migrations (the embedded default; the same
calls on PostgreSQL are storage/pg.py's, and storage/engine.py opens one or the other).

Reads come in two kinds. Reports and lists (`fetch_*`) go through aiosqlite on a reader
connection: a report over 100,000 orders must not stall the event loop, and WAL lets it see the
last committed state without waiting for writers. Lookups by key (`lookup_*`: a product by id, a
user's conversation, the product on a link) touch a handful of rows through an index and take
microseconds, so they run synchronously on the event loop on a connection of their own: the hop
to aiosqlite's thread costs the loop far more than the query (bench/flash_sale.py).

Another process holding the file's write lock must not freeze the bot: the connections used on
the event loop let SQLite wait only LOOP_BUSY_TIMEOUT_MS, then the task sleeps asynchronously and
tries again (`_begin`, `_wait_out_busy`), so only what needs the lock waits.

A write inside a `hold_commit()` block keeps its transaction open until the block ends, and a
write nested in an open transaction of the same task joins it as a savepoint: that is how an
update's journal row commits with the handler's own write (storage/journal.py).

Writes run on a plain sqlite3 connection, synchronously on the event loop, inside `write()`.
A write here is a few small statements (tens of microseconds each; with WAL and
synchronous=NORMAL a commit does not fsync), while a hop to aiosqlite's thread costs several
times that and a flash sale makes a dozen per order: measured by bench/flash_sale.py, the thread
hops, not SQLite, were the bottleneck. Transactions are still serialised (by a WriterGate) and
run as `BEGIN IMMEDIATE`, so two tasks can never interleave statements in one transaction even
when a transaction awaits something in the middle; such awaits should stay rare, since every
other writer waits meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import traceback
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

from storage.backup import BackupError, backup_database, pre_migration_path

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Another process holding the write lock (a backup, an operator's sqlite3 shell) must not freeze
# the bot: connections used on the event loop let SQLite wait only this long, then writes wait
# asynchronously (Database._begin); the reports' connection has a thread of its own.
LOOP_BUSY_TIMEOUT_MS = 20
THREAD_BUSY_TIMEOUT_MS = 5000
# Durability, a stated choice (README, "Durability"): in WAL mode NORMAL commits survive any crash
# of the process (SIGKILL included: tests/crash_drill.py) but a power loss or an OS crash can take
# back the last commits. FULL would fsync every commit: 290 us instead of 22 us per commit on these
# machines, on the event loop, at ~1.3 commits per update of a sale.
SYNCHRONOUS = "NORMAL"
RETRY_FIRST_DELAY = 0.01  # seconds; doubled after each try up to RETRY_MAX_DELAY
RETRY_MAX_DELAY = 0.25
WRITE_WAIT_LIMIT = 120.0  # a write gives up (raises "database is locked") after waiting this long


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


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


class Cursor:
    """A finished statement's cursor, read with the same awaits as an aiosqlite cursor."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    async def fetchone(self) -> sqlite3.Row | None:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[sqlite3.Row]:
        return self._cursor.fetchall()

    def __await__(self):  # `await conn.execute(...)` gives the cursor
        yield from ()
        return self

    async def __aenter__(self) -> Cursor:  # `async with conn.execute(...) as cur:`
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()


class WriteTransaction:
    """What `Database.write()` yields: the writer connection, with aiosqlite's call shapes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Sequence[Any] | dict = ()) -> Cursor:
        return Cursor(self._conn.execute(sql, params))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        return Cursor(self._conn.executemany(sql, rows))

    async def lock(self, table: str, row_id: int) -> None:
        """Lock a row until the transaction ends, before reading what a check depends on
        (storage/pg.py). SQLite has one writer at a time: every transaction holds the lock already."""


class WriterGate:
    """Who may write: one transaction at a time, without convoys.

    asyncio.Lock is fair: once anyone waits, every newcomer queues behind them, even while the
    lock is free and the woken waiter has not run yet. A transaction body here is normally
    synchronous, so nobody waits; but one body that does suspend (a cache miss reading through
    aiosqlite, say) started a queue that fairness kept alive for the rest of a flash sale, and every
    write then cost a hand-over through the event loop: a third more CPU per update
    (bench/flash_sale.py). Here a newcomer takes a free gate at once; a woken waiter checks again.
    """

    def __init__(self) -> None:
        self._held = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    async def __aenter__(self) -> None:
        while self._held:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                elif not self._held:
                    self._wake_one()  # we were woken but will not take it: pass the turn on
                raise
        self._held = True

    async def __aexit__(self, *exc: object) -> None:
        self._held = False
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class HeldCommit:
    """A write transaction kept open past its `async with` block, so that what the holder adds at
    the end (storage/journal.py: the record of an update's step) commits with it, atomically.

    `async with Database.hold_commit() as held:` the first `write()` of the task inside it does not
    commit at the end of its block, later ones join it (as savepoints); the hold commits it, with
    `before_commit` run just before, or rolls it all back on an exception. (A class rather than a
    generator: it wraps every write of every update.)
    """

    __slots__ = ("db", "open", "task", "before_commit", "_token")

    def __init__(self, db: "Database") -> None:
        self.db = db
        self.open = False  # a transaction is being held
        self.task = asyncio.current_task()
        self.before_commit: list[tuple[str, Sequence[Any]]] = []

    async def __aenter__(self) -> "HeldCommit":
        self._token = _HELD.set(self)
        return self

    async def __aexit__(self, exc_type: object, exc: object, tb: object) -> None:
        _HELD.reset(self._token)
        if self.open:
            self.open = False
            await self.db._finish(commit=exc_type is None, before_commit=self.before_commit)  # noqa: SLF001


_HELD: ContextVar[HeldCommit | None] = ContextVar("livecart_held_commit", default=None)


def hold_takes_over(db: object, task: asyncio.Task[Any] | None) -> bool:
    """Whether the task's open `hold_commit()` on `db` takes over the transaction just written:
    it stays open, and the hold commits it later with what it adds (either engine)."""
    held = _HELD.get()
    if held is not None and held.db is db and held.task is task and not held.open:
        held.open = True
        return True
    return False


class Database:
    """Owns the writer and reader connections of one SQLite file."""

    engine = "sqlite"
    shared = False  # one process writes the file (runtime/single_poller.py)

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._writer: sqlite3.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._looker: sqlite3.Connection | None = None  # lookups by key, on the event loop
        self._writer_gate = WriterGate()
        self._owner: asyncio.Task[Any] | None = None  # the task whose transaction is open
        self._after_commit: list[Callable[[], None]] = []
        self.busy_waits = 0  # times a write found the file locked by another connection (tests, bench)
        self._probe: asyncio.Handle | None = None  # fires if a transaction body lets the loop run

    def _pragmas(self, busy_ms: int) -> tuple[str, ...]:
        # secure_delete: what a buyer erases (/deletemydata) and what pruning drops is zeroed in the
        # file, not left readable in free space.
        return (f"PRAGMA busy_timeout = {busy_ms}", "PRAGMA foreign_keys = ON",
                f"PRAGMA synchronous = {SYNCHRONOUS}", "PRAGMA secure_delete = ON")

    async def open(self, *, migrate_to: int | None = None, schema: str | None = None) -> "Database":
        """Open (creating) the file: with the app's migrations, or with `schema` (a script of
        CREATE ... IF NOT EXISTS statements) for a file of its own such as the inbox's."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = sqlite3.connect(self.path, isolation_level=None)  # we BEGIN/COMMIT ourselves
        self._writer.row_factory = sqlite3.Row
        for pragma in ("PRAGMA journal_mode = WAL", *self._pragmas(LOOP_BUSY_TIMEOUT_MS)):
            self._writer.execute(pragma)
        if schema is None:
            await self.migrate(migrate_to)
        else:
            self._writer.executescript(f"BEGIN IMMEDIATE;\n{schema}\nCOMMIT;")
        self._reader = await aiosqlite.connect(self.path, isolation_level=None)
        self._reader.row_factory = sqlite3.Row
        for pragma in self._pragmas(THREAD_BUSY_TIMEOUT_MS):  # its own thread: waiting blocks nobody
            await self._reader.execute(pragma)
        self._looker = sqlite3.connect(self.path, isolation_level=None)  # autocommit: each read sees the latest commit
        self._looker.row_factory = sqlite3.Row
        for pragma in self._pragmas(LOOP_BUSY_TIMEOUT_MS):
            self._looker.execute(pragma)
        return self

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the file and empty it, so old versions of erased rows do
        not linger there (after /deletemydata). Waits, without blocking the loop, for a writer."""
        async with self._writer_gate:
            assert self._writer is not None
            self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        if self._reader is not None:
            await self._reader.close()
        for conn in (self._looker, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._looker = self._writer = None

    async def schema_version(self) -> int:
        if self._writer is not None:
            return int(self._writer.execute("PRAGMA user_version").fetchone()[0])
        return int(await self.fetch_value("PRAGMA user_version"))

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
        if 0 < current < target:
            self._back_up_before_migrating(current)
        for version, path in migration_files():
            if current < version <= target:
                script = path.read_text(encoding="utf-8")
                async with self._writer_gate:
                    # executescript commits whatever is open first, so BEGIN is part of the script;
                    # _begin() waits out another process's lock before it.
                    await self._begin()
                    self._writer.execute("ROLLBACK")
                    try:
                        self._writer.executescript(
                            f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;")
                    except Exception:
                        if self._writer.in_transaction:
                            self._writer.execute("ROLLBACK")
                        raise
                log.info("database %s migrated to schema version %d (%s)", self.path, version, path.name)

    def _back_up_before_migrating(self, current: int) -> None:
        """An upgrade that goes wrong must not cost the shop its data: copy it beside the file first."""
        target = pre_migration_path(self.path, current, time.time())
        try:
            result = backup_database(self.path, target)
        except (BackupError, OSError) as exc:
            raise RuntimeError(f"database {self.path} was not migrated: the backup before migrating failed ({exc}); "
                               "free some disk space or fix the problem, then start again") from None
        log.info("database %s is at schema version %d: backed up to %s (%d orders) before migrating",
                 self.path, current, result.path, result.orders)

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting for another process's write lock without blocking the loop.

        SQLite's own busy wait sleeps inside the call, on the event loop: with the old 5 s timeout
        a backup or an operator's sqlite3 shell holding the lock froze every user. Here SQLite waits
        only LOOP_BUSY_TIMEOUT_MS, then this task sleeps asynchronously (backing off) and tries
        again; lookups, the outbox and other users' updates go on meanwhile. Only writes wait
        (they hold the writer gate, so they queue behind this one instead of all polling).
        """
        assert self._writer is not None
        try:
            self._writer.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc):
                raise
        log.warning("database %s is locked by another connection; writes wait", self.path)
        writer = self._writer
        await self._wait_out_busy(lambda: writer.execute("BEGIN IMMEDIATE"))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[WriteTransaction]:
        """A write transaction: all statements inside commit together or not at all.

        Inside a `hold_commit()` the first transaction stays open after its block and later ones
        join it; a write nested in an open transaction of the same task joins it as a savepoint.
        """
        assert self._writer is not None, "database is not open"
        task = asyncio.current_task()
        if self._owner is not None and self._owner is task:
            self._writer.execute("SAVEPOINT nested")
            try:
                yield WriteTransaction(self._writer)
            except BaseException:
                self._writer.execute("ROLLBACK TO nested")
                self._writer.execute("RELEASE nested")
                raise
            self._writer.execute("RELEASE nested")
            return
        await self._writer_gate.__aenter__()
        try:
            await self._begin()
        except BaseException:
            await self._writer_gate.__aexit__()
            raise
        self._owner = task
        self._probe = asyncio.get_running_loop().call_soon(_suspended_in_transaction, self, task)
        try:
            yield WriteTransaction(self._writer)
        except BaseException:
            await self._finish(commit=False)
            raise
        if hold_takes_over(self, task):
            return
        await self._finish(commit=True)

    async def _finish(self, *, commit: bool, before_commit: Sequence[tuple[str, Sequence[Any]]] = ()) -> None:
        """End the open transaction and free the writer gate."""
        assert self._writer is not None
        try:
            if commit:
                try:
                    for sql, params in before_commit:
                        self._writer.execute(sql, params)
                    self._writer.execute("COMMIT")
                except BaseException:
                    commit = False
                    raise
                finally:
                    if not commit and self._writer.in_transaction:
                        self._writer.execute("ROLLBACK")
            else:
                self._writer.execute("ROLLBACK")
        finally:
            self._owner = None
            if self._probe is not None:
                self._probe.cancel()
                self._probe = None
            callbacks, self._after_commit = self._after_commit, []
            await self._writer_gate.__aexit__()
        if commit:
            for callback in callbacks:
                callback()

    async def write_one(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        """One statement committed on its own (joining the task's open transaction, if any); its rows."""
        async with self.write() as conn:
            return await conn.execute(sql, params).fetchall()

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Other workers' commits (storage/pg.py); a SQLite file has one process, so none come."""

    def hold_commit(self) -> HeldCommit:
        """Keep the first write transaction inside the `async with` block open until the block
        ends; statements added to `before_commit` run just before it commits."""
        return HeldCommit(self)

    def after_commit(self, callback: Callable[[], None], *, tell_others: str | None = None) -> None:
        """Run `callback` once the current write transaction commits (never if it rolls back).
        (`tell_others` wakes other workers on PostgreSQL; SQLite has one process.)"""
        if callback not in self._after_commit:
            self._after_commit.append(callback)

    async def fetch_all(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        """Rows of a query on the reader (one hop to its thread)."""
        assert self._reader is not None, "database is not open"
        return list(await self._reader.execute_fetchall(sql, params))

    async def fetch_one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        return _first(await self.fetch_all(sql, params))

    async def fetch_row(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row:
        """The row of a query that always has one (an aggregate), on the reader."""
        row = await self.fetch_one(sql, params)
        if row is None:
            raise LookupError(f"no row from a query that always has one: {' '.join(sql.split())[:80]}")
        return row

    async def fetch_value(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        return _value(await self.fetch_one(sql, params))

    async def lookup_all(self, sql: str, params: Sequence[Any] | dict = ()) -> list[sqlite3.Row]:
        """Rows found by key through an index (a handful), read on the event loop. Never a scan:
        anything that may read many rows belongs on fetch_all."""
        assert self._looker is not None, "database is not open"
        if self._owner is not None and self._owner is asyncio.current_task():
            _read_elsewhere_in_transaction(sql)  # sees the last commit, not this transaction's changes
        try:
            return self._looker.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:  # rare in WAL (a checkpoint resetting the log)
            if not _is_busy(exc):
                raise
        looker = self._looker
        return await self._wait_out_busy(lambda: looker.execute(sql, params).fetchall())

    async def _wait_out_busy(self, attempt: Callable[[], Any]) -> Any:
        """Try again, sleeping asynchronously between tries, while the file is busy."""
        delay, waited = RETRY_FIRST_DELAY, 0.0
        while True:
            self.busy_waits += 1
            await asyncio.sleep(delay)
            waited += delay + LOOP_BUSY_TIMEOUT_MS / 1000
            delay = min(delay * 2, RETRY_MAX_DELAY)
            try:
                return attempt()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or waited >= WRITE_WAIT_LIMIT:
                    raise

    async def lookup_one(self, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
        return _first(await self.lookup_all(sql, params))

    async def lookup_value(self, sql: str, params: Sequence[Any] | dict = ()) -> Any:
        return _value(await self.lookup_one(sql, params))

# A transaction body runs only its own statements: nothing in it may let the event loop run (a Bot
# API call, a read through another connection, handler code that awaits), since every other writer
# waits meanwhile and the same code must later run on PostgreSQL's async drivers within a short
# transaction. The writer arms a callback on the loop when a body starts; the loop can only run it
# if the body suspends. Each such suspension is logged with where the body waited, and kept in
# `suspensions` (tests fail on any: tests/conftest.py).
suspensions: list[str] = []


def _suspended_in_transaction(db: "Database", task: asyncio.Task[Any] | None) -> None:
    db._probe = None  # noqa: SLF001
    frames = task.get_stack() if task is not None else []
    where = " <- ".join(f"{'/'.join(f.f_code.co_filename.rsplit('/', 2)[-2:])}:{f.f_lineno} {f.f_code.co_name}"
                        for f in reversed(frames[-6:]))
    suspensions.append(where)
    log.warning("a write transaction waited on something else while holding the writer: %s", where)


def _read_elsewhere_in_transaction(sql: str) -> None:
    frames = [f for f in traceback.extract_stack(limit=8)[:-2]]
    where = " <- ".join(f"{'/'.join(f.filename.rsplit('/', 2)[-2:])}:{f.lineno} {f.name}" for f in reversed(frames))
    suspensions.append(f"lookup in a transaction ({' '.join(sql.split())[:60]}): {where}")
    log.warning("a write transaction read through the lookup connection: %s", where)


def _first(rows: list[sqlite3.Row]) -> sqlite3.Row | None:
    return rows[0] if rows else None


def _value(row: sqlite3.Row | None) -> Any:
    return None if row is None else row[0]


def now() -> float:
    """Unix time in seconds; one place so tests can reason about stored times."""
    return time.time()


async def row_in(conn: WriteTransaction, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row:
    """The row of a statement that always has one (an aggregate, an INSERT … RETURNING), inside a
    write transaction."""
    row = await fetch_one_in(conn, sql, params)
    if row is None:
        raise LookupError(f"no row from a statement that always has one: {' '.join(sql.split())[:80]}")
    return row


async def fetch_one_in(conn: WriteTransaction, sql: str, params: Sequence[Any] | dict = ()) -> sqlite3.Row | None:
    """Read inside a write transaction (sees its own uncommitted changes)."""
    async with conn.execute(sql, params) as cur:
        return await cur.fetchone()
