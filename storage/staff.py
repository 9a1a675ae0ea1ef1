"""Staff: one-time invite links and membership changes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from storage.db import fetch_one_in, now
from storage.engine import Engine
from storage.journal import journaled_write

INVITE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Joined:
    shop_id: int
    already_member: bool


class InviteInvalid(Exception):
    """Unknown, already used or expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Staff:
    def __init__(self, db: Engine, on_members_changed: Callable[[int], None] = lambda shop_id: None) -> None:
        self._db = db
        self._on_members_changed = on_members_changed  # the shops cache

    @journaled_write
    async def invite(self, shop_id: int, created_by: int) -> str:
        """A fresh one-time token, valid for 24 hours (letters and digits only: it goes in a link)."""
        token = secrets.token_hex(12)
        t = now()
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO staff_invites (token, shop_id, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (token, shop_id, created_by, t, t + INVITE_SECONDS))
        return token

    @journaled_write
    async def accept(self, token: str, user_id: int) -> Joined:
        """Use an invite: the user joins the shop as staff (once; the token is then spent)."""
        async with self._db.write() as conn:
            invite = await fetch_one_in(conn, "SELECT shop_id, expires_at, used_at FROM staff_invites WHERE token = ?",
                                        (token,))
            if invite is None:
                raise InviteInvalid("unknown")
            if invite["used_at"] is not None:
                raise InviteInvalid("used")
            if invite["expires_at"] < now():
                raise InviteInvalid("expired")
            member = await fetch_one_in(conn, "SELECT role FROM shop_members WHERE shop_id = ? AND user_id = ?",
                                        (invite["shop_id"], user_id))
            if member is None:
                await conn.execute("INSERT INTO shop_members (shop_id, user_id, role, added_at) VALUES (?, ?, 'staff', ?)",
                                   (invite["shop_id"], user_id, now()))
                await conn.execute("UPDATE staff_invites SET used_by = ?, used_at = ? WHERE token = ?",
                                   (user_id, now(), token))
        self._on_members_changed(invite["shop_id"])
        return Joined(invite["shop_id"], member is not None)

    async def prune_invites(self, older_than: float) -> int:
        """Forget invites used, or expired, before `older_than` (a later tap on one says "unknown")."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "DELETE FROM staff_invites WHERE coalesce(used_at, expires_at) < ?", (older_than,))
            return cur.rowcount

    @journaled_write
    async def remove(self, shop_id: int, user_id: int) -> bool:
        """Remove a staff member (never the owner)."""
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM shop_members WHERE shop_id = ? AND user_id = ? AND role = 'staff'",
                                     (shop_id, user_id))
        self._on_members_changed(shop_id)
        return cur.rowcount > 0
