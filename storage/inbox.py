"""The durable update inbox: every update is stored before Telegram is told we have it.

The inbox has a database file of its own (next to the store's: `inbox_path`). Every update
must be stored before it is handled, so with the inbox in the store's file another process
holding that file's write lock (a backup, an operator's sqlite3 shell) stopped the bot taking
any update at all, even a tap that only reads. In a file of its own, such a lock stalls only
the writes that need the store. What a handler wrote is journaled in the store's file, in the
handler's own transactions (storage/journal.py), so nothing needs both files at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pathlib import Path

from storage.db import Database, now
from storage.engine import Engine
from storage.journal import recorded_rows

SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox (
    update_id     INTEGER PRIMARY KEY,
    user_key      INTEGER NOT NULL,               -- updates with one key are handled in order
    payload       TEXT NOT NULL,                  -- the update as Telegram sent it (JSON)
    received_at   REAL NOT NULL,
    processed_at  REAL,
    error         TEXT
);
CREATE INDEX IF NOT EXISTS inbox_pending ON inbox(update_id) WHERE processed_at IS NULL;
"""


def inbox_path(database: str | Path) -> Path:
    """The inbox's file for a store's file: livecart.sqlite3 -> livecart-inbox.sqlite3."""
    path = Path(database)
    return path.with_name(f"{path.stem}-inbox{path.suffix or '.sqlite3'}")


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
    """`db` is the inbox's own file; `store_db` the store's, where handlers' journals live."""

    def __init__(self, db: Engine, store_db: Engine) -> None:
        self.db = self._db = db
        self._store_db = store_db

    @classmethod
    async def open(cls, store_db: Engine) -> "Inbox":
        if not isinstance(store_db, Database):  # PostgreSQL: a table of the one database, locked by row
            return cls(store_db, store_db)
        inbox = cls(await Database(inbox_path(store_db.path)).open(schema=SCHEMA), store_db)
        await inbox._take_over_old_rows()
        return inbox

    async def _take_over_old_rows(self) -> None:
        """Before 0008 the inbox was a table of the store's file: move what is still unprocessed."""
        rows = await self._store_db.fetch_all(
            "SELECT update_id, user_key, payload, received_at FROM inbox WHERE processed_at IS NULL")
        if not rows:
            return
        async with self._db.write() as conn:
            await conn.executemany("INSERT INTO inbox (update_id, user_key, payload, received_at)"
                                   " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [tuple(r) for r in rows])
        async with self._store_db.write() as conn:
            await conn.execute("DELETE FROM inbox")

    async def close(self) -> None:
        if self._db is not self._store_db:
            await self._db.close()

    async def unprocessed_count(self) -> int:
        return await self._db.fetch_value("SELECT count(*) FROM inbox WHERE processed_at IS NULL")

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

    async def unprocessed(self, older_than: float = 0.0) -> list[StoredUpdate]:
        """Updates not yet handled, oldest first (`older_than`: only those stored that many seconds ago)."""
        rows = await self._db.fetch_all(
            "SELECT update_id, user_key, payload FROM inbox WHERE processed_at IS NULL AND received_at <= ?"
            " ORDER BY update_id", (now() - older_than,))
        return [StoredUpdate(r[0], r[1], json.loads(r[2]), replayed=True) for r in rows]

    async def unprocessed_of(self, user_key: int) -> list[StoredUpdate]:
        """One user's updates not yet handled, in order, whichever worker stored them (several workers:
        read under the user's lease). `replayed` when a worker that died began one: its journal has steps."""
        rows = await self._db.lookup_all(
            "SELECT update_id, user_key, payload,"
            " EXISTS (SELECT 1 FROM update_steps s WHERE s.update_id = inbox.update_id) FROM inbox"
            " WHERE processed_at IS NULL AND user_key = ? ORDER BY update_id", (user_key,))
        return [StoredUpdate(r[0], r[1], json.loads(r[2]), replayed=bool(r[3])) for r in rows]

    async def journal_rows(self, update_id: int) -> list[str]:
        """What an earlier run's handling of this update committed (storage/journal.py)."""
        return await recorded_rows(self._store_db, update_id)

    async def next_offset(self) -> int | None:
        """The getUpdates offset that confirms everything stored so far."""
        last = await self._db.fetch_value("SELECT max(update_id) FROM inbox")
        return None if last is None else last + 1

    async def mark_processed(self, done: dict[int, str | None]) -> None:
        """Record finished updates (update_id -> error text or None) in one transaction. Their
        journals are no longer needed (a processed update is never replayed): `prune` clears them."""
        if not done:
            return
        t = now()
        if len(done) == 1:  # several workers mark each update as it is handled: one statement
            [(update_id, error)] = done.items()
            await self._db.write_one("UPDATE inbox SET processed_at = ?, error = ? WHERE update_id = ?",
                                     (t, error, update_id))
            return
        async with self._db.write() as conn:
            await conn.executemany(
                "UPDATE inbox SET processed_at = ?, error = ? WHERE update_id = ?",
                [(t, error, update_id) for update_id, error in done.items()],
            )


    async def prune(self, older_than: float) -> int:
        """Forget processed updates received before `older_than` (keeps the table small), and
        journals of updates no longer waiting to be handled."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM inbox WHERE processed_at IS NOT NULL AND received_at < ?"
                " AND update_id < (SELECT max(update_id) FROM inbox)",
                (older_than,),
            )
            pruned = cur.rowcount
        await self.prune_journals()
        return pruned

    async def scrub_user(self, user_id: int, texts: Sequence[str] = ()) -> list[int]:
        """Reduce every stored update the user sent to its id (/deletemydata: the updates held their
        names, typed phone and address), and every handled update of others that quotes one of
        `texts` (a tap carries the message tapped: an order card with their address); returns the
        user's own update ids. Not journaled: the inbox is its own file; doing it again is a no-op."""
        async with self._db.write() as conn:
            rows = await (await conn.execute(
                "UPDATE inbox SET payload = json_object('update_id', update_id) WHERE user_key = ? RETURNING update_id",
                (user_id,))).fetchall()
            for text in texts:
                for form in {text, json.dumps(text)[1:-1]}:  # as sent, and as JSON escapes it
                    await conn.execute("UPDATE inbox SET payload = json_object('update_id', update_id)"
                                       " WHERE processed_at IS NOT NULL AND instr(payload, ?) > 0", (form,))
        return [r[0] for r in rows]

    async def prune_journals(self) -> int:
        """Forget the journals of updates already processed (storage/journal.py)."""
        waiting = await self._db.fetch_value("SELECT min(update_id) FROM inbox WHERE processed_at IS NULL")
        async with self._store_db.write() as conn:
            cur = await conn.execute("DELETE FROM update_steps WHERE update_id < ?",
                                     (waiting if waiting is not None else 2**63 - 1,))
            return cur.rowcount
