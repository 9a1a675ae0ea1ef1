"""Conversations about an order (handlers/conversations.py): each message stored with the relay
that carries it to the other side, in one transaction; a shop's answer marks the buyer's
messages before it answered."""

from __future__ import annotations

from collections.abc import Sequence

from storage.db import now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing


class Conversations:
    def __init__(self, db: Engine, outbox: Outbox) -> None:
        self._db = db
        self._outbox = outbox

    @journaled_write
    async def relay(self, order_id: int, author_id: int, *, from_buyer: bool, text: str | None,
                    photo: str | None, messages: Sequence[Outgoing]) -> None:
        """Store one message about the order and queue its relay (rendered by the caller)."""
        t = now()
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO order_messages (order_id, from_buyer, author_id, text, photo, at) VALUES (?, ?, ?, ?, ?, ?)",
                (order_id, int(from_buyer), author_id, text, photo, t))
            if not from_buyer:  # the shop answered what the buyer wrote so far
                await conn.execute("UPDATE order_messages SET answered_at = ? WHERE order_id = ? AND from_buyer = 1"
                                   " AND answered_at IS NULL", (t, order_id))
            for message in messages:
                await self._outbox.enqueue(conn, message)

    @journaled_read
    async def unanswered_orders(self, shop_id: int) -> list[int]:
        """Numbers of the shop's orders with a buyer's message the shop has not answered."""
        rows = await self._db.fetch_all(
            """SELECT DISTINCT o.number FROM order_messages m JOIN orders o ON o.id = m.order_id
               WHERE o.shop_id = ? AND m.from_buyer = 1 AND m.answered_at IS NULL ORDER BY o.number""", (shop_id,))
        return [r[0] for r in rows]
