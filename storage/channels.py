"""The shop's channel and group: chats the bot administers, and the cards posted there."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write


@dataclass(frozen=True)
class ShopChat:
    chat_id: int
    title: str
    kind: str
    added_by: int
    shop_id: int | None
    removed: bool


@dataclass(frozen=True)
class ChatPost:
    chat_id: int
    message_id: int
    shop_id: int
    product_id: int | None  # None: the live board
    captioned: bool
    shown: str
    posted_at: float


_CHAT = "chat_id, title, kind, added_by, shop_id, removed_at IS NOT NULL"
_POST = "chat_id, message_id, shop_id, product_id, captioned, shown, posted_at"
KEEP_POSTS_SECONDS = 7 * 24 * 3600  # older posts are left as they are: a sale is over in a week


class ShopChats:
    def __init__(self, db: Engine) -> None:
        self._db = db

    @journaled_write
    async def added(self, chat_id: int, title: str, kind: str, by_user: int) -> None:
        """The bot became an administrator of a chat: remembered, waiting for its shop."""
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO shop_chats (chat_id, title, kind, added_by, created_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, kind = excluded.kind,
                       added_by = excluded.added_by, removed_at = NULL""",
                (chat_id, title, kind, by_user, now()))

    @journaled_write
    async def removed(self, chat_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE shop_chats SET removed_at = ? WHERE chat_id = ?", (now(), chat_id))

    @journaled_write
    async def connect(self, chat_id: int, shop_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE shop_chats SET shop_id = ?, connected_at = ? WHERE chat_id = ?",
                               (shop_id, now(), chat_id))

    @journaled_read
    async def get(self, chat_id: int) -> ShopChat | None:
        row = await self._db.lookup_one(f"SELECT {_CHAT} FROM shop_chats WHERE chat_id = ?", (chat_id,))
        return None if row is None else ShopChat(row[0], row[1], row[2], row[3], row[4], bool(row[5]))

    @journaled_read
    async def of_shop(self, shop_id: int) -> list[ShopChat]:
        """The shop's connected chats the bot is still in."""
        rows = await self._db.lookup_all(
            f"SELECT {_CHAT} FROM shop_chats WHERE shop_id = ? AND removed_at IS NULL ORDER BY chat_id", (shop_id,))
        return [ShopChat(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    # ---- posts

    @journaled_write
    async def posted(self, chat_id: int, message_id: int, shop_id: int, product_id: int | None, captioned: bool,
                     shown: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO chat_posts (chat_id, message_id, shop_id, product_id, captioned, shown, posted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE SET shop_id = excluded.shop_id,"
                " product_id = excluded.product_id, captioned = excluded.captioned, shown = excluded.shown,"
                " posted_at = excluded.posted_at, edited_at = NULL",
                (chat_id, message_id, shop_id, product_id, int(captioned), shown, now()))

    @journaled_read
    async def live_posts(self, since: float) -> list[ChatPost]:
        """Posts of the last week in chats the bot is still in: the ones kept up to date."""
        rows = await self._db.fetch_all(
            f"""SELECT {', '.join('p.' + c for c in _POST.split(', '))} FROM chat_posts p
                JOIN shop_chats c ON c.chat_id = p.chat_id
                WHERE p.posted_at >= ? AND c.removed_at IS NULL ORDER BY p.chat_id, p.message_id""", (since,))
        return [ChatPost(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]

    @journaled_write
    async def edited(self, chat_id: int, message_id: int, shown: str) -> None:
        async with self._db.write() as conn:
            await conn.execute("UPDATE chat_posts SET shown = ?, edited_at = ? WHERE chat_id = ? AND message_id = ?",
                               (shown, now(), chat_id, message_id))

    @journaled_write
    async def forget_post(self, chat_id: int, message_id: int) -> None:
        """A post deleted in the chat (its edit fails): no more tries."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM chat_posts WHERE chat_id = ? AND message_id = ?", (chat_id, message_id))
