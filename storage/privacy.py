"""A buyer's right to be forgotten (/deletemydata): their phone, addresses, names and messages
erased; the shops keep their orders (number, items, amounts, dates) without the person.

The buyer's orders move to the anonymous user 0 with their contact fields emptied, every row of
the buyer's own (user, cart, holds, conversation, waits for a restock) is deleted, and so is every
stored message to them or naming them. The stored updates they sent are reduced to their ids
(storage/inbox.py) and their updates' journals deleted; the files' write-ahead logs are emptied
and SQLite's secure_delete zeroes what was freed (storage/db.py).

Refused while an order of theirs is still on its way (its shop needs the address until it
arrives) or while they help run a shop (its orders name them as the one who acted).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

from core.contact import display_phone, phone_region
from storage.db import fetch_one_in, now
from storage.engine import Engine
from storage.journal import journaled_write

ANONYMOUS = 0  # the user an erased buyer's orders belong to
OPEN_STATUSES = ("placed", "confirmed", "shipped")


class ErasureRefused(Exception):
    """Nothing was erased: `reason` says why ("open_orders" with their numbers, or "shop_member")."""

    def __init__(self, reason: str, numbers: Sequence[int] = ()) -> None:
        super().__init__(reason)
        self.reason, self.numbers = reason, tuple(numbers)


@dataclass(frozen=True)
class Erased:
    orders: int  # orders kept for the shops' books, without the person
    messages: int  # stored messages to or about them deleted


def phone_forms(phone: str, currency: str) -> set[str]:
    """A stored number as it may stand in a message: E.164, without its +, as shown to the shop,
    and as typed at home (its national digits)."""
    forms = {phone, phone.lstrip("+"), display_phone(phone, phone_region(currency))}
    try:
        forms.add(str(phonenumbers.parse(phone, None).national_number))
    except phonenumbers.NumberParseException:
        pass
    return {f for f in forms if len(f) >= 5}


class Privacy:
    def __init__(self, db: Engine) -> None:
        self._db = db

    async def refusal(self, user_id: int) -> ErasureRefused | None:
        """Why the buyer's data cannot be erased now, or None."""
        rows = await self._db.fetch_all(
            f"SELECT number FROM orders WHERE buyer_id = ? AND status IN ({','.join('?' * len(OPEN_STATUSES))})"
            " ORDER BY number", (user_id, *OPEN_STATUSES))
        if rows:
            return ErasureRefused("open_orders", [r[0] for r in rows])
        if await self._db.fetch_value("SELECT 1 FROM shop_members WHERE user_id = ?", (user_id,)):
            return ErasureRefused("shop_member")
        return None

    async def identifying_texts(self, user_id: int) -> list[str]:
        """The texts that identify the buyer (for scrubbing copies elsewhere: other people's stored
        updates carry the messages they tapped, an order card among them), read before erasing."""
        async with self._db.write() as conn:  # a read of several tables at one moment
            needles = await self._what_names_them(conn, user_id)
        return sorted(needles)

    @journaled_write
    async def erase_buyer(self, user_id: int) -> Erased:
        """Erase the buyer in one transaction (ErasureRefused, nothing changed, when it may not)."""
        async with self._db.write() as conn:
            numbers = [r[0] for r in await (await conn.execute(
                f"SELECT number FROM orders WHERE buyer_id = ? AND status IN ({','.join('?' * len(OPEN_STATUSES))})"
                " ORDER BY number", (user_id, *OPEN_STATUSES))).fetchall()]
            if numbers:
                raise ErasureRefused("open_orders", numbers)
            if await fetch_one_in(conn, "SELECT 1 FROM shop_members WHERE user_id = ?", (user_id,)):
                raise ErasureRefused("shop_member")
            needles = await self._what_names_them(conn, user_id)
            t = now()
            await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (?, '', ?, ?)"
                               " ON CONFLICT DO NOTHING",
                               (ANONYMOUS, t, t))
            await conn.execute(  # corrections recorded their delivery details before and after
                "UPDATE order_changes SET before = '', after = '' WHERE order_id IN"
                " (SELECT id FROM orders WHERE buyer_id = ?)", (user_id,))
            # A damage claim keeps its line, units and amounts (the refund ledger needs them), not
            # the buyer's photos and words.
            await conn.execute("UPDATE claims SET photos = '[]', note = NULL WHERE buyer_id = ?", (user_id,))
            await conn.execute("DELETE FROM order_messages WHERE order_id IN (SELECT id FROM orders WHERE buyer_id = ?)",
                               (user_id,))
            await conn.execute("UPDATE correction_requests SET value = '' WHERE order_id IN"
                               " (SELECT id FROM orders WHERE buyer_id = ?)", (user_id,))
            orders = (await conn.execute(
                """UPDATE orders SET buyer_id = ?, phone = '', recipient = '', address = '', latitude = NULL,
                       longitude = NULL, note = NULL WHERE buyer_id = ?""", (ANONYMOUS, user_id))).rowcount
            await conn.execute("UPDATE order_events SET actor_id = ? WHERE actor_id = ?", (ANONYMOUS, user_id))
            await conn.execute("UPDATE staff_invites SET used_by = ? WHERE used_by = ?", (ANONYMOUS, user_id))
            await conn.execute("UPDATE link_opens SET user_id = ? WHERE user_id = ?", (ANONYMOUS, user_id))
            for table, column in (("cart_items", "buyer_id"), ("holds", "buyer_id"), ("flows", "user_id"),
                                  ("restock_waiters", "user_id"), ("follows", "user_id"), ("deal_takes", "buyer_id")):
                await conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (user_id,))
            messages = (await conn.execute("DELETE FROM outbox WHERE chat_id = ?", (user_id,))).rowcount
            for needle in needles:  # notices to the shops that named them (sent: Telegram holds the chat)
                messages += (await conn.execute(
                    "DELETE FROM outbox WHERE (sent_at IS NOT NULL OR failed_at IS NOT NULL) AND instr(params, ?) > 0",
                    (needle,))).rowcount
            await conn.execute("DELETE FROM users WHERE id = ?", (user_id,))
        return Erased(orders, messages)

    async def _what_names_them(self, conn, user_id: int) -> set[str]:
        """The texts that identify the buyer in a stored message: phones (as stored, as shown and
        as typed nationally), recipients and addresses: of their orders, of their saved delivery
        details, and the values corrections of their orders replaced or set."""
        rows = await (await conn.execute(
            """SELECT o.phone, o.recipient, o.address, s.currency FROM orders o JOIN shops s ON s.id = o.shop_id
               WHERE o.buyer_id = ?
               UNION ALL SELECT phone, recipient, address, NULL FROM users WHERE id = ?""",
            (user_id, user_id))).fetchall()
        changes = await (await conn.execute(
            """SELECT c.field, c.before, c.after, s.currency FROM order_changes c JOIN orders o ON o.id = c.order_id
               JOIN shops s ON s.id = o.shop_id WHERE o.buyer_id = ?
               UNION ALL SELECT r.field, r.value, r.value, s.currency FROM correction_requests r
               JOIN orders o ON o.id = r.order_id JOIN shops s ON s.id = o.shop_id WHERE o.buyer_id = ?""",
            (user_id, user_id))).fetchall()
        values: list[tuple[str | None, tuple[str | None, ...], str | None]] = [
            (phone, (recipient, address), currency) for phone, recipient, address, currency in rows]
        for field, before, after, currency in changes:
            values += [(v, (), currency) if field == "phone" else (None, (v,), currency) for v in (before, after)]
        needles: set[str] = set()
        for phone, texts, currency in values:
            if phone:
                needles.update(phone_forms(phone, currency or "CNY"))
            for text in texts:
                if text and len(text) >= 4:  # a short name alone would match unrelated messages
                    needles.update({text, html.escape(text, quote=False)})  # as typed, and as shown
        return needles

    @journaled_write
    async def forget_journals(self, update_ids: Sequence[int]) -> int:
        """Delete the journals of the buyer's updates (they hold what the store answered, their
        phone among it); the update doing the erasing last, so only this call's row remains."""
        if not update_ids:
            return 0
        async with self._db.write() as conn:
            marks = ",".join("?" * len(update_ids))
            return (await conn.execute(f"DELETE FROM update_steps WHERE update_id IN ({marks})",
                                       tuple(update_ids))).rowcount
