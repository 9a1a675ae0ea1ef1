"""Polling mode is one process per database.

Telegram gives updates to one getUpdates consumer at a time: a second polling process on the same
bot gets 409 Conflict on every call, and on the same database it would race the first over the
inbox. So a polling process holds an exclusive lock on a file beside the database for as long as
it runs, and a second one is refused at start with a clear line instead of fighting the first.
The kernel drops the lock when its process dies (SIGKILL included), so a crash never leaves a
stale lock behind. Several workers are for webhook mode, on PostgreSQL (issue 27), where the same
rule becomes a session-level advisory lock on the database.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class AnotherPoller(Exception):
    """Another process already polls with this database."""

    def __init__(self, database: Path, pid: str) -> None:
        super().__init__(
            f"another Livecart process{f' (pid {pid})' if pid else ''} is already polling with "
            f"{database}; Telegram lets one process fetch updates: stop it first (several workers "
            "need webhook mode)")


class PollerLock:
    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".poller.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Hold the lock, or AnotherPoller naming the process that holds it."""
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

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
