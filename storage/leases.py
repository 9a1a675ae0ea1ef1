"""Leases: which worker does a piece of shared work, until when (several workers on PostgreSQL).

A lease is a row `(name, holder, until)`. Claiming one is a single conditional upsert: it is
taken when free, expired, or already ours, so two workers never hold it at once and a worker
that dies lets go when its time runs out. Each kind of shared work names its own:

* `user:<id>`: one worker at a time handles a user's updates, in order (runtime/updates.py);
* `chat:<id>`: one worker at a time sends a chat's queued messages, in order (runtime/outbox_sender.py);
* `jobs`: the scheduled work (daily summaries, payment expiry, house-keeping) runs on one worker;
* `worker:<name>`: a worker is alive; Telegram's bot-wide budget is shared among the live ones.

With SQLite one process does everything, and nothing here is used.
"""

from __future__ import annotations

from collections.abc import Iterable

from storage.db import now
from storage.engine import Engine


class Leases:
    def __init__(self, db: Engine) -> None:
        self._db = db

    async def claim(self, names: Iterable[str], holder: str, seconds: float) -> set[str]:
        """Take or renew the leases that are free, expired or ours: the names now held. One
        statement (a worker claims once per update it handles: round trips count)."""
        names = sorted(set(names))  # one order for every worker: overlapping claims never deadlock
        if not names:
            return set()
        t = now()
        rows = await self._db.write_one(
            "INSERT INTO leases (name, holder, until) VALUES " + ", ".join("(?, ?, ?)" for _ in names) +
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.until < ? OR leases.holder = excluded.holder RETURNING name",
            [v for name in names for v in (name, holder, t + seconds)] + [t])
        return {r[0] for r in rows}

    async def release(self, names: Iterable[str], holder: str) -> None:
        names = list(names)
        if names:
            await self._db.write_one(f"DELETE FROM leases WHERE holder = ? AND name IN ({', '.join('?' * len(names))})",
                                     (holder, *names))

    async def release_all(self, holder: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM leases WHERE holder = ?", (holder,))

    async def live(self, prefix: str) -> int:
        """How many unexpired leases start with `prefix` (the live workers: "worker:")."""
        return int(await self._db.fetch_value("SELECT count(*) FROM leases WHERE name LIKE ? AND until >= ?",
                                              (prefix + "%", now())))

    async def prune(self) -> int:
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM leases WHERE until < ?", (now() - 3600,))
            return cur.rowcount
