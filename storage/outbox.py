"""The durable outbox: messages stored with the change that causes them, sent later.

`enqueue` is called inside a write transaction, so a message exists exactly when the change
that caused it committed. The sender (runtime/outbox_sender.py) drains it under Telegram's
limits and records each outcome here.
"""

from __future__ import annotations

import enum
import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import WriteTransaction, now
from storage.engine import Engine
from storage.journal import journaled_write

MAX_ATTEMPTS = 25  # with capped exponential backoff, about two hours of trying


class Priority(enum.IntEnum):
    """Which budget a message takes and in what order the outbox sends (runtime/pacing.py)."""

    ANSWER = 0  # an answer to what the user just did (a receipt): only that chat's pace
    # A notice to a shop's owner or staff (a new order), or the receipt of an order placed in the
    # Mini App (its buyer's chat has not written to the bot, so Telegram counts it as a broadcast):
    # the bulk budget, before the rest.
    OWNER = 1
    BULK = 2  # everything else proactive: status notes, restock notes, reminders, summaries, alerts
    # Alerts sent as Telegram paid broadcasts (allow_paid_broadcast, where the operator allows it):
    # their own budget of up to 1,000/s, paid in Stars, still after everything else.
    PAID_BROADCAST = 3


@dataclass(frozen=True)
class Upload:
    """A file sent with a message: the parameter it goes in (e.g. "photo"), its name and bytes."""

    field: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class Outgoing:
    """A message to store: where, which Bot API method, its parameters; `kind`, `shop_id` and
    `ref` mark the ones the sender may fold together (a burst of new-order notices). `upload` is a
    file to send with it; `fallback` (method, params) goes instead when Telegram refuses it (a chart
    it cannot take: the text still goes out); `after` is the id of an earlier message this one
    follows once that is sent or given up."""

    chat_id: int
    method: str
    params: dict[str, Any]
    kind: str | None = None
    shop_id: int | None = None
    ref: int | None = None
    priority: Priority = Priority.BULK
    upload: Upload | None = None
    fallback: tuple[str, dict[str, Any]] | None = None
    after: int | None = None


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    chat_id: int
    method: str
    raw_params: str | dict[str, Any]  # JSON as stored: decoded only for the rows actually sent
    attempts: int
    kind: str | None = None
    shop_id: int | None = None
    ref: int | None = None
    priority: Priority = Priority.BULK
    upload_field: str | None = None  # "photo:summary.png": the row carries a file (read by `upload_of`)
    raw_fallback: str | None = None

    @property
    def params(self) -> dict[str, Any]:
        return json.loads(self.raw_params) if isinstance(self.raw_params, str) else self.raw_params

    @property
    def fallback(self) -> Outgoing | None:
        """The message to send in this one's place when Telegram refuses it."""
        if self.raw_fallback is None:
            return None
        method, params = json.loads(self.raw_fallback)
        return Outgoing(self.chat_id, method, params, priority=self.priority)


# The upload's bytes are not among them: read only for the row being sent (`upload_of`), never for
# every row a look at what is due returns.
_COLUMNS = "id, chat_id, method, params, attempts, kind, shop_id, ref, priority, upload_field, fallback"
# A message waits for the one it follows (`after_id`) until that one is sent or given up.
_NOT_WAITING = ("(after_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox p WHERE p.id = outbox.after_id"
                " AND p.sent_at IS NULL AND p.failed_at IS NULL))")


def _message(row: Any) -> OutboxMessage:
    return OutboxMessage(row["id"], row["chat_id"], row["method"], row["params"], row["attempts"],
                         row["kind"], row["shop_id"], row["ref"], Priority(row["priority"]), row["upload_field"],
                         row["fallback"])


def rendered(messages: Any) -> Sequence[Outgoing]:
    """What a storage call's message renderer returned, checked: the renderer runs inside the
    transaction, so it must be a plain function over data gathered before (no I/O, nothing to
    await). An async renderer is refused loudly rather than left unawaited."""
    if inspect.isawaitable(messages):
        if inspect.iscoroutine(messages):
            messages.close()
        raise TypeError("a message renderer must be a plain function (gather what it needs before the "
                        "storage call; a transaction body awaits nothing else: storage/db.py)")
    return messages


