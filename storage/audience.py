"""A shop's audience: who follows it, and the going-live alerts sent to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from storage.db import fetch_one_in, now, row_in
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing

DAY = 86400.0


@dataclass(frozen=True)
class Follower:
    id: int
    language: str | None
    language_code: str | None


@dataclass(frozen=True)
class FollowedShop:
    id: int
    name: str
    slug: str


class AlertRefused(Exception):
    """The alert was not sent: `reason` is "sent" (this session already alerted) or "cap"."""

    def __init__(self, reason: str, limit: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class Audience:
    def __init__(self, db: Engine, outbox: Outbox) -> None:
        self._db = db
        self._outbox = outbox

    # ------------------------------------------------------------ following

    @journaled_write
    async def follow(self, user_id: int, shop_id: int) -> bool:
        """Follow the shop; False if already following."""
        async with self._db.write() as conn:
            cur = await conn.execute("INSERT INTO follows (shop_id, user_id, created_at) VALUES (?, ?, ?)"
                                     " ON CONFLICT DO NOTHING",
                                     (shop_id, user_id, now()))
            return cur.rowcount == 1

    @journaled_write
    async def unfollow(self, user_id: int, shop_id: int) -> bool:
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM follows WHERE shop_id = ? AND user_id = ?", (shop_id, user_id))
            return cur.rowcount == 1

    @journaled_read
    async def is_following(self, user_id: int, shop_id: int) -> bool:
        return await self._db.lookup_value(
            "SELECT 1 FROM follows WHERE shop_id = ? AND user_id = ?", (shop_id, user_id)) is not None

    @journaled_read
    async def followed_shops(self, user_id: int) -> list[FollowedShop]:
        rows = await self._db.fetch_all(
            "SELECT s.id, s.name, s.slug FROM follows f JOIN shops s ON s.id = f.shop_id"
            " WHERE f.user_id = ? ORDER BY f.created_at, s.id", (user_id,))
        return [FollowedShop(r["id"], r["name"], r["slug"]) for r in rows]

    @journaled_read
    async def follower_count(self, shop_id: int) -> int:
        """Followers who can still be reached (blocked ones are left out)."""
        return await self._db.fetch_value(
            "SELECT count(*) FROM follows f JOIN users u ON u.id = f.user_id"
            " WHERE f.shop_id = ? AND u.blocked_at IS NULL", (shop_id,))

    @journaled_read
    async def has_ordered_from(self, user_id: int, shop_id: int) -> bool:
        """Whether the buyer placed an order at the shop before (a first order offers following)."""
        return await self._db.lookup_value(
            "SELECT 1 FROM orders WHERE buyer_id = ? AND shop_id = ? LIMIT 1", (user_id, shop_id)) is not None

    # ------------------------------------------------------------ going-live alerts

    @journaled_read
    async def followers(self, shop_id: int) -> list[Follower]:
        """Followers to alert: those who blocked the bot are dropped (their follow rows removed)."""
        async with self._db.write() as conn:
            await conn.execute(
                "DELETE FROM follows WHERE shop_id = ? AND user_id IN (SELECT id FROM users WHERE blocked_at IS NOT NULL)",
                (shop_id,))
        rows = await self._db.fetch_all(
            "SELECT u.id, u.language, u.language_code FROM follows f JOIN users u ON u.id = f.user_id"
            " WHERE f.shop_id = ? ORDER BY f.created_at, u.id", (shop_id,))
        return [Follower(r["id"], r["language"], r["language_code"]) for r in rows]

    @journaled_write
    async def send_alert(self, shop_id: int, session_id: int, messages: Sequence[Outgoing], per_day: int) -> int:
        """Queue one alert (its messages, BULK priority, rendered by the caller) unless this session
        was alerted already or the shop sent `per_day` alerts in the last 24 hours. Returns how many
        messages were queued; raises AlertRefused otherwise. One transaction: the cap holds against
        a double tap."""
        async with self._db.write() as conn:
            if await fetch_one_in(conn, "SELECT 1 FROM live_alerts WHERE session_id = ?", (session_id,)):
                raise AlertRefused("sent")
            count = (await row_in(conn, "SELECT count(*) FROM live_alerts WHERE shop_id = ? AND sent_at > ?",
                                  (shop_id, now() - DAY)))[0]
            if count >= per_day:
                raise AlertRefused("cap", per_day)
            await conn.execute("INSERT INTO live_alerts (shop_id, session_id, followers, sent_at) VALUES (?, ?, ?, ?)",
                               (shop_id, session_id, len(messages), now()))
            for message in messages:
                await self._outbox.enqueue(conn, message)
        return len(messages)
