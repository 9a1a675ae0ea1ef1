"""Shops and who belongs to them."""

from __future__ import annotations

import secrets
import sqlite3

from storage.db import fetch_one_in, row_in, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.models import Membership, Shop, ShopCounts

_SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o/1/l: slugs get read aloud
SLUG_LENGTH = 6
_COLUMNS = "s.id, s.slug, s.name, s.owner_id, s.currency, s.timezone, s.created_at, s.hold_minutes, s.opens_in"


def _shop(row: sqlite3.Row) -> Shop:
    return Shop(
        id=row["id"], slug=row["slug"], name=row["name"], owner_id=row["owner_id"],
        currency=row["currency"], timezone=row["timezone"], created_at=row["created_at"],
        hold_minutes=row["hold_minutes"], opens_in=row["opens_in"],
    )


def new_slug() -> str:
    return "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(SLUG_LENGTH))


class TooManyShops(Exception):
    """The account already owns as many shops as it may (limits.shops_per_account)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} shops per account")
        self.limit = limit


class Shops:
    """Shops are read on every tap of a flash sale and change rarely; every change goes through
    here (or calls `forget`), so they are cached."""

    def __init__(self, db: Engine) -> None:
        self._db = db
        self._by_id: dict[int, Shop] = {}
        # Several workers change shops behind each other's back: no cache then; a lookup by key
        # is a fraction of a millisecond, and a stale owner or staff list is a missed notice.
        self._caching = not db.shared
        self._id_by_slug: dict[str, int] = {}  # slugs never change
        self._members: dict[int, list[tuple[int, str]]] = {}

    def forget(self, shop_id: int) -> None:
        """Drop what is cached about a shop after a change made elsewhere (its staff)."""
        self._by_id.pop(shop_id, None)
        self._members.pop(shop_id, None)

    @journaled_write
    async def create(self, owner_id: int, name: str, currency: str, timezone: str,
                     max_owned: int | None = None) -> Shop:
        """Open a shop owned by `owner_id` (the caller makes it their current shop); TooManyShops
        when they own `max_owned` already (checked in the same transaction)."""
        t = now()
        async with self._db.write() as conn:
            if max_owned is not None:
                owned = (await row_in(conn, "SELECT count(*) FROM shops WHERE owner_id = ?", (owner_id,)))[0]
                if owned >= max_owned:
                    raise TooManyShops(max_owned)
            while True:
                slug = new_slug()
                if await fetch_one_in(conn, "SELECT 1 FROM shops WHERE slug = ?", (slug,)) is None:
                    break
            shop_id = (await row_in(
                conn, "INSERT INTO shops (slug, name, owner_id, currency, timezone, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                " RETURNING id", (slug, name, owner_id, currency, timezone, t)))[0]
            await conn.execute(
                "INSERT INTO shop_members (shop_id, user_id, role, added_at) VALUES (?, ?, 'owner', ?)",
                (shop_id, owner_id, t),
            )
        return Shop(shop_id, slug, name, owner_id, currency, timezone, t)

    async def get(self, shop_id: int) -> Shop | None:
        if shop_id in self._by_id:
            return self._by_id[shop_id]
        row = await self._db.lookup_one(f"SELECT {_COLUMNS} FROM shops s WHERE s.id = ?", (shop_id,))
        return None if row is None else self._remember(_shop(row))

    async def require(self, shop_id: int) -> Shop:
        """The shop a stored row names (an order's, a product's, a checkout's): shops are never
        deleted, so it exists; LookupError when not (a bug, not a user's doing)."""
        shop = await self.get(shop_id)
        if shop is None:
            raise LookupError(f"shop {shop_id} does not exist")
        return shop

    def _remember(self, shop: Shop) -> Shop:
        if self._caching:
            self._by_id[shop.id] = shop
        return shop

    async def by_slug(self, slug: str) -> Shop | None:
        if slug not in self._id_by_slug:
            row = await self._db.lookup_one("SELECT id FROM shops WHERE slug = ?", (slug,))
            if row is None:
                return None  # not remembered: a shop may be opened with it later
            self._id_by_slug[slug] = row[0]
        return await self.get(self._id_by_slug[slug])

    @journaled_write
    async def set_timezone(self, shop_id: int, timezone: str) -> None:
        """The shop's time zone (validated by the caller): summaries, exports and times use it."""
        async with self._db.write() as conn:
            await conn.execute("UPDATE shops SET timezone = ? WHERE id = ?", (timezone, shop_id))
        self.forget(shop_id)

    @journaled_write
    async def set_hold_minutes(self, shop_id: int, minutes: int) -> None:
        """How long Buy now holds the units for a buyer (validated by the caller)."""
        async with self._db.write() as conn:
            await conn.execute("UPDATE shops SET hold_minutes = ? WHERE id = ?", (minutes, shop_id))
        self.forget(shop_id)

    @journaled_write
    async def set_opens_in(self, shop_id: int, opens_in: str) -> None:
        """What the shop's QR codes and posted cards open: "chat" or "app" (the Mini App)."""
        if opens_in not in ("chat", "app"):
            raise ValueError(opens_in)
        async with self._db.write() as conn:
            await conn.execute("UPDATE shops SET opens_in = ? WHERE id = ?", (opens_in, shop_id))
        self.forget(shop_id)

    @journaled_read
    async def staff_export_all(self, shop_id: int) -> bool:
        """Whether the owner lets staff export all of the shop's orders (not only those to ship)."""
        return bool(await self._db.lookup_value("SELECT staff_export_all FROM shops WHERE id = ?", (shop_id,)))

    @journaled_write
    async def set_staff_export_all(self, shop_id: int, allowed: bool) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE shops SET staff_export_all = ? WHERE id = ?", (int(allowed), shop_id))

    @journaled_read
    async def memberships(self, user_id: int) -> list[Membership]:
        """The shops a user owns or staffs, oldest first."""
        rows = await self._db.fetch_all(
            f"""SELECT {_COLUMNS}, m.role FROM shop_members m JOIN shops s ON s.id = m.shop_id
                WHERE m.user_id = ? ORDER BY s.id""",
            (user_id,),
        )
        return [Membership(_shop(r), r["role"]) for r in rows]

    @journaled_read
    async def membership(self, user_id: int, shop_id: int) -> Membership | None:
        row = await self._db.lookup_one(
            f"""SELECT {_COLUMNS}, m.role FROM shop_members m JOIN shops s ON s.id = m.shop_id
                WHERE m.user_id = ? AND m.shop_id = ?""",
            (user_id, shop_id),
        )
        return None if row is None else Membership(_shop(row), row["role"])

    async def members(self, shop_id: int) -> list[tuple[int, str]]:
        """(user id, role) of everyone who handles the shop's orders, owner first."""
        if shop_id not in self._members:
            rows = await self._db.lookup_all(  # read inside order transactions: must not suspend
                "SELECT user_id, role FROM shop_members WHERE shop_id = ? ORDER BY role = 'staff', added_at",
                (shop_id,))
            members = [(r[0], r[1]) for r in rows]
            if not self._caching:
                return members
            self._members[shop_id] = members
        return list(self._members[shop_id])

    async def counts(self, shop_id: int) -> ShopCounts:
        row = await self._db.fetch_row(
            """SELECT (SELECT count(*) FROM products WHERE shop_id = :s AND deleted_at IS NULL) AS products,
                      (SELECT count(*) FROM orders WHERE shop_id = :s) AS orders""",
            {"s": shop_id},
        )
        return ShopCounts(products=row["products"], orders=row["orders"])

    async def owned_count(self, user_id: int) -> int:
        return await self._db.fetch_value("SELECT count(*) FROM shops WHERE owner_id = ?", (user_id,))

    async def owner_ids(self) -> set[int]:
        rows = await self._db.fetch_all("SELECT DISTINCT owner_id FROM shops")
        return {r[0] for r in rows}
