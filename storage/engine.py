"""The database as the repositories see it, whichever engine is behind it.

SQLite (storage/db.py) is the embedded default: a file, nothing to install. PostgreSQL
(storage/pg.py) is for several workers on one database. Both take the same SQL (storage/dialect.py
holds the differences) and the same calls; `open_database` picks one by the configured target.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol, TypeGuard

from core.config import POSTGRES_SCHEMES  # one list for the config and the store


def is_postgres(target: object) -> TypeGuard[str]:
    """Whether the configured database is a PostgreSQL URL (else it is a SQLite file's path)."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def redacted(url: str) -> str:
    """The URL without its password (user:password@ or ?password=), for logs."""
    url = re.sub(r"([?&]password=)[^&]*", r"\1***", url)
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    user = credentials.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"


class Engine(Protocol):
    """What every repository uses. Rows read like sqlite3.Row: by name or by position."""

    engine: str  # "sqlite" or "postgresql"
    # Other processes may write to it (several workers): a cache in this process can go stale, so
    # the repositories that cache (users, shops and staff, suspensions) read by key instead.
    shared: bool
    busy_waits: int

    def write(self) -> AbstractAsyncContextManager[Any]: ...
    def hold_commit(self) -> Any: ...
    def after_commit(self, callback: Callable[[], None], *, tell_others: str | None = None) -> None: ...
    async def checkpoint(self) -> None: ...
    async def close(self) -> None: ...
    async def schema_version(self) -> int: ...
    async def fetch_all(self, sql: str, params: Any = ()) -> list[Any]: ...
    async def fetch_one(self, sql: str, params: Any = ()) -> Any: ...
    async def fetch_row(self, sql: str, params: Any = ()) -> Any: ...
    async def fetch_value(self, sql: str, params: Any = ()) -> Any: ...
    async def lookup_all(self, sql: str, params: Any = ()) -> list[Any]: ...
    async def lookup_one(self, sql: str, params: Any = ()) -> Any: ...
    async def lookup_value(self, sql: str, params: Any = ()) -> Any: ...
    async def write_one(self, sql: str, params: Any = ()) -> list[Any]: ...
    async def listen(self, channel: str, callback: Callable[[], None]) -> None: ...


async def open_database(target: str | Path) -> Engine:
    """The store's database: a `postgresql://` URL, or else a SQLite file's path."""
    if is_postgres(target):
        from storage.pg import PgDatabase  # asyncpg is imported only when PostgreSQL is used

        return await PgDatabase(str(target)).open()
    from storage.db import Database

    return await Database(target).open()
