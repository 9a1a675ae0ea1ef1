"""The operator's hand (/admin): suspending and resuming shops and users, each with a reason and
logged in admin_actions. The suspended sets are small and read on every update (users) and every
order (shops): they are kept in memory, exact because every change goes through here (with
several workers they would be read from the table, or invalidated by LISTEN/NOTIFY)."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import WriteTransaction, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write


@dataclass(frozen=True)
class AdminAction:
    admin_id: int
    action: str
    target: int
    reason: str | None
    at: float


class Operator:
    def __init__(self, db: Engine) -> None:
        self._db = db
        self._shops: dict[int, str] | None = None  # shop id -> reason
        self._users: dict[int, str] | None = None  # user id -> reason
        # Several workers: another may suspend; read the row each time then (by key, fast).
        self._caching = not db.shared

    async def _load(self) -> None:
        if self._shops is None or self._users is None:
            self._shops = {r[0]: r[1] for r in await self._db.fetch_all("SELECT shop_id, reason FROM suspended_shops")}
            self._users = {r[0]: r[1] for r in await self._db.fetch_all("SELECT user_id, reason FROM suspended_users")}

    async def shop_suspension(self, shop_id: int) -> str | None:
        """Why the shop is suspended, or None."""
        if not self._caching:
            return await self._db.lookup_value("SELECT reason FROM suspended_shops WHERE shop_id = ?", (shop_id,))
        await self._load()
        assert self._shops is not None
        return self._shops.get(shop_id)

    async def user_suspension(self, user_id: int) -> str | None:
        """Why the user is suspended, or None (read on every update: from memory)."""
        if not self._caching:
            return await self._db.lookup_value("SELECT reason FROM suspended_users WHERE user_id = ?", (user_id,))
        await self._load()
        assert self._users is not None
        return self._users.get(user_id)

    @journaled_write
    async def suspend_shop(self, shop_id: int, admin_id: int, reason: str) -> bool:
        """False if it was suspended already (the reason is not changed then)."""
        return await self._set("shop", shop_id, admin_id, reason)

    @journaled_write
    async def resume_shop(self, shop_id: int, admin_id: int) -> bool:
        return await self._clear("shop", shop_id, admin_id)

    @journaled_write
    async def suspend_user(self, user_id: int, admin_id: int, reason: str) -> bool:
        return await self._set("user", user_id, admin_id, reason)

    @journaled_write
    async def resume_user(self, user_id: int, admin_id: int) -> bool:
        return await self._clear("user", user_id, admin_id)

    @journaled_read
    async def log(self, limit: int = 20) -> list[AdminAction]:
        rows = await self._db.fetch_all(
            "SELECT admin_id, action, target, reason, at FROM admin_actions ORDER BY id DESC LIMIT ?", (limit,))
        return [AdminAction(*r) for r in rows]

    async def _set(self, kind: str, target: int, admin_id: int, reason: str) -> bool:
        await self._load()
        async with self._db.write() as conn:
            cur = await conn.execute(
                f"INSERT INTO suspended_{kind}s ({kind}_id, reason, by_admin, at) VALUES (?, ?, ?, ?)"
                f" ON CONFLICT ({kind}_id) DO NOTHING", (target, reason, admin_id, now()))
            if cur.rowcount == 0:
                return False
            await _logged(conn, admin_id, f"suspend_{kind}", target, reason)
        self._cache(kind)[target] = reason
        return True

    async def _clear(self, kind: str, target: int, admin_id: int) -> bool:
        await self._load()
        async with self._db.write() as conn:
            cur = await conn.execute(f"DELETE FROM suspended_{kind}s WHERE {kind}_id = ?", (target,))
            if cur.rowcount == 0:
                return False
            await _logged(conn, admin_id, f"resume_{kind}", target, None)
        self._cache(kind).pop(target, None)
        return True

    def _cache(self, kind: str) -> dict[int, str]:
        cache = self._shops if kind == "shop" else self._users
        assert cache is not None
        return cache


async def _logged(conn: WriteTransaction, admin_id: int, action: str, target: int, reason: str | None) -> None:
    await conn.execute("INSERT INTO admin_actions (admin_id, action, target, reason, at) VALUES (?, ?, ?, ?, ?)",
                       (admin_id, action, target, reason, now()))
