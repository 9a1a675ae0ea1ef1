"""The durable update inbox: every update is stored before Telegram is told we have it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import Database, now
from storage.journal import recorded_rows


@dataclass(frozen=True)
class StoredUpdate:
    update_id: int
    user_key: int
    payload: dict[str, Any]
    replayed: bool = False  # left unfinished by an earlier run: its journal may hold steps


def user_key_of(update: dict[str, Any]) -> int:
    """Whose update this is: updates with one key are handled in order, others concurrently."""
    for value in update.values():
        if isinstance(value, dict):
            sender = value.get("from")
            if isinstance(sender, dict) and isinstance(sender.get("id"), int):
                return sender["id"]
            chat = value.get("chat") or (value.get("message") or {}).get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                return chat["id"]
    return 0


class Inbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def store(self, updates: Iterable[dict[str, Any]]) -> list[StoredUpdate]:
        """Store updates in one transaction; returns those not seen before (duplicates dropped)."""
        fresh: list[StoredUpdate] = []
        t = now()
        async with self._db.write() as conn:
            for update in updates:
                update_id = update.get("update_id")
                if not isinstance(update_id, int):
                    continue
                key = user_key_of(update)
                cur = await conn.execute(
                    """INSERT INTO inbox (update_id, user_key, payload, received_at) VALUES (?, ?, ?, ?)
                       ON CONFLICT (update_id) DO NOTHING""",
                    (update_id, key, json.dumps(update, ensure_ascii=False), t),
                )
                if cur.rowcount:
                    fresh.append(StoredUpdate(update_id, key, update))
        return fresh

    async def unprocessed(self) -> list[StoredUpdate]:
        rows = await self._db.fetch_all(
            "SELECT update_id, user_key, payload FROM inbox WHERE processed_at IS NULL ORDER BY update_id"
        )
        return [StoredUpdate(r[0], r[1], json.loads(r[2]), replayed=True) for r in rows]

    async def journal_rows(self, update_id: int) -> list[str]:
        """What an earlier run's handling of this update committed (storage/journal.py)."""
        return await recorded_rows(self._db, update_id)

    async def next_offset(self) -> int | None:
        """The getUpdates offset that confirms everything stored so far."""
        last = await self._db.fetch_value("SELECT max(update_id) FROM inbox")
        return None if last is None else last + 1

    async def mark_processed(self, done: dict[int, str | None]) -> None:
        """Record finished updates (update_id -> error text or None) in one transaction; their
        journals are no longer needed (a processed update is never replayed)."""
        if not done:
            return
        t = now()
        async with self._db.write() as conn:
            await conn.executemany(
                "UPDATE inbox SET processed_at = ?, error = ? WHERE update_id = ?",
                [(t, error, update_id) for update_id, error in done.items()],
            )
            await conn.executemany("DELETE FROM update_steps WHERE update_id = ?", [(u,) for u in done])

    async def prune(self, older_than: float) -> int:
        """Forget processed updates received before `older_than` (keeps the table small)."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM inbox WHERE processed_at IS NOT NULL AND received_at < ?"
                " AND update_id < (SELECT max(update_id) FROM inbox)",
                (older_than,),
            )
            return cur.rowcount
