"""Pre-sale dates of products and variants, and the orders that move with them (core/presale.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from storage.db import now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing, rendered


@dataclass(frozen=True)
class MovedOrder:
    """An order waiting to ship whose ship date moved with its pre-sale."""
    order_id: int
    number: int
    buyer_id: int
    was_from: str
    was_until: str | None


@dataclass(frozen=True)
class Overdue:
    """Orders of a pre-sale whose date has passed and that have not shipped."""
    name: str
    ships_from: str
    orders: int


# The open orders holding a product's (or one variant's) units that ship on a given date.
_OPEN_OF_PRESALE = """SELECT DISTINCT o.id, o.number, o.buyer_id, o.ships_from, o.ships_until FROM orders o
    JOIN order_items i ON i.order_id = o.id
    WHERE i.product_id = ? AND (CAST(? AS BIGINT) IS NULL OR i.variant_id = ?) AND o.ships_from = ?
      AND o.status IN ('placed', 'confirmed')
    ORDER BY o.number"""


class Presales:
    def __init__(self, db: Engine, outbox: Outbox) -> None:
        self._db = db
        self._outbox = outbox

    @journaled_read
    async def open_orders(self, product_id: int, variant_id: int | None, ships_from: str) -> list[MovedOrder]:
        """The orders waiting to ship that a move of this pre-sale would move (their buyers are told)."""
        rows = await self._db.fetch_all(_OPEN_OF_PRESALE, (product_id, variant_id, variant_id, ships_from))
        return [MovedOrder(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    @journaled_write
    async def set_date(self, product_id: int, variant_id: int | None, ships: tuple[str, str | None] | None, *,
                       messages: Callable[[Sequence[MovedOrder]], list[Outgoing]] | None = None
                       ) -> list[MovedOrder]:
        """Put the product (or one variant) on pre-sale from `ships` (ISO first day, last day or
        None), move it, or (`ships` None) sell it as in stock again. Orders waiting to ship on the
        old date move with it, in this transaction with `messages` (a pure renderer); the orders
        moved are returned. Setting a date reopens a pre-sale closed early."""
        table, key = ("variants", variant_id) if variant_id is not None else ("products", product_id)
        new_from, new_until = ships if ships is not None else (None, None)
        async with self._db.write() as conn:
            async with conn.execute(f"SELECT ships_from FROM {table} WHERE id = ?", (key,)) as cur:
                old = await cur.fetchone()
            if old is None:
                return []
            await conn.execute(f"UPDATE {table} SET ships_from = ?, ships_until = ?, updated_at = ? WHERE id = ?",
                               (new_from, new_until, now(), key))
            if ships is not None:
                await conn.execute("UPDATE products SET presale_closed_at = NULL WHERE id = ?", (product_id,))
            moved: list[MovedOrder] = []
            if old[0] is not None and ships is not None and (new_from, new_until) != (old[0], None):
                async with conn.execute(_OPEN_OF_PRESALE, (product_id, variant_id, variant_id, old[0])) as cur:
                    moved = [MovedOrder(r[0], r[1], r[2], r[3], r[4]) for r in await cur.fetchall()]
                await conn.executemany(
                    "UPDATE orders SET ships_from = ?, ships_until = ?, updated_at = ? WHERE id = ?",
                    [(new_from, new_until, now(), m.order_id) for m in moved])
                if messages is not None and moved:
                    for message in rendered(messages(moved)):
                        await self._outbox.enqueue(conn, message)
        return moved

    @journaled_write
    async def close(self, product_id: int) -> None:
        """Close a pre-sale early: no more orders of it; those placed keep their date."""
        async with self._db.write() as conn:
            await conn.execute("UPDATE products SET presale_closed_at = ?, updated_at = ? WHERE id = ?",
                               (now(), now(), product_id))

    @journaled_read
    async def overdue(self, shop_id: int, today: str) -> list[Overdue]:
        """Pre-sales whose date has passed with orders still waiting to ship, oldest first."""
        rows = await self._db.fetch_all(
            """SELECT p.name, o.ships_from, count(DISTINCT o.id) FROM orders o
                   JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id
               WHERE o.shop_id = ? AND o.ships_from IS NOT NULL AND o.ships_from < ?
                 AND o.status IN ('placed', 'confirmed')
               GROUP BY p.id, o.ships_from ORDER BY o.ships_from, p.name""", (shop_id, today))
        return [Overdue(r[0], r[1], r[2]) for r in rows]
