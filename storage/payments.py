"""Payments: what a shop accepts, and each prepaid order's way from awaiting to paid (or expired).

Every change is one transaction with the messages it causes (outbox). A Telegram payment is
recorded under its telegram_payment_charge_id, which is unique: the same successful_payment
delivered twice marks the order paid once.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.orders import Status
from core.payments import Method, PaymentStatus, format_methods, parse_methods
from storage.db import Database, fetch_one_in, now
from storage.journal import journaled_read, journaled_write
from storage.orders import Messages, Order, Orders
from storage.outbox import Outbox

UNPAID = frozenset({PaymentStatus.AWAITING.value, PaymentStatus.CLAIMED.value})


@dataclass(frozen=True)
class PaymentSettings:
    methods: list[Method]
    code_file_id: str | None
    timeout_minutes: int


class Payments:
    def __init__(self, db: Database, orders: Orders, outbox: Outbox) -> None:
        self._db = db
        self._orders = orders
        self._outbox = outbox
        self._settings: dict[int, PaymentSettings] = {}  # read at every checkout; changed only here

    # ---- the shop's settings

    @journaled_read
    async def settings(self, shop_id: int) -> PaymentSettings:
        if shop_id not in self._settings:
            row = await self._db.lookup_one(
                "SELECT payment_methods, payment_code_file_id, payment_timeout_minutes FROM shops WHERE id = ?",
                (shop_id,))
            self._settings[shop_id] = PaymentSettings(parse_methods(row[0]), row[1], row[2])
        return self._settings[shop_id]

    @journaled_write
    async def _set(self, shop_id: int, column: str, value: object) -> None:
        async with self._db.write() as conn:
            await conn.execute(f"UPDATE shops SET {column} = ? WHERE id = ?", (value, shop_id))
        self._settings.pop(shop_id, None)

    async def set_methods(self, shop_id: int, methods: set[Method]) -> None:
        await self._set(shop_id, "payment_methods", format_methods(methods))

    async def set_code(self, shop_id: int, file_id: str | None) -> None:
        await self._set(shop_id, "payment_code_file_id", file_id)

    async def set_timeout(self, shop_id: int, minutes: int) -> None:
        await self._set(shop_id, "payment_timeout_minutes", minutes)

    # ---- an order's payment

    @journaled_write
    async def _change(self, order_id: int, allowed_from: frozenset[str], to: PaymentStatus,
                      messages: Messages | None, **extra: object) -> Order | None:
        """Set the payment state if it is one of `allowed_from` (and the order not cancelled)."""
        assignments = "".join(f", {column} = ?" for column in extra)
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn,
                f"""UPDATE orders SET payment_status = ?, updated_at = ?{assignments}
                    WHERE id = ? AND payment_status IN ({','.join('?' * len(allowed_from))}) AND status != 'cancelled'
                    RETURNING id""",
                (to.value, now(), *extra.values(), order_id, *allowed_from))
            if row is None:
                return None
            order = await self._orders._load(conn, order_id)  # noqa: SLF001 - same store, same transaction
            if messages is not None:
                for message in await messages(order):
                    await self._outbox.enqueue(conn, message)
        return order

    async def claim(self, order_id: int, messages: Messages | None = None) -> Order | None:
        """The buyer says they transferred the money."""
        return await self._change(order_id, frozenset({PaymentStatus.AWAITING.value}), PaymentStatus.CLAIMED, messages)

    async def confirm_received(self, order_id: int, messages: Messages | None = None) -> Order | None:
        """The merchant saw the money arrive."""
        return await self._change(order_id, UNPAID, PaymentStatus.PAID, messages, paid_at=now())

    async def not_received(self, order_id: int, messages: Messages | None = None) -> Order | None:
        """The merchant did not see it: back to awaiting (the deadline still holds)."""
        return await self._change(order_id, frozenset({PaymentStatus.CLAIMED.value}), PaymentStatus.AWAITING, messages)

    @journaled_write
    async def record_telegram_payment(self, order_id: int, charge_id: str, provider_charge_id: str | None,
                                      messages: Messages | None = None) -> tuple[Order | None, bool]:
        """Mark paid by a Telegram payment, once per charge id: (order, True) the first time,
        (order, False) for the same charge delivered again."""
        async with self._db.write() as conn:
            seen = await fetch_one_in(conn, "SELECT id FROM orders WHERE telegram_charge_id = ?", (charge_id,))
            if seen is not None:
                return await self._orders._load(conn, seen["id"]), False  # noqa: SLF001
            # Money was taken: record it even if the order expired in the seconds since pre-checkout.
            row = await fetch_one_in(
                conn,
                """UPDATE orders SET payment_status = 'paid', paid_at = ?, telegram_charge_id = ?,
                       provider_charge_id = ?, updated_at = ?
                   WHERE id = ? AND telegram_charge_id IS NULL RETURNING id""",
                (now(), charge_id, provider_charge_id, now(), order_id))
            if row is None:
                return None, False
            order = await self._orders._load(conn, order_id)  # noqa: SLF001
            if messages is not None:
                for message in await messages(order):
                    await self._outbox.enqueue(conn, message)
        return order, True

    @journaled_write
    async def expire(self, order_id: int, messages: Messages | None = None) -> Order | None:
        """Cancel an order whose payment did not come in time; its stock returns. None if it was
        paid (or claimed, or cancelled) in the meantime."""
        return await self._orders.transition(
            order_id, Status.CANCELLED, 0, cancel_reason="payment_expired", messages=messages,
            payment_status=PaymentStatus.EXPIRED.value, only_if_payment=frozenset({PaymentStatus.AWAITING.value}))

    async def mark_reminded(self, order_id: int, messages: Messages | None = None) -> Order | None:
        return await self._change(order_id, frozenset({PaymentStatus.AWAITING.value}), PaymentStatus.AWAITING,
                                  messages, payment_reminded=1)

    async def overdue(self, at: float) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT id FROM orders WHERE payment_status = 'awaiting' AND payment_deadline <= ? AND status = 'placed'",
            (at,))
        return [r[0] for r in rows]

    async def due_reminders(self, at: float) -> list[int]:
        """Unpaid orders past half their time that have not been reminded."""
        rows = await self._db.fetch_all(
            """SELECT o.id FROM orders o JOIN shops s ON s.id = o.shop_id
               WHERE o.payment_status = 'awaiting' AND o.payment_reminded = 0 AND o.status = 'placed'
                 AND o.payment_deadline - s.payment_timeout_minutes * 30.0 <= ? AND o.payment_deadline > ?""",
            (at, at))
        return [r[0] for r in rows]
