"""Units held by a buyer's open checkout, so the buyers who cannot get one learn it at Buy now.

A hold takes its units from `products.stock` at once (the same conditional update that makes
overselling impossible), so `stock` is always what is still free to hold or buy, and held plus
sold can never exceed what the merchant put up. Confirm turns the hold into the order
(Orders.place); cancelling, replacing the checkout or expiry gives the units back. A buyer has
holds for their current checkout only: starting another one returns the earlier holds first, so
there is at most one hold per buyer per product.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import Database, WriteTransaction, fetch_one_in, now
from storage.flows import save_flow_in
from storage.journal import journaled_write
from storage.models import Flow
from storage.orders import LimitReached, SoldOut, Unavailable
from storage.products import Products


@dataclass(frozen=True)
class Held:
    product_id: int
    quantity: int
    wanted: int  # what the buyer asked for (quantity may be less: only that many were left)
    expires_at: float


class Holds:
    def __init__(self, db: Database, products: Products) -> None:
        self._db = db
        self._products = products

    @journaled_write
    async def take(self, *, buyer_id: int, shop_id: int, token: str, items: Sequence[tuple[int, int]],
                   expires_at: float, flow: Flow, allow_fewer: bool = False) -> list[Held]:
        """Hold `items` [(product, quantity)] until `expires_at` and start the checkout `flow`, in one
        transaction; the buyer's earlier holds are returned first. All or nothing: SoldOut,
        Unavailable or LimitReached leave everything as it was. `allow_fewer` (one product, Buy
        now) holds what is left when fewer than asked remain."""
        held: list[Held] = []
        async with self._db.write() as conn:
            await self._release_in(conn, buyer_id)
            for product_id, wanted in items:
                product = await fetch_one_in(
                    conn, "SELECT name, stock, per_buyer_limit, hidden, deleted_at, shop_id FROM products WHERE id = ?",
                    (product_id,))
                if product is None or product["shop_id"] != shop_id or product["hidden"] or product["deleted_at"]:
                    raise Unavailable(product_id, product["name"] if product else "?")
                quantity = min(wanted, product["stock"]) if allow_fewer else wanted
                if product["per_buyer_limit"]:
                    already = await _units_bought_in(conn, buyer_id, product_id)
                    room = product["per_buyer_limit"] - already
                    if room < 1 or (quantity > room and not allow_fewer):
                        raise LimitReached(product_id, product["name"], product["per_buyer_limit"], already)
                    quantity = min(quantity, room)
                if quantity < 1:
                    raise SoldOut(product_id, product["name"], 0)
                cur = await conn.execute(
                    "UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?",
                    (quantity, now(), product_id, quantity))
                if cur.rowcount == 0:
                    raise SoldOut(product_id, product["name"], product["stock"])
                await conn.execute(
                    "INSERT INTO holds (buyer_id, product_id, shop_id, token, quantity, expires_at, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (buyer_id, product_id, shop_id, token, quantity, expires_at, now()))
                held.append(Held(product_id, quantity, wanted, expires_at))
            await save_flow_in(conn, flow)
        return held

    @journaled_write
    async def release(self, buyer_id: int, token: str | None = None, *, end_conversation: bool = False) -> int:
        """Give back the buyer's held units (of checkout `token` only, when given); how many.
        `end_conversation` ends the buyer's conversation in the same transaction."""
        async with self._db.write() as conn:
            if end_conversation:
                await conn.execute("DELETE FROM flows WHERE user_id = ?", (buyer_id,))
            return await self._release_in(conn, buyer_id, token)

    async def _release_in(self, conn: WriteTransaction, buyer_id: int, token: str | None = None) -> int:
        sql = "DELETE FROM holds WHERE buyer_id = ?" + (" AND token = ?" if token else "")
        params = (buyer_id, token) if token else (buyer_id,)
        async with conn.execute(sql + " RETURNING product_id, quantity", params) as cur:
            rows = await cur.fetchall()
        for product_id, quantity in rows:
            await self._products.add_stock_in(conn, product_id, quantity)
        return sum(q for _, q in rows)

    async def expire(self, at: float | None = None) -> int:
        """Give back every hold past its time; how many units came back."""
        async with self._db.write() as conn:
            async with conn.execute("DELETE FROM holds WHERE expires_at <= ? RETURNING product_id, quantity",
                                    (now() if at is None else at,)) as cur:
                rows = await cur.fetchall()
            for product_id, quantity in rows:
                await self._products.add_stock_in(conn, product_id, quantity)
        return sum(q for _, q in rows)

    async def next_expiry(self) -> float | None:
        return await self._db.lookup_value("SELECT min(expires_at) FROM holds")


async def _units_bought_in(conn: WriteTransaction, buyer_id: int, product_id: int) -> int:
    row = await fetch_one_in(
        conn, """SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
                 WHERE o.buyer_id = ? AND i.product_id = ? AND o.status != 'cancelled'""", (buyer_id, product_id))
    return row[0]
