"""Flash deals on products: started and stopped by the owner, read for the card, taken by holds.

The price rule itself is core.deals.price_in_force; this module finds the deal it applies to and
keeps the deal's units with a conditional update, as stock is kept (storage/holds.py).
"""

from __future__ import annotations

import sqlite3

from core.deals import GRACE_SECONDS, Deal, PriceNow, price_in_force
from storage.db import WriteTransaction, fetch_one_in, now, row_in
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.products import Product

_COLUMNS = "id, product_id, price, units, taken, per_buyer, ends_at, started_at, stopped_at"


def _deal(row: sqlite3.Row | None) -> Deal | None:
    return None if row is None else Deal(*[row[i] for i in range(9)])


class Deals:
    def __init__(self, db: Engine) -> None:
        self._db = db

    @journaled_write
    async def start(self, shop_id: int, product_id: int, price: int, *, units: int | None, minutes: int | None,
                    per_buyer: int | None) -> Deal:
        """Start a deal on the product (a deal still running on it is stopped first)."""
        t = now()
        async with self._db.write() as conn:
            await conn.execute("UPDATE deals SET stopped_at = ? WHERE product_id = ? AND stopped_at IS NULL",
                               (t, product_id))
            row = await row_in(
                conn, f"INSERT INTO deals (shop_id, product_id, price, units, per_buyer, ends_at, started_at)"
                      f" VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                (shop_id, product_id, price, units, per_buyer, t + 60 * minutes if minutes else None, t))
        return Deal(*[row[i] for i in range(9)])

    @journaled_write
    async def stop(self, product_id: int) -> bool:
        async with self._db.write() as conn:
            cur = await conn.execute("UPDATE deals SET stopped_at = ? WHERE product_id = ? AND stopped_at IS NULL",
                                     (now(), product_id))
            return cur.rowcount > 0

    @journaled_read
    async def current(self, product_id: int) -> Deal | None:
        """The product's latest deal not stopped by the owner (it may have run out or ended)."""
        return _deal(await self._db.lookup_one(
            f"SELECT {_COLUMNS} FROM deals WHERE product_id = ? AND stopped_at IS NULL ORDER BY id DESC LIMIT 1",
            (product_id,)))

    @journaled_read
    async def price_now(self, product: Product, at: float | None = None) -> PriceNow:
        """The price in force for the product now: what the card shows and Buy now holds."""
        return price_in_force(product.price, await self.current(product.id), now() if at is None else at)


async def take_deal_units_in(conn: WriteTransaction, product_id: int, buyer_id: int, quantity: int, regular: int,
                             at: float, seen_price: int | None) -> tuple[int | None, int]:
    """Inside a hold's transaction: take `quantity` units at the product's deal price when a deal
    is open and has room for them, in all and for this buyer. A tap on a button that showed the
    deal price (`seen_price`) gets core.deals.GRACE_SECONDS past a timed end. Returns (deal id,
    unit price); (None, regular) when the regular price applies."""
    deal = _deal(await fetch_one_in(
        conn, f"SELECT {_COLUMNS} FROM deals WHERE product_id = ? AND stopped_at IS NULL ORDER BY id DESC LIMIT 1",
        (product_id,)))
    grace = GRACE_SECONDS if deal is not None and seen_price == deal.price else 0.0
    if deal is None or not deal.open_at(at, grace=grace) or deal.price >= regular:
        return None, regular
    if deal.per_buyer is not None:
        mine = await fetch_one_in(conn, "SELECT units FROM deal_takes WHERE deal_id = ? AND buyer_id = ?",
                                  (deal.id, buyer_id))
        if (mine[0] if mine else 0) + quantity > deal.per_buyer:
            return None, regular
    cur = await conn.execute(
        "UPDATE deals SET taken = taken + ? WHERE id = ? AND (units IS NULL OR taken + ? <= units)",
        (quantity, deal.id, quantity))
    if cur.rowcount == 0:
        return None, regular
    await conn.execute(
        "INSERT INTO deal_takes (deal_id, buyer_id, units) VALUES (?, ?, ?)"
        " ON CONFLICT (deal_id, buyer_id) DO UPDATE SET units = deal_takes.units + excluded.units",
        (deal.id, buyer_id, quantity))
    return deal.id, deal.price


async def give_back_deal_units_in(conn: WriteTransaction, deal_id: int | None, buyer_id: int, quantity: int) -> None:
    """A hold at the deal price was released or expired: its units are the deal's again."""
    if deal_id is None or quantity <= 0:
        return
    await conn.execute("UPDATE deals SET taken = max(0, taken - ?) WHERE id = ?", (quantity, deal_id))
    await conn.execute("UPDATE deal_takes SET units = max(0, units - ?) WHERE deal_id = ? AND buyer_id = ?",
                       (quantity, deal_id, buyer_id))
