"""Scheduled backups (`backup.every`, `backup.keep`, `backup.directory`).

Each is the same consistent, checked, 0600 copy as `bot.py backup` (storage/backup.py), written in
a thread so the bot keeps answering. The schedule counts from the newest backup on disk, so a
restart neither skips one nor makes one at once; with none on disk the first is made at start.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from core.config import BackupConfig
from runtime import metrics
from runtime.jobs import Job
from storage.engine import is_postgres
from storage.backup import (
    BackupError,
    BackupResult,
    backup_database,
    rotate,
    scheduled_backups,
    scheduled_name,
    sweep_partial_copies,
)

log = logging.getLogger(__name__)

RETRY_AFTER_FAILURE = 600.0  # seconds; a failed backup is tried again sooner than the schedule


class BackupScheduler:
    def __init__(self, database: os.PathLike[str] | str, config: BackupConfig) -> None:
        self._database = database
        self._config = config

    def job(self) -> Job | None:
        """The scheduled backups as one of the bot's jobs (None when backups are off)."""
        if not self._config.every:
            return None
        if is_postgres(self._database):
            log.warning("backup.every is for the SQLite file; on PostgreSQL back up with pg_dump or the "
                        "server's own backups (README, \"PostgreSQL\")")
            return None
        return Job("backups", self._back_up_when_due, every=self._config.every,
                   after_failure=RETRY_AFTER_FAILURE, first_in=self.next_due_in())

    def next_due_in(self, now: float | None = None) -> float:
        """Seconds until the next backup is due (0: now)."""
        assert self._config.every
        backups = scheduled_backups(self._config.directory)
        if not backups:
            return 0.0
        last = backups[-1].stat().st_mtime
        return max(0.0, last + self._config.every - (time.time() if now is None else now))

    async def back_up_now(self) -> BackupResult:
        """Write, check and rotate one scheduled backup (raises BackupError when it fails)."""
        directory = self._config.directory
        try:
            await asyncio.to_thread(directory.mkdir, mode=0o700, parents=True, exist_ok=True)
            await asyncio.to_thread(sweep_partial_copies, directory)
            target = directory / scheduled_name(time.time())
            result = await _in_daemon_thread(backup_database, self._database, target)
        except (BackupError, OSError) as exc:
            metrics.backup_written(False)
            raise BackupError(str(exc)) from None
        deleted = await asyncio.to_thread(rotate, directory, self._config.keep)
        kept = len(await asyncio.to_thread(scheduled_backups, directory))
        metrics.backup_written(True)
        log.info("backup written to %s (%d orders, %d KiB, %.1fs, checked); %d older one(s) removed, %d kept",
                 result.path, result.orders, result.size // 1024, result.seconds, len(deleted), kept)
        return result

    async def _back_up_when_due(self) -> float:
        """One run of the job: a backup if one is due; the seconds until the next is due. A failed
        backup raises, and the job tries again after RETRY_AFTER_FAILURE."""
        if self.next_due_in() <= 0:
            try:
                await self.back_up_now()
            except BackupError as exc:
                log.error("scheduled backup failed: %s; trying again in %.0f min", exc, RETRY_AFTER_FAILURE / 60)
                return RETRY_AFTER_FAILURE
        return self.next_due_in()


T = TypeVar("T")


async def _in_daemon_thread(work: Callable[..., T], *args: object) -> T:
    """Run `work` in a thread the process does not wait for at exit.

    A copy of a large database takes seconds; asyncio's own threads would hold a graceful stop
    (bounded to 10 s) until it ended. The copy goes to a temporary file that is only renamed once
    complete, so one cut off by the exit leaves a partial file, swept before the next backup.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            outcome = functools.partial(future.set_result, work(*args))
        except BaseException as exc:  # handed to the awaiting task
            outcome = functools.partial(future.set_exception, exc)
        try:
            loop.call_soon_threadsafe(settle, outcome)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    threading.Thread(target=run, name="backup", daemon=True).start()
    return await future