class Outbox:
    def __init__(self, db: Engine) -> None:
        self._db = db
        self._listeners: list[Callable[[], None]] = []

    def listen(self, callback: Callable[[], None]) -> None:
        """`callback` runs after each commit that added messages (the sender wakes up)."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in self._listeners:
            callback()

    async def enqueue(self, conn: WriteTransaction, message: Outgoing) -> int:
        """Store a message inside the caller's transaction; its id (for a message to follow it)."""
        t = now()
        params = json.dumps(message.params, ensure_ascii=False)
        if message.upload is None and message.fallback is None and message.after is None:
            cur = await conn.execute(  # the common case, kept to the columns it needs
                "INSERT INTO outbox (chat_id, method, params, not_before, created_at, kind, shop_id, ref, priority)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (message.chat_id, message.method, params, t, t, message.kind, message.shop_id, message.ref,
                 int(message.priority)),
            )
        else:
            upload = message.upload
            cur = await conn.execute(
                "INSERT INTO outbox (chat_id, method, params, not_before, created_at, kind, shop_id, ref, priority,"
                " upload, upload_field, fallback, after_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (message.chat_id, message.method, params, t, t, message.kind, message.shop_id, message.ref,
                 int(message.priority), None if upload is None else upload.data,
                 None if upload is None else f"{upload.field}:{upload.filename}",
                 None if message.fallback is None else json.dumps(list(message.fallback), ensure_ascii=False),
                 message.after),
            )
        self._db.after_commit(self._notify, tell_others="outbox")  # other workers: storage/pg.py
        return (await cur.fetchone())[0]

    @journaled_write
    async def send_all_later(self, messages: list[Outgoing]) -> int:
        """Store many messages in one transaction (a shop's message to its buyers): all or none."""
        async with self._db.write() as conn:
            for message in messages:
                await self.enqueue(conn, message)
        return len(messages)

    @journaled_write
    async def send_later(self, message: Outgoing) -> None:
        """Store a message in a transaction of its own."""
        async with self._db.write() as conn:
            await self.enqueue(conn, message)

    async def foldable(self, chat_id: int, kind: str, shop_id: int) -> list[OutboxMessage]:
        """Unsent messages of one kind for one chat and shop (a burst waiting to be folded)."""
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM outbox WHERE chat_id = ? AND kind = ? AND shop_id = ?"
            " AND sent_at IS NULL AND failed_at IS NULL ORDER BY id", (chat_id, kind, shop_id))
        return [_message(r) for r in rows]


    async def due(self, limit: int = 200, within: float = 0.0) -> list[OutboxMessage]:
        """Unsent messages whose time has come (or comes `within` seconds): answers first, then
        owners' notices, then the rest; oldest first within each."""
        rows = await self._db.fetch_all(
            f"""SELECT {_COLUMNS} FROM outbox
               WHERE sent_at IS NULL AND failed_at IS NULL AND not_before <= ? AND {_NOT_WAITING}
               ORDER BY priority, id LIMIT ?""",
            (now() + within, limit),
        )
        return [_message(r) for r in rows]

    async def next_due_at(self) -> float | None:
        return await self._db.fetch_value(
            f"SELECT min(not_before) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND {_NOT_WAITING}"
        )

    async def upload_of(self, message: OutboxMessage) -> Upload | None:
        """The file a message carries, read when it is sent."""
        if message.upload_field is None:
            return None
        data = await self._db.fetch_value("SELECT upload FROM outbox WHERE id = ?", (message.id,))
        field, _, filename = message.upload_field.partition(":")
        return None if data is None else Upload(field, filename, bytes(data))

    async def pending_count(self) -> int:
        return await self._db.fetch_value("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL")

    async def mark_sent(self, message_ids: list[int]) -> None:
        async with self._db.write() as conn:
            await conn.executemany("UPDATE outbox SET sent_at = ?, error = NULL, upload = NULL WHERE id = ?",
                                   [(now(), i) for i in message_ids])

    async def retry_later(self, message_id: int, delay: float, error: str) -> bool:
        """Schedule another try; False (and given up) after MAX_ATTEMPTS."""
        async with self._db.write() as conn:
            row = await (await conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, not_before = ?, error = ? WHERE id = ? RETURNING attempts",
                (now() + delay, error, message_id),
            )).fetchone()
            if row is not None and row[0] >= MAX_ATTEMPTS:
                await conn.execute("UPDATE outbox SET failed_at = ? WHERE id = ?", (now(), message_id))
                return False
        return True

    async def replace(self, message_ids: list[int], parts: list[Outgoing], note: str) -> None:
        """Stand `parts` in for rows `message_ids` (a text Telegram refused as too long, cut into
        messages that fit): the rows are closed with `note`, the parts queued, in one transaction."""
        async with self._db.write() as conn:
            await conn.executemany("UPDATE outbox SET sent_at = ?, error = ?, upload = NULL WHERE id = ?",
                                   [(now(), note, i) for i in message_ids])
            last = None
            for part in parts:
                last = await self.enqueue(conn, part)
            if last is not None:  # what followed the replaced rows now follows their stand-ins
                marks = ", ".join("?" * len(message_ids))
                await conn.execute(f"UPDATE outbox SET after_id = ? WHERE after_id IN ({marks})",
                                   (last, *message_ids))

    async def give_up(self, message_id: int, error: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE outbox SET failed_at = ?, error = ?, upload = NULL WHERE id = ?",
                               (now(), error, message_id))

    async def prune(self, older_than: float) -> int:
        """Forget messages sent or given up before `older_than` (keeps the table small)."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM outbox WHERE coalesce(sent_at, failed_at) < ?", (older_than,))
            return cur.rowcount

    async def give_up_chat(self, chat_id: int, error: str) -> None:
        """The chat is unreachable (blocked): drop everything still queued for it."""
        async with self._db.write() as conn:
            await conn.execute(
                "UPDATE outbox SET failed_at = ?, error = ? WHERE chat_id = ? AND sent_at IS NULL AND failed_at IS NULL",
                (now(), error, chat_id),
            )
