"""Users: who they are, their language and their current shop."""

from __future__ import annotations

import sqlite3

from storage.db import now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.models import User

_COLUMNS = ("id, first_name, username, language_code, language, current_shop_id, blocked_at, phone, recipient, address, "
            "region, webapp_only")


USER_COLUMNS = _COLUMNS  # for another repository reading a user inside its own transaction


def user_from_row(row: sqlite3.Row) -> User:
    fields = {key: row[key] for key in row.keys()}
    fields["webapp_only"] = bool(fields.get("webapp_only"))
    return User(**fields)


_user = user_from_row


class Users:
    """Every write goes through here, so a small cache of users stays exact and saves the
    hot path (each update names its sender) a write transaction per update."""

    def __init__(self, db: Engine) -> None:
        self._db = db
        self._cache: dict[int, User] = {}
        self._caching = not db.shared  # another worker may change a user (storage/engine.py)

    def _remember(self, row: sqlite3.Row | None) -> User | None:
        return None if row is None else self._keep(row)

    def _keep(self, row: sqlite3.Row) -> User:
        user = _user(row)
        if self._caching:
            self._cache[user.id] = user
        return user

    async def seen(self, user_id: int, first_name: str, username: str | None, language_code: str | None) -> User:
        """Record (or refresh) a user from an incoming update and return them.

        A user who talks to us again has evidently unblocked the bot, so blocked_at clears.
        Every update names its sender, so a returning user costs a (journaled) read, not a write.
        """
        known = await self.get(user_id)  # the cache, or a lookup after a restart
        if (
            known is not None and known.blocked_at is None and not known.webapp_only and known.first_name == first_name
            and known.username == username and known.language_code == language_code
        ):
            return known
        return await self._record(user_id, first_name, username, language_code)

    @journaled_write
    async def _record(self, user_id: int, first_name: str, username: str | None, language_code: str | None) -> User:
        t = now()
        async with self._db.write() as conn:
            async with conn.execute(
                f"""INSERT INTO users (id, first_name, username, language_code, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET first_name = excluded.first_name,
                        username = excluded.username, language_code = excluded.language_code,
                        blocked_at = NULL, webapp_only = 0, updated_at = excluded.updated_at
                    RETURNING {_COLUMNS}""",
                (user_id, first_name, username, language_code, t, t),
            ) as cur:
                row = await cur.fetchone()
        if row is None:  # an upsert with RETURNING always has its row
            raise LookupError(f"user {user_id} was not stored")
        return self._keep(row)

    async def seen_in_webapp(self, user_id: int, first_name: str, username: str | None,
                             language_code: str | None, *, may_write: bool) -> User:
        """A user opening the Mini App (checked init data). One who never messaged the bot is
        stored as `webapp_only` unless Telegram says they allowed the bot to write to them."""
        known = await self.get(user_id)
        if known is not None and (not known.webapp_only or not may_write):
            return known
        t = now()
        async with self._db.write() as conn:
            async with conn.execute(
                f"""INSERT INTO users (id, first_name, username, language_code, webapp_only, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET webapp_only = min(users.webapp_only, excluded.webapp_only),
                        updated_at = excluded.updated_at
                    RETURNING {_COLUMNS}""",
                (user_id, first_name, username, language_code, 0 if may_write else 1, t, t),
            ) as cur:
                row = await cur.fetchone()
        if row is None:
            raise LookupError(f"user {user_id} was not stored")
        return self._keep(row)

    @journaled_read
    async def get(self, user_id: int) -> User | None:
        if user_id in self._cache:
            return self._cache[user_id]
        row = await self._db.lookup_one(f"SELECT {_COLUMNS} FROM users WHERE id = ?", (user_id,))
        return self._remember(row)

    @journaled_write
    async def _update(self, user_id: int, assignments: str, params: tuple) -> User | None:
        async with self._db.write() as conn:
            async with conn.execute(
                f"UPDATE users SET {assignments}, updated_at = ? WHERE id = ? RETURNING {_COLUMNS}",
                (*params, now(), user_id),
            ) as cur:
                row = await cur.fetchone()
        return self._remember(row)

    async def set_phone(self, user_id: int, phone: str) -> None:
        """The buyer's own number, shared from the Mini App (offered at their next checkout)."""
        await self._update(user_id, "phone = ?", (phone,))

    async def set_language(self, user_id: int, language: str | None) -> None:
        await self._update(user_id, "language = ?", (language,))

    async def set_current_shop(self, user_id: int, shop_id: int) -> None:
        await self._update(user_id, "current_shop_id = ?", (shop_id,))

    async def mark_blocked(self, user_id: int) -> None:
        await self._update(user_id, "blocked_at = ?", (now(),))

    def forget(self, user_id: int) -> None:
        """Drop the cached row after a change made outside this class (e.g. in a shop transaction)."""
        self._cache.pop(user_id, None)
