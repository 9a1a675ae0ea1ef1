"""Refunds due: a ledger of money a shop must give back, settled by the owner.

A refund is never an edit of an order's total: the order keeps what was bought and paid, and
this ledger says what is owed back, why, who caused it and whether it was sent. It is written in
the transaction of the change that causes it (a cancellation, a payment arriving too late).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from storage.db import WriteTransaction, row_in, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing, rendered

BUYER_CANCELLED = "buyer_cancelled"
SHOP_CANCELLED = "shop_cancelled"
PAID_AFTER_CANCEL = "paid_after_cancel"

_COLUMNS = "id, order_id, shop_id, amount, currency, reason, created_by, created_at, settled_at, settled_by"


@dataclass(frozen=True)
class Refund:
    id: int
    order_id: int
    shop_id: int
    amount: int
    currency: str
    reason: str
    created_by: int
    created_at: float
    settled_at: float | None
    settled_by: int | None

    @property
    def settled(self) -> bool:
        return self.settled_at is not None


@dataclass(frozen=True)
class RefundFigures:
    """Refunds created in a period: how many and how much, and how many are still to send."""

    count: int = 0
    amount: int = 0
    open_count: int = 0
    open_amount: int = 0


def _refund(row: sqlite3.Row) -> Refund:
    return Refund(*row)


async def add_refund_in(conn: WriteTransaction, *, order_id: int, shop_id: int, amount: int, currency: str,
                        reason: str, created_by: int) -> int:
    """Record a refund due inside the caller's transaction; returns its id."""
    row = await row_in(
        conn, "INSERT INTO refunds (order_id, shop_id, amount, currency, reason, created_by, created_at)"
              " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (order_id, shop_id, amount, currency, reason, created_by, now()))
    return row[0]


class Refunds:
    def __init__(self, db: Engine, outbox: Outbox) -> None:
        self._db = db
        self._outbox = outbox

    @journaled_read
    async def get(self, refund_id: int) -> Refund | None:
        row = await self._db.lookup_one(f"SELECT {_COLUMNS} FROM refunds WHERE id = ?", (refund_id,))
        return None if row is None else _refund(row)

    @journaled_read
    async def of_order(self, order_id: int) -> list[Refund]:
        rows = await self._db.lookup_all(f"SELECT {_COLUMNS} FROM refunds WHERE order_id = ? ORDER BY id",
                                         (order_id,))
        return [_refund(r) for r in rows]

    @journaled_write
    async def settle_order(self, order_id: int, user_id: int,
                           messages: Callable[[Refund], Sequence[Outgoing]] | None = None) -> list[Refund]:
        """Mark the order's open refunds sent back (by `user_id`), with the messages that says;
        [] if none was open."""
        async with self._db.write() as conn:
            async with conn.execute(
                    f"UPDATE refunds SET settled_at = ?, settled_by = ? WHERE order_id = ? AND settled_at IS NULL"
                    f" RETURNING {_COLUMNS}", (now(), user_id, order_id)) as cur:
                settled = [_refund(r) for r in await cur.fetchall()]
            if messages is not None:
                for refund in settled:
                    for message in rendered(messages(refund)):
                        await self._outbox.enqueue(conn, message)
        return settled

    async def figures(self, shop_id: int, start: float, end: float) -> RefundFigures:
        row = await self._db.fetch_row(
            """SELECT count(*), coalesce(sum(amount), 0), count(*) FILTER (WHERE settled_at IS NULL),
                      coalesce(sum(CASE WHEN settled_at IS NULL THEN amount END), 0)
               FROM refunds WHERE shop_id = ? AND created_at >= ? AND created_at < ?""", (shop_id, start, end))
        return RefundFigures(row[0], row[1], row[2], row[3])
