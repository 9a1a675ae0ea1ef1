"""Polling mode is one process per database.

Telegram gives updates to one getUpdates consumer at a time: a second polling process on the same
bot gets 409 Conflict on every call, and on the same database it would race the first over the
inbox. So a polling process holds an exclusive lock on a file beside the database for as long as
it runs, and a second one is refused at start with a clear line instead of fighting the first.
The kernel drops the lock when its process dies (SIGKILL included), so a crash never leaves a
stale lock behind. On PostgreSQL the same rule is a session-level advisory lock, held on a
connection of its own: the server drops it when that connection ends, a killed process included.
Several workers are for webhook mode (README, "Several workers").
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage.engine import is_postgres, redacted


class AnotherPoller(Exception):
    """Another process already polls with this database."""

    def __init__(self, database: Path | str, pid: str) -> None:
        super().__init__(
            f"another Livecart process{f' (pid {pid})' if pid else ''} is already polling with "
            f"{database}; Telegram lets one process fetch updates: stop it first (several workers "
            "need webhook mode)")


POLLER_LOCK = 0x4C697666  # PostgreSQL: the advisory lock id a polling process holds


def poller_lock(database: Path | str) -> "PollerLock | PgPollerLock":
    return PgPollerLock(str(database)) if is_postgres(database) else PollerLock(Path(database))


class PgPollerLock:
    """The polling lock on PostgreSQL: `pg_try_advisory_lock` on a connection kept for the process's life."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn = None

    async def acquire(self) -> None:
        import asyncpg

        # The holder's own pid rides in its connection's application_name, for the refusal's line.
        conn = await asyncpg.connect(self._url, server_settings={"application_name": f"livecart-poller {os.getpid()}"})
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", POLLER_LOCK):
            holder = await conn.fetchval("SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
                                         " WHERE l.locktype = 'advisory' AND l.objid = $1 AND l.granted LIMIT 1",
                                         POLLER_LOCK & 0xFFFFFFFF)
            await conn.close()
            raise AnotherPoller(redacted(self._url), (holder or "").removeprefix("livecart-poller "))
        self._conn = conn

    async def release(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


class PollerLock:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".poller.lock")
        self._fd: int | None = None

    async def acquire(self) -> None:
        """Hold the lock, or AnotherPoller naming the process that holds it."""
        self.acquire_now()

    def acquire_now(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode(errors="replace").strip()
            os.close(fd)
            raise AnotherPoller(self.path.with_name(self.path.name.removesuffix(".poller.lock")), pid) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    async def release(self) -> None:
        self.release_now()

    def release_now(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
