"""A product's variants: weights or grades ("5斤 / 10斤"), each with its own price and stock.

A product with variants keeps in `products.stock` the sum of its variants' stock, in `products.price`
the lowest price of those on sale and in `products.variant_count` how many it has, all written in
the same transaction as the variants themselves; the catalog, the sold-out state and the hot path
of a product without variants therefore need no query here. Units are taken and given back through
Products.take_stock_in / add_stock_in, which change the variant and its product's sum together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from core.stock import StockChange
from core.weights import weight_in_name
from storage.db import WriteTransaction, fetch_one_in, row_in, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.products import Products

MAX_VARIANTS = 20  # per product (issue 20)

_COLUMNS = ("id, product_id, name, price, stock, photo_file_id, per_buyer_limit, weight_grams, position, hidden, "
            "deleted_at, ships_from, ships_until")
EDITABLE = frozenset({"name", "price", "stock", "photo_file_id", "per_buyer_limit", "weight_grams", "hidden"})


@dataclass(frozen=True)
class Variant:
    id: int
    product_id: int
    name: str
    price: int
    stock: int
    photo_file_id: str | None
    per_buyer_limit: int | None
    weight_grams: int | None
    position: int
    hidden: bool
    deleted: bool
    ships_from: str | None = None  # its own pre-sale date, else the product's (core/presale.py)
    ships_until: str | None = None

    @property
    def on_sale(self) -> bool:
        return not self.hidden and not self.deleted


@dataclass(frozen=True)
class Offer:
    """A variant to add: its name, price (minor units) and stock."""
    name: str
    price: int
    stock: int


class TooManyVariants(ValueError):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} variants per product")
        self.limit = limit


class VariantHasOpenOrders(Exception):
    """A variant with orders still to ship cannot be deleted (hide it instead)."""

    def __init__(self, numbers: Sequence[int]) -> None:
        super().__init__(f"open orders: {', '.join(f'#{n}' for n in numbers)}")
        self.numbers = list(numbers)


def _variant(row: sqlite3.Row) -> Variant:
    return Variant(id=row["id"], product_id=row["product_id"], name=row["name"], price=row["price"],
                   stock=row["stock"], photo_file_id=row["photo_file_id"], per_buyer_limit=row["per_buyer_limit"],
                   weight_grams=row["weight_grams"], position=row["position"], hidden=bool(row["hidden"]),
                   deleted=row["deleted_at"] is not None, ships_from=row["ships_from"],
                   ships_until=row["ships_until"])


class Variants:
    def __init__(self, db: Engine, products: Products) -> None:
        self._db = db
        self._products = products  # its restock listeners hear a variant back from zero

    @journaled_read
    async def of_product(self, product_id: int, *, on_sale_only: bool = False) -> list[Variant]:
        """The product's variants in their order on the card (deleted ones left out)."""
        hidden = " AND hidden = 0" if on_sale_only else ""
        rows = await self._db.lookup_all(
            f"SELECT {_COLUMNS} FROM variants WHERE product_id = ? AND deleted_at IS NULL{hidden} "
            "ORDER BY position, id", (product_id,))
        return [_variant(r) for r in rows]

    @journaled_read
    async def get(self, variant_id: int) -> Variant | None:
        row = await self._db.lookup_one(f"SELECT {_COLUMNS} FROM variants WHERE id = ?", (variant_id,))
        return None if row is None else _variant(row)

    @journaled_write
    async def add(self, product_id: int, offers: Sequence[Offer]) -> list[Variant]:
        """Add variants after the existing ones, all or none (TooManyVariants past the limit)."""
        async with self._db.write() as conn:
            row = await row_in(
                conn, "SELECT count(*), coalesce(max(position), 0) FROM variants WHERE product_id = ? "
                      "AND deleted_at IS NULL", (product_id,))
            count, last = row[0], row[1]
            if count + len(offers) > MAX_VARIANTS:
                raise TooManyVariants(MAX_VARIANTS)
            if count == 0:
                # The product's own stock becomes the variants' sum: units it had as one thing
                # are not sellable through a variant, so they are set aside (zero) first.
                await conn.execute("UPDATE products SET stock = 0 WHERE id = ?", (product_id,))
                # Holds and cart lines of the product as one thing can no longer be bought (a variant
                # must be picked): they go, and their units with the stock set aside, so the sum holds.
                await conn.execute("DELETE FROM holds WHERE product_id = ? AND variant_id IS NULL", (product_id,))
                await conn.execute("DELETE FROM cart_items WHERE product_id = ? AND variant_id IS NULL", (product_id,))
            t = now()
            added = []
            for i, offer in enumerate(offers, start=1):
                added.append(_variant(await row_in(
                    conn, f"""INSERT INTO variants (product_id, name, price, stock, position, created_at, updated_at,
                                                        weight_grams)
                              VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}""",
                    (product_id, offer.name, offer.price, offer.stock, last + i, t, t, weight_in_name(offer.name)))))
            await _sync_product_in(conn, product_id)
        return added

    @journaled_write
    async def create_product(self, shop_id: int, name: str, offers: Sequence[Offer],
                             photo_file_id: str | None = None) -> int:
        """A new product sold in these variants, in one transaction; its id."""
        if not 1 <= len(offers) <= MAX_VARIANTS:
            raise TooManyVariants(MAX_VARIANTS)
        t = now()
        async with self._db.write() as conn:
            row = await row_in(
                conn, """INSERT INTO products (shop_id, name, price, stock, photo_file_id, created_at, updated_at)
                         VALUES (?, ?, ?, 0, ?, ?, ?) RETURNING id""",
                (shop_id, name, min(o.price for o in offers), photo_file_id, t, t))
            product_id = row[0]
            await conn.executemany(
                "INSERT INTO variants (product_id, name, price, stock, position, created_at, updated_at, weight_grams)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(product_id, o.name, o.price, o.stock, i, t, t, weight_in_name(o.name))
                 for i, o in enumerate(offers, start=1)])
            await _sync_product_in(conn, product_id)
        return product_id

    @journaled_write
    async def update(self, variant_id: int, **fields: object) -> Variant | None:
        """Change some of name, price, stock, photo_file_id, per_buyer_limit, weight_grams, hidden."""
        unknown = set(fields) - EDITABLE
        if unknown or not fields:
            raise ValueError(f"cannot edit {sorted(unknown) or 'nothing'}")
        if "name" in fields and "weight_grams" not in fields:  # a renamed "5斤" -> "10斤" weighs again
            fields["weight_grams"] = weight_in_name(str(fields["name"]))
        assignments = ", ".join(f"{name} = ?" for name in fields)
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn, f"UPDATE variants SET {assignments}, updated_at = ? WHERE id = ? AND deleted_at IS NULL "
                      f"RETURNING {_COLUMNS}", (*fields.values(), now(), variant_id))
            if row is None:
                return None
            await _sync_product_in(conn, row["product_id"])
        return _variant(row)

    @journaled_write
    async def change_stock(self, variant_id: int, change: StockChange) -> Variant | None:
        """Apply +n / -n / =n atomically. StockError when it would go negative; None if gone."""
        async with self._db.write() as conn:
            row = await fetch_one_in(conn, "SELECT stock FROM variants WHERE id = ? AND deleted_at IS NULL",
                                     (variant_id,))
            if row is None:
                return None
            before = row["stock"]
            after = change.apply(before)  # raises StockError; the transaction rolls back
            updated = await row_in(
                conn, f"UPDATE variants SET stock = ?, updated_at = ? WHERE id = ? RETURNING {_COLUMNS}",
                (after, now(), variant_id))
            product_id = updated["product_id"]
            sum_before = (await row_in(conn, "SELECT stock FROM products WHERE id = ?", (product_id,)))[0]
            await _sync_product_in(conn, product_id)
            if before == 0 and after > 0:
                variant = _variant(updated)
                product = await self._products.get_in(conn, product_id)
                if variant.on_sale and product is not None:
                    await self._products.variant_restocked_in(conn, product, variant.id, variant.name)
                if sum_before == 0:
                    await self._products.restocked_in(conn, product_id)
        return _variant(updated)

    @journaled_write
    async def delete(self, variant_id: int) -> Variant | None:
        """Soft-delete a variant; VariantHasOpenOrders while orders of it wait to ship."""
        async with self._db.write() as conn:
            async with conn.execute(
                    """SELECT o.number FROM order_items i JOIN orders o ON o.id = i.order_id
                       WHERE i.variant_id = ? AND o.status IN ('placed', 'confirmed') ORDER BY o.number LIMIT 5""",
                    (variant_id,)) as cur:
                numbers = [r[0] for r in await cur.fetchall()]
            if numbers:
                raise VariantHasOpenOrders(numbers)
            row = await fetch_one_in(
                conn, f"UPDATE variants SET deleted_at = ?, updated_at = ? WHERE id = ? AND deleted_at IS NULL "
                      f"RETURNING {_COLUMNS}", (now(), now(), variant_id))
            if row is None:
                return None
            await conn.execute("DELETE FROM cart_items WHERE variant_id = ?", (variant_id,))
            await _sync_product_in(conn, row["product_id"])
        return _variant(row)


async def _sync_product_in(conn: WriteTransaction, product_id: int) -> None:
    """The product's sum of stock, lowest price and count of variants, after its variants changed.
    Held units are out of both stocks already, so the sums stay equal."""
    row = await row_in(
        conn, """SELECT count(*), coalesce(sum(stock), 0), min(CASE WHEN hidden = 0 THEN price END), min(price)
                 FROM variants WHERE product_id = ? AND deleted_at IS NULL""", (product_id,))
    count, stock, lowest_on_sale, lowest = row[0], row[1], row[2], row[3]
    if count == 0:
        await conn.execute("UPDATE products SET variant_count = 0, stock = 0, updated_at = ? WHERE id = ?",
                           (now(), product_id))
        return
    await conn.execute(
        "UPDATE products SET variant_count = ?, stock = ?, price = ?, updated_at = ? WHERE id = ?",
        (count, stock, lowest_on_sale or lowest, now(), product_id))
