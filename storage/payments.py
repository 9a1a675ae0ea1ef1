"""Payments: what a shop accepts, and each prepaid order's way from awaiting to paid (or expired).

Every change is one transaction with the messages it causes (outbox). A Telegram payment is
recorded under its telegram_payment_charge_id, which is unique: the same successful_payment
delivered twice marks the order paid once.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.orders import Status
from core.payments import Method, PaymentStatus, format_methods, parse_methods
from storage.db import fetch_one_in, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.orders import Messages, Order, Orders
from storage.outbox import Outbox, rendered
from storage.refunds import PAID_AFTER_CANCEL, add_refund_in

UNPAID = frozenset({PaymentStatus.AWAITING.value, PaymentStatus.CLAIMED.value})
APPROVAL_GRACE = 600.0  # seconds a card payment approved at pre-checkout has to complete
# When an unpaid order's time is up (o: orders, s: shops; :at, :grace). A claimed transfer gets the
# shop's payment time once more after the deadline (the shop is reminded at the deadline).
_OVERDUE = """o.status = 'placed' AND (
    (o.payment_status = 'awaiting' AND o.payment_deadline <= :at
        AND (o.payment_approved_at IS NULL OR o.payment_approved_at <= :at - :grace))
    OR (o.payment_status = 'claimed' AND o.payment_deadline + s.payment_timeout_minutes * 60.0 <= :at))"""


@dataclass(frozen=True)
class PaymentSettings:
    methods: list[Method]
    code_file_id: str | None
    timeout_minutes: int


class Payments:
    def __init__(self, db: Engine, orders: Orders, outbox: Outbox) -> None:
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
            if row is None:
                raise LookupError(f"no shop {shop_id}")
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
                      messages: Messages | None, *, only_method: Method | None = None, **extra: object) -> Order | None:
        """Set the payment state if it is one of `allowed_from` (and the order not cancelled, and
        paid by `only_method` if given)."""
        assignments = "".join(f", {column} = ?" for column in extra)
        method = " AND payment_method = ?" if only_method is not None else ""
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn,
                f"""UPDATE orders SET payment_status = ?, updated_at = ?{assignments}
                    WHERE id = ? AND payment_status IN ({','.join('?' * len(allowed_from))}) AND status != 'cancelled'
                    {method} RETURNING id""",
                (to.value, now(), *extra.values(), order_id, *allowed_from,
                 *([only_method.value] if only_method is not None else [])))
            if row is None:
                return None
            order = await self._orders._load(conn, order_id)  # noqa: SLF001 - same store, same transaction
            if messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        return order

    async def claim(self, order_id: int, messages: Messages | None = None) -> Order | None:
        """The buyer says they transferred the money: only for a transfer to the shop's receive
        code (a card payment is Telegram's to report, cash is paid on delivery)."""
        return await self._change(order_id, frozenset({PaymentStatus.AWAITING.value}), PaymentStatus.CLAIMED, messages,
                                  only_method=Method.CODE)

    @journaled_write
    async def approve(self, order_id: int) -> bool:
        """Telegram's pre-checkout for a card payment was approved: the money is on its way, so the
        clock leaves the order alone for APPROVAL_GRACE. False if the order can no longer be paid."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                "UPDATE orders SET payment_approved_at = ?, updated_at = ? WHERE id = ? AND payment_status = 'awaiting'"
                " AND status != 'cancelled'", (now(), now(), order_id))
            return cur.rowcount > 0

    async def confirm_received(self, order_id: int, messages: Messages | None = None,
                               received_by: int = 0) -> Order | None:
        """The merchant saw the money arrive. If the order was cancelled meanwhile (its time ran
        out), the money is recorded and a refund of it is due; its stock stays returned."""
        paid = await self._change(order_id, UNPAID, PaymentStatus.PAID, messages, paid_at=now())
        return paid if paid is not None else await self._late_transfer(order_id, messages, received_by)

    @journaled_write
    async def _late_transfer(self, order_id: int, messages: Messages | None, received_by: int) -> Order | None:
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn, "UPDATE orders SET payment_status = 'paid', paid_at = ?, updated_at = ? WHERE id = ?"
                      " AND status = 'cancelled' AND payment_method = 'code'"
                      " AND payment_status IN ('awaiting', 'claimed', 'expired') RETURNING id",
                (now(), now(), order_id))
            if row is None:
                return None
            order = await self._orders._load(conn, order_id)  # noqa: SLF001
            await add_refund_in(conn, order_id=order.id, shop_id=order.shop_id, amount=order.total,
                                currency=order.currency, reason=PAID_AFTER_CANCEL, created_by=received_by)
            if messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        return order

    async def not_received(self, order_id: int, messages: Messages | None = None) -> Order | None:
        """The merchant did not see it: back to awaiting (the deadline still holds)."""
        return await self._change(order_id, frozenset({PaymentStatus.CLAIMED.value}), PaymentStatus.AWAITING, messages)

    @journaled_write
    async def record_telegram_payment(self, order_id: int, charge_id: str, provider_charge_id: str | None,
                                      messages: Messages | None = None, *, amount: int | None = None,
                                      currency: str | None = None) -> tuple[Order | None, bool]:
        """Mark paid by a Telegram payment, once per charge id: (order, True) the first time,
        (order, False) for the same charge delivered again. Money that arrives for an order already
        cancelled is recorded too, with a refund due of what was charged (`amount`, `currency`);
        its stock was returned by the cancellation and stays returned."""
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
            if order.status == Status.CANCELLED:
                await add_refund_in(conn, order_id=order.id, shop_id=order.shop_id, amount=amount or order.total,
                                    currency=currency or order.currency, reason=PAID_AFTER_CANCEL,
                                    created_by=order.buyer_id)
            if messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        return order, True

    @journaled_write
    async def expire(self, order_id: int, messages: Messages | None = None, *, at: float | None = None) -> Order | None:
        """Cancel an order whose payment did not come in time (`overdue` at `at`); its stock
        returns. None if it was paid, approved, confirmed or cancelled in the meantime."""
        at = now() if at is None else at
        async with self._db.write() as conn:
            still = await fetch_one_in(conn, f"SELECT 1 FROM orders o JOIN shops s ON s.id = o.shop_id"
                                             f" WHERE o.id = :order AND {_OVERDUE}", {"order": order_id, "at": at,
                                                                                     "grace": APPROVAL_GRACE})
            if still is None:
                return None
            return await self._orders.transition_if_payment(
                order_id, Status.CANCELLED, 0, cancel_reason="payment_expired", messages=messages,
                payment_status=PaymentStatus.EXPIRED.value, only_if_payment=UNPAID)

    async def mark_reminded(self, order_id: int, messages: Messages | None = None) -> Order | None:
        return await self._change(order_id, frozenset({PaymentStatus.AWAITING.value}), PaymentStatus.AWAITING,
                                  messages, payment_reminded=1)

    async def mark_claim_reminded(self, order_id: int, messages: Messages | None = None) -> Order | None:
        return await self._change(order_id, frozenset({PaymentStatus.CLAIMED.value}), PaymentStatus.CLAIMED,
                                  messages, claim_reminded=1)

    async def overdue(self, at: float) -> list[int]:
        """Unpaid orders whose time is up: awaiting past the deadline (a card payment approved at
        pre-checkout gets APPROVAL_GRACE to complete), or claimed and not confirmed by the shop
        within its payment time again after the deadline."""
        rows = await self._db.fetch_all(
            f"SELECT o.id FROM orders o JOIN shops s ON s.id = o.shop_id WHERE {_OVERDUE}",
            {"at": at, "grace": APPROVAL_GRACE})
        return [r[0] for r in rows]

    async def due_claim_reminders(self, at: float) -> list[int]:
        """Claimed transfers past their deadline whose shop has not been reminded to check."""
        rows = await self._db.fetch_all(
            "SELECT id FROM orders WHERE payment_status = 'claimed' AND claim_reminded = 0 AND status = 'placed'"
            " AND payment_deadline <= ?", (at,))
        return [r[0] for r in rows]

    async def due_reminders(self, at: float) -> list[int]:
        """Unpaid orders past half their time that have not been reminded."""
        rows = await self._db.fetch_all(
            """SELECT o.id FROM orders o JOIN shops s ON s.id = o.shop_id
               WHERE o.payment_status = 'awaiting' AND o.payment_reminded = 0 AND o.status = 'placed'
                 AND o.payment_deadline - s.payment_timeout_minutes * 30.0 <= ? AND o.payment_deadline > ?""",
            (at, at))
        return [r[0] for r in rows]
