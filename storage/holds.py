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

from storage.db import WriteTransaction, now
from storage.engine import Engine
from storage.deals import give_back_deal_units_in, take_deal_units_in
from storage.flows import save_flow_in
from storage.journal import journaled_write
from storage.models import Flow
from storage.orders import Item, SoldOut, check_limits_in, item_parts, sellable_in
from storage.products import Products


@dataclass(frozen=True)
class Held:
    product_id: int
    quantity: int
    wanted: int  # what the buyer asked for (quantity may be less: only that many were left)
    expires_at: float
    variant_id: int | None = None
    unit_price: int | None = None  # locked while the hold lasts (a flash deal's price); None: regular


class Holds:
    def __init__(self, db: Engine, products: Products) -> None:
        self._db = db
        self._products = products

    @journaled_write
    async def take(self, *, buyer_id: int, shop_id: int, token: str, items: Sequence[Item],
                   expires_at: float, flow: Flow | None, allow_fewer: bool = False,
                   seen_prices: dict[int, int] | None = None) -> list[Held]:
        """Hold `items` [(product, quantity[, variant])] until `expires_at` and start the checkout `flow`, in one
        transaction; the buyer's earlier holds are returned first. All or nothing: SoldOut,
        Unavailable or LimitReached leave everything as it was. `allow_fewer` (one product, Buy
        now) holds what is left when fewer than asked remain. The Mini App's checkout has no chat
        conversation (`flow` None). During a flash deal the units are
        held at the deal's price, which the hold keeps until it expires (storage/deals.py);
        `seen_prices` are the prices on the buttons tapped (the deal's end grace)."""
        held: list[Held] = []
        async with self._db.write() as conn:
            # Per-buyer limits and a deal's share per buyer are read, then written, and so is the
            # stock Buy now holds what is left of: the buyer's and the products' row locks
            # (storage/orders.py Orders.place says more).
            await conn.lock("users", buyer_id)
            for product_id in sorted({item_parts(i)[0] for i in items}):
                await conn.lock("products", product_id)
            await self._release_in(conn, buyer_id)
            for product_id, wanted, variant_id in map(item_parts, items):
                item = await sellable_in(conn, shop_id, product_id, variant_id)
                quantity = min(wanted, item.stock) if allow_fewer else wanted
                quantity = await check_limits_in(conn, buyer_id, item, quantity, allow_fewer=allow_fewer)
                if quantity < 1:
                    raise SoldOut(product_id, item.name, 0)
                if not await self._products.take_stock_in(conn, product_id, variant_id, quantity):
                    raise SoldOut(product_id, item.name, item.stock)
                deal_id, unit_price = None, item.price
                if variant_id is None:  # deals are on products without variants (handlers/deals.py)
                    deal_id, unit_price = await take_deal_units_in(
                        conn, product_id, buyer_id, quantity, item.price, now(), (seen_prices or {}).get(product_id))
                await conn.execute(
                    "INSERT INTO holds (buyer_id, product_id, variant_id, shop_id, token, quantity, expires_at,"
                    " created_at, deal_id, unit_price) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (buyer_id, product_id, variant_id, shop_id, token, quantity, expires_at, now(), deal_id,
                     unit_price if deal_id else None))
                held.append(Held(product_id, quantity, wanted, expires_at, variant_id,
                                 unit_price if deal_id else None))
            if flow is not None:
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
        async with conn.execute(sql + " RETURNING product_id, quantity, variant_id, deal_id, buyer_id", params) as cur:
            rows = await cur.fetchall()
        for product_id, quantity, variant_id, deal_id, holder in rows:
            await self._products.add_stock_in(conn, product_id, quantity, variant_id)
            await give_back_deal_units_in(conn, deal_id, holder, quantity)
        return sum(r[1] for r in rows)

    async def expire(self, at: float | None = None) -> int:
        """Give back every hold past its time; how many units came back."""
        async with self._db.write() as conn:
            async with conn.execute(
                    "DELETE FROM holds WHERE expires_at <= ? RETURNING product_id, quantity, variant_id, deal_id, buyer_id",
                    (now() if at is None else at,)) as cur:
                rows = await cur.fetchall()
            for product_id, quantity, variant_id, deal_id, holder in rows:
                await self._products.add_stock_in(conn, product_id, quantity, variant_id)
                await give_back_deal_units_in(conn, deal_id, holder, quantity)
        return sum(r[1] for r in rows)

    async def of_token(self, token: str) -> list[Held]:
        """The units a checkout holds now (at a deal's price where one was taken)."""
        rows = await self._db.lookup_all(
            "SELECT product_id, quantity, expires_at, variant_id, unit_price FROM holds WHERE token = ? "
            "ORDER BY product_id, variant_id", (token,))
        return [Held(r[0], r[1], r[1], r[2], r[3], r[4]) for r in rows]

    async def next_expiry(self) -> float | None:
        return await self._db.lookup_value("SELECT min(expires_at) FROM holds")


    async def open_units(self) -> int:
        """Units held right now, over all shops (metrics)."""
        return await self._db.fetch_value("SELECT coalesce(sum(quantity), 0) FROM holds")
