"""Products of a shop. Stock changes are atomic and never go below zero; deletion is soft."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from core.stock import StockChange
from storage.db import fetch_one_in, row_in, WriteTransaction, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.models import User
from storage.outbox import Outbox, Outgoing
from storage.users import USER_COLUMNS, user_from_row

_COLUMNS = ("id, shop_id, name, price, stock, photo_file_id, description, per_buyer_limit, hidden, "
            "deleted_at, updated_at, variant_count, ships_from, ships_until, presale_closed_at")
EDITABLE = frozenset({"name", "price", "photo_file_id", "description", "per_buyer_limit", "hidden"})


@dataclass(frozen=True)
class Product:
    id: int
    shop_id: int
    name: str
    price: int
    stock: int
    photo_file_id: str | None
    description: str | None
    per_buyer_limit: int | None
    hidden: bool
    deleted: bool
    updated_at: float
    # Live variants (storage/variants.py); 0: sold as one thing, as before variants existed.
    # With variants, `stock` is the sum of theirs and `price` the lowest.
    variant_count: int = 0
    # Pre-sale (core/presale.py): ships from this ISO date (until the other, for a range).
    ships_from: str | None = None
    ships_until: str | None = None
    presale_closed: bool = False

    @property
    def on_presale(self) -> bool:
        return self.ships_from is not None

    @property
    def has_variants(self) -> bool:
        return self.variant_count > 0

    @property
    def on_sale(self) -> bool:
        """Buyers can see it (it may still be sold out)."""
        return not self.hidden and not self.deleted


def _product(row: sqlite3.Row) -> Product:
    return Product(
        id=row["id"], shop_id=row["shop_id"], name=row["name"], price=row["price"], stock=row["stock"],
        photo_file_id=row["photo_file_id"], description=row["description"],
        per_buyer_limit=row["per_buyer_limit"], hidden=bool(row["hidden"]),
        deleted=row["deleted_at"] is not None, updated_at=row["updated_at"],
        variant_count=row["variant_count"], ships_from=row["ships_from"], ships_until=row["ships_until"],
        presale_closed=row["presale_closed_at"] is not None,
    )


@dataclass(frozen=True)
class StockUpdate:
    product: Product
    before: int


# The message telling one waiting buyer that a product (or one variant: its id and name) is back:
# (product, variant id, variant name, shop name, buyer) -> message. Pure, with no I/O: it runs
# inside the transaction that restocked, over what that transaction read itself.
RestockRenderer = Callable[[Product, int | None, str | None, str, User], Outgoing]


class Products:
    def __init__(self, db: Engine, outbox: Outbox) -> None:
        self._db = db
        self._outbox = outbox
        # Set by the bot (handlers/notices.py); without it waiters are kept, not told.
        self.restock_renderer: RestockRenderer | None = None

    @journaled_write
    async def create(self, shop_id: int, name: str, price: int, stock: int,
                     photo_file_id: str | None = None, description: str | None = None) -> Product:
        t = now()
        async with self._db.write() as conn:
            row = await row_in(
                conn,
                f"""INSERT INTO products (shop_id, name, price, stock, photo_file_id, description, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}""",
                (shop_id, name, price, stock, photo_file_id, description, t, t),
            )
        return _product(row)

    @journaled_read
    async def get(self, product_id: int) -> Product | None:
        row = await self._db.lookup_one(f"SELECT {_COLUMNS} FROM products WHERE id = ?", (product_id,))
        return None if row is None else _product(row)

    async def get_in(self, conn: WriteTransaction, product_id: int) -> Product | None:
        """The product as the caller's transaction sees it."""
        row = await fetch_one_in(conn, f"SELECT {_COLUMNS} FROM products WHERE id = ?", (product_id,))
        return None if row is None else _product(row)

    async def page(self, shop_id: int, offset: int, limit: int, *, visible_only: bool = False) -> tuple[list[Product], int]:
        """One page of the shop's products (not deleted), newest first, and how many there are."""
        where = "shop_id = ? AND deleted_at IS NULL" + (" AND hidden = 0" if visible_only else "")
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM products WHERE {where} ORDER BY id DESC LIMIT ? OFFSET ?",
            (shop_id, limit, offset),
        )
        total = await self._db.fetch_value(f"SELECT count(*) FROM products WHERE {where}", (shop_id,))
        return [_product(r) for r in rows], total

    @journaled_write
    async def update(self, product_id: int, **fields: object) -> Product | None:
        """Change some of name, price, photo_file_id, description, per_buyer_limit, hidden."""
        unknown = set(fields) - EDITABLE
        if unknown or not fields:
            raise ValueError(f"cannot edit {sorted(unknown) or 'nothing'}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn,
                f"UPDATE products SET {assignments}, updated_at = ? WHERE id = ? AND deleted_at IS NULL "
                f"RETURNING {_COLUMNS}",
                (*fields.values(), now(), product_id),
            )
        return None if row is None else _product(row)

    @journaled_write
    async def change_stock(self, product_id: int, change: StockChange) -> StockUpdate | None:
        """Apply +n / -n / =n atomically. StockError when it would go negative; None if gone."""
        async with self._db.write() as conn:
            row = await fetch_one_in(conn, "SELECT stock FROM products WHERE id = ? AND deleted_at IS NULL",
                                     (product_id,))
            if row is None:
                return None
            before = row["stock"]
            after = change.apply(before)  # raises StockError; the transaction rolls back
            updated = await row_in(
                conn, f"UPDATE products SET stock = ?, updated_at = ? WHERE id = ? RETURNING {_COLUMNS}",
                (after, now(), product_id),
            )
            product = _product(updated)
            if before == 0 and after > 0:
                await self._restocked(conn, product)
        return StockUpdate(product, before)

    async def take_stock_in(self, conn: WriteTransaction, product_id: int, variant_id: int | None,
                            quantity: int) -> bool:
        """Take units inside the caller's transaction, only if that many are left (the conditional
        update that makes overselling impossible); False when they are not. A variant's units are
        taken from the variant and from its product's sum together."""
        if variant_id is not None:
            cur = await conn.execute(
                "UPDATE variants SET stock = stock - ?, updated_at = ? WHERE id = ? AND product_id = ? AND stock >= ?",
                (quantity, now(), variant_id, product_id, quantity))
            if cur.rowcount == 0:
                return False
        cur = await conn.execute("UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?",
                                 (quantity, now(), product_id, quantity))
        return cur.rowcount > 0

    async def add_stock_in(self, conn: WriteTransaction, product_id: int, quantity: int,
                           variant_id: int | None = None) -> None:
        """Put units back inside the caller's transaction (a cancelled order)."""
        variant = None
        if variant_id is not None:
            variant = await fetch_one_in(
                conn, "UPDATE variants SET stock = stock + ?, updated_at = ? WHERE id = ? RETURNING stock, name, hidden",
                (quantity, now(), variant_id))
        row = await fetch_one_in(
            conn, f"UPDATE products SET stock = stock + ?, updated_at = ? WHERE id = ? RETURNING {_COLUMNS}",
            (quantity, now(), product_id))
        if row is not None and row["stock"] - quantity == 0 and row["stock"] > 0:
            await self._restocked(conn, _product(row))
        if row is not None and variant_id is not None and variant is not None \
                and variant["stock"] - quantity == 0 and variant["stock"] > 0 and not variant["hidden"]:
            await self.variant_restocked_in(conn, _product(row), variant_id, variant["name"])

    async def variant_restocked_in(self, conn: WriteTransaction, product: Product, variant_id: int,
                                   name: str) -> None:
        """A variant's stock came back from zero: whoever waits for it hears it in this transaction."""
        await self._tell_waiters(conn, product, variant_id, name)

    async def restocked_in(self, conn: WriteTransaction, product_id: int) -> None:
        """The product's stock came back from zero (its variants' sum): the product's waiters hear it."""
        row = await fetch_one_in(conn, f"SELECT {_COLUMNS} FROM products WHERE id = ?", (product_id,))
        if row is not None:
            await self._restocked(conn, _product(row))

    async def _restocked(self, conn: WriteTransaction, product: Product) -> None:
        """Stock came back from zero: whoever waits for it hears it in this transaction."""
        await self._tell_waiters(conn, product, None, None)

    async def _tell_waiters(self, conn: WriteTransaction, product: Product, variant_id: int | None,
                            variant_name: str | None) -> None:
        """Queue the back-in-stock message to each buyer waiting (told once: they stop waiting),
        rendered from what this transaction reads itself (the waiters with their languages)."""
        render = self.restock_renderer
        if not product.on_sale or render is None:
            return
        shop = await fetch_one_in(conn, "SELECT name FROM shops WHERE id = ?", (product.shop_id,))
        async with conn.execute(
                """DELETE FROM restock_waiters WHERE product_id = ? AND coalesce(variant_id, 0) = ?
                    RETURNING user_id""", (product.id, variant_id or 0)) as cur:
            waiting = [r[0] for r in await cur.fetchall()]
        for user_id in waiting:
            user = await fetch_one_in(conn, f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", (user_id,))
            if user is None or user["blocked_at"]:
                continue
            await self._outbox.enqueue(conn, render(product, variant_id, variant_name, shop["name"] if shop else "",
                                                    user_from_row(user)))

    @journaled_write
    async def soft_delete(self, product_id: int) -> bool:
        """Remove from sale and from live links; past orders keep what they recorded."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "UPDATE products SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL",
                (now(), now(), product_id),
            )
            await conn.execute("UPDATE link_slots SET product_id = NULL, updated_at = ? WHERE product_id = ?",
                               (now(), product_id))
            await conn.execute("DELETE FROM cart_items WHERE product_id = ?", (product_id,))
            await conn.execute("DELETE FROM restock_waiters WHERE product_id = ?", (product_id,))
            return cur.rowcount > 0

    @journaled_write
    async def add_waiter(self, product_id: int, user_id: int, variant_id: int | None = None) -> bool:
        """Remember a buyer who wants to hear when the product (or one variant) is back; False if
        already waiting."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "INSERT INTO restock_waiters (product_id, variant_id, user_id, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING", (product_id, variant_id, user_id, now()))
            return cur.rowcount > 0
