"""Carts, orders and their history.

Placing an order is one transaction: every item's stock is taken with a conditional update
(`stock >= qty`), the order gets the shop's next number, the messages it causes go into the
outbox, and the checkout token makes a repeat (double tap, replayed update) return the first
order instead of making another. Nothing is half-done: any item short rolls it all back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from core.orders import Status, check_transition
from core.payments import Method, initial_status
from storage.db import Database, fetch_one_in, WriteTransaction, now
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing
from storage.products import Products
from storage.refunds import BUYER_CANCELLED, SHOP_CANCELLED, add_refund_in

_ORDER_COLUMNS = ("id, shop_id, number, buyer_id, status, currency, total, units, phone, recipient, address, "
                  "latitude, longitude, note, payment_method, slot, session_id, carrier, tracking_number, "
                  "cancel_reason, created_at, updated_at, payment_status, payment_deadline, paid_at")


@dataclass(frozen=True)
class OrderItem:
    product_id: int
    name: str
    unit_price: int
    quantity: int

    @property
    def subtotal(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Order:
    id: int
    shop_id: int
    number: int
    buyer_id: int
    status: str
    currency: str
    total: int
    units: int
    phone: str
    recipient: str
    address: str
    latitude: float | None
    longitude: float | None
    note: str | None
    payment_method: str
    slot: int | None
    session_id: int | None
    carrier: str | None
    tracking_number: str | None
    cancel_reason: str | None
    created_at: float
    updated_at: float
    payment_status: str = "cod"
    payment_deadline: float | None = None
    paid_at: float | None = None
    items: tuple[OrderItem, ...] = ()


@dataclass(frozen=True)
class Delivery:
    phone: str
    recipient: str
    address: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class CartLine:
    product_id: int
    quantity: int
    slot: int | None


# ---- why an order could not be placed (each has a clear message for the buyer)

class OrderProblem(Exception):
    pass


class SoldOut(OrderProblem):
    def __init__(self, product_id: int, name: str, left: int) -> None:
        super().__init__(f"{name}: only {left} left")
        self.product_id, self.name, self.left = product_id, name, left


class Unavailable(OrderProblem):
    def __init__(self, product_id: int, name: str) -> None:
        super().__init__(f"{name} is no longer for sale")
        self.product_id, self.name = product_id, name


class LimitReached(OrderProblem):
    def __init__(self, product_id: int, name: str, limit: int, already: int) -> None:
        super().__init__(f"{name}: limit {limit} per buyer, {already} ordered before")
        self.product_id, self.name, self.limit, self.already = product_id, name, limit, already


class TooManyOpenOrders(OrderProblem):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} open orders per shop")
        self.limit = limit


# Renders the messages an order change causes, stored with it in the outbox.
Messages = Callable[[Order], Awaitable[Sequence[Outgoing]]]


def _order(row: sqlite3.Row, items: Sequence[sqlite3.Row] = ()) -> Order:
    return Order(**{k: row[k] for k in row.keys()},
                 items=tuple(OrderItem(r["product_id"], r["name"], r["unit_price"], r["quantity"]) for r in items))


class Orders:
    def __init__(self, db: Database, products: Products, outbox: Outbox,
                 on_user_changed: Callable[[int], None] = lambda user_id: None) -> None:
        self._db = db
        self._products = products
        self._outbox = outbox
        self._on_user_changed = on_user_changed  # the users cache: placing saves delivery details

    @journaled_write
    async def place(self, *, token: str, shop_id: int, buyer_id: int, items: Sequence[tuple[int, int]],
                    delivery: Delivery, note: str | None, slot: int | None, session_id: int | None,
                    payment_method: str = "cod", payment_deadline: float | None = None, max_open_orders: int = 20,
                    messages: Messages | None = None, clear_cart: bool = False,
                    end_conversation: bool = False) -> tuple[Order, bool]:
        """Place the order, or return the one this token already placed (and False).

        `end_conversation` ends the buyer's checkout conversation in the same transaction."""
        if not items or any(q <= 0 for _, q in items):
            raise ValueError("an order needs items with positive quantities")
        async with self._db.write() as conn:
            existing = await fetch_one_in(conn, "SELECT id FROM orders WHERE checkout_token = ?", (token,))
            if existing is not None:
                return await self._load(conn, existing["id"]), False
            open_count = (await fetch_one_in(
                conn, "SELECT count(*) FROM orders WHERE buyer_id = ? AND shop_id = ? AND status IN ('placed', 'confirmed')",
                (buyer_id, shop_id)))[0]
            if open_count >= max_open_orders:
                raise TooManyOpenOrders(max_open_orders)
            lines = []
            for product_id, quantity in items:
                product = await fetch_one_in(
                    conn, "SELECT name, price, stock, per_buyer_limit, hidden, deleted_at, shop_id FROM products WHERE id = ?",
                    (product_id,))
                if product is None or product["shop_id"] != shop_id or product["hidden"] or product["deleted_at"]:
                    raise Unavailable(product_id, product["name"] if product else "?")
                if product["per_buyer_limit"]:
                    already = (await fetch_one_in(
                        conn, """SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
                                 WHERE o.buyer_id = ? AND i.product_id = ? AND o.status != 'cancelled'""",
                        (buyer_id, product_id)))[0]
                    if already + quantity > product["per_buyer_limit"]:
                        raise LimitReached(product_id, product["name"], product["per_buyer_limit"], already)
                # The conditional update is what makes overselling impossible.
                cur = await conn.execute(
                    "UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?",
                    (quantity, now(), product_id, quantity))
                if cur.rowcount == 0:
                    raise SoldOut(product_id, product["name"], product["stock"])
                lines.append((product_id, product["name"], product["price"], quantity))
            number_row = await fetch_one_in(
                conn, "UPDATE shops SET next_order_number = next_order_number + 1 WHERE id = ? "
                      "RETURNING next_order_number - 1, currency", (shop_id,))
            total = sum(price * qty for _, _, price, qty in lines)
            units = sum(qty for *_, qty in lines)
            t = now()
            row = await fetch_one_in(
                conn,
                """INSERT INTO orders (shop_id, number, buyer_id, status, currency, total, units, phone, recipient,
                        address, latitude, longitude, note, payment_method, slot, session_id, checkout_token,
                        created_at, updated_at, payment_status, payment_deadline)
                    VALUES (?, ?, ?, 'placed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (shop_id, number_row[0], buyer_id, number_row[1], total, units, delivery.phone, delivery.recipient,
                 delivery.address, delivery.latitude, delivery.longitude, note, payment_method, slot, session_id,
                 token, t, t, initial_status(Method(payment_method)).value, payment_deadline))
            order_id = row[0]
            await conn.executemany(
                "INSERT INTO order_items (order_id, product_id, name, unit_price, quantity) VALUES (?, ?, ?, ?, ?)",
                [(order_id, *line) for line in lines])
            await conn.execute(
                "INSERT INTO order_events (order_id, from_status, to_status, actor_id, at) VALUES (?, NULL, 'placed', ?, ?)",
                (order_id, buyer_id, t))
            await conn.execute(
                "UPDATE users SET phone = ?, recipient = ?, address = ?, updated_at = ? WHERE id = ?",
                (delivery.phone, delivery.recipient, delivery.address, t, buyer_id))
            if clear_cart:
                await conn.executemany("DELETE FROM cart_items WHERE buyer_id = ? AND shop_id = ? AND product_id = ?",
                                       [(buyer_id, shop_id, pid) for pid, _ in items])
            if end_conversation:
                await conn.execute("DELETE FROM flows WHERE user_id = ?", (buyer_id,))
            order = await self._load(conn, order_id)
            if messages is not None:
                for message in await messages(order):
                    await self._outbox.enqueue(conn, message)
        self._on_user_changed(buyer_id)
        return order, True

    async def _load(self, conn: WriteTransaction, order_id: int) -> Order:
        row = await fetch_one_in(conn, f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        async with conn.execute("SELECT product_id, name, unit_price, quantity FROM order_items WHERE order_id = ? "
                                "ORDER BY rowid", (order_id,)) as cur:
            items = await cur.fetchall()
        return _order(row, items)

    @journaled_read
    async def get(self, order_id: int) -> Order | None:
        row = await self._db.lookup_one(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        if row is None:
            return None
        items = await self._db.lookup_all(
            "SELECT product_id, name, unit_price, quantity FROM order_items WHERE order_id = ? ORDER BY rowid", (order_id,))
        return _order(row, items)

    @journaled_read
    async def units_bought(self, buyer_id: int, product_id: int) -> int:
        """Units of a product this buyer has ordered (not counting cancelled orders)."""
        return await self._db.fetch_value(
            """SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
               WHERE o.buyer_id = ? AND i.product_id = ? AND o.status != 'cancelled'""", (buyer_id, product_id))

    @journaled_read
    async def by_token(self, token: str) -> Order | None:
        order_id = await self._db.lookup_value("SELECT id FROM orders WHERE checkout_token = ?", (token,))
        return None if order_id is None else await self.get(order_id)

    async def of_buyer(self, buyer_id: int, limit: int = 10) -> list[Order]:
        rows = await self._db.fetch_all(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE buyer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (buyer_id, limit))
        return [await self.get(r["id"]) for r in rows]

    async def of_shop(self, shop_id: int, statuses: Sequence[str] | None, offset: int, limit: int) -> tuple[list[Order], int]:
        """A page of the shop's orders (newest first), optionally of some statuses, and the count."""
        where, params = "shop_id = ?", [shop_id]
        if statuses:
            where += f" AND status IN ({','.join('?' * len(statuses))})"
            params += list(statuses)
        rows = await self._db.fetch_all(
            f"SELECT id FROM orders WHERE {where} ORDER BY number DESC LIMIT ? OFFSET ?", (*params, limit, offset))
        total = await self._db.fetch_value(f"SELECT count(*) FROM orders WHERE {where}", params)
        return [await self.get(r[0]) for r in rows], total

    async def by_numbers(self, shop_id: int, first: int, last: int, limit: int = 50) -> list[Order]:
        rows = await self._db.fetch_all(
            "SELECT id FROM orders WHERE shop_id = ? AND number BETWEEN ? AND ? ORDER BY number LIMIT ?",
            (shop_id, first, last, limit))
        return [await self.get(r[0]) for r in rows]

    async def export_rows(self, shop_id: int, since: float | None, until: float | None) -> list[sqlite3.Row]:
        """One row per order with its items folded into one text, for the CSV export."""
        return await self._db.fetch_all(
            """SELECT o.number, o.created_at, u.first_name AS buyer, u.username, o.recipient, o.phone, o.address,
                      o.note, o.units, o.total, o.currency, o.status, o.payment_method, o.payment_status,
                      o.carrier, o.tracking_number,
                      (SELECT group_concat(i.name || ' x' || i.quantity, '; ') FROM order_items i
                       WHERE i.order_id = o.id) AS items,
                      (SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.id) AS refunded,
                      (SELECT count(*) FROM refunds r WHERE r.order_id = o.id AND r.settled_at IS NULL) AS refunds_open
               FROM orders o JOIN users u ON u.id = o.buyer_id
               WHERE o.shop_id = ? AND o.created_at >= ? AND o.created_at < ?
               ORDER BY o.number""",
            (shop_id, since if since is not None else 0.0, until if until is not None else 1e18))

    async def pack_list(self, shop_id: int, since: float, until: float | None) -> tuple[list[sqlite3.Row], list[sqlite3.Row]]:
        """Units to pack per product, and per buyer, for orders not cancelled in a time window."""
        window = "o.shop_id = ? AND o.status IN ('placed', 'confirmed') AND o.created_at >= ? AND o.created_at < ?"
        params = (shop_id, since, until if until is not None else 1e18)
        per_product = await self._db.fetch_all(
            f"""SELECT i.name, sum(i.quantity) AS units FROM order_items i JOIN orders o ON o.id = i.order_id
                WHERE {window} GROUP BY i.product_id ORDER BY units DESC, i.name""", params)
        per_buyer = await self._db.fetch_all(
            f"""SELECT o.number, o.recipient, o.phone, o.address, group_concat(i.name || ' x' || i.quantity, '; ') AS items
                FROM orders o JOIN order_items i ON i.order_id = o.id WHERE {window}
                GROUP BY o.id ORDER BY o.number""", params)
        return per_product, per_buyer

    @journaled_write
    async def transition(self, order_id: int, wanted: str, actor_id: int, *, note: str | None = None,
                         carrier: str | None = None, tracking_number: str | None = None,
                         cancel_reason: str | None = None, messages: Messages | None = None,
                         payment_status: str | None = None,
                         only_if_payment: frozenset[str] | None = None) -> Order | None:
        """Move an order along the state machine (IllegalTransition if not allowed), recording who
        and when; a cancellation returns the stock. Messages go out with the change, atomically.

        `only_if_payment`: do nothing (return None) unless the payment state is one of these
        (an expiry must not cancel an order paid a moment ago)."""
        async with self._db.write() as conn:
            row = await fetch_one_in(conn, "SELECT status, payment_status, buyer_id, shop_id, total, currency"
                                           " FROM orders WHERE id = ?", (order_id,))
            if row is None:
                raise LookupError(f"order {order_id} not found")
            if only_if_payment is not None and row["payment_status"] not in only_if_payment:
                return None
            current, target = check_transition(row["status"], wanted)
            t = now()
            await conn.execute(
                """UPDATE orders SET status = ?, updated_at = ?,
                       carrier = coalesce(?, carrier), tracking_number = coalesce(?, tracking_number),
                       cancel_reason = coalesce(?, cancel_reason), payment_status = coalesce(?, payment_status)
                   WHERE id = ?""",
                (target.value, t, carrier, tracking_number, cancel_reason, payment_status, order_id))
            await conn.execute(
                "INSERT INTO order_events (order_id, from_status, to_status, actor_id, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                (order_id, current.value, target.value, actor_id, note or cancel_reason, t))
            if target is Status.CANCELLED:
                async with conn.execute("SELECT product_id, quantity FROM order_items WHERE order_id = ?",
                                        (order_id,)) as cur:
                    for product_id, quantity in await cur.fetchall():
                        await self._products.add_stock_in(conn, product_id, quantity)
                if row["payment_status"] == "paid":  # money taken: a refund is due (a ledger row)
                    await add_refund_in(conn, order_id=order_id, shop_id=row["shop_id"], amount=row["total"],
                                        currency=row["currency"], created_by=actor_id,
                                        reason=BUYER_CANCELLED if actor_id == row["buyer_id"] else SHOP_CANCELLED)
            order = await self._load(conn, order_id)
            if messages is not None:
                for message in await messages(order):
                    await self._outbox.enqueue(conn, message)
        return order

    async def events(self, order_id: int) -> list[tuple[str | None, str, int, float]]:
        rows = await self._db.fetch_all(
            "SELECT from_status, to_status, actor_id, at FROM order_events WHERE order_id = ? ORDER BY id", (order_id,))
        return [tuple(r) for r in rows]



class Carts:
    """One cart per buyer per shop."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @journaled_write
    async def add(self, buyer_id: int, shop_id: int, product_id: int, quantity: int, slot: int | None,
                  at_most: int | None = None) -> int | None:
        """Add `quantity` (on top of what is there); returns the new quantity in the cart, or None
        (nothing added) when the cart would then hold more than `at_most`. Checked here, in the
        transaction, so a replayed tap is judged by what the first one found."""
        async with self._db.write() as conn:
            if at_most is not None:
                held = await fetch_one_in(
                    conn, "SELECT quantity FROM cart_items WHERE buyer_id = ? AND shop_id = ? AND product_id = ?",
                    (buyer_id, shop_id, product_id))
                if (held[0] if held else 0) + quantity > at_most:
                    return None
            row = await fetch_one_in(
                conn,
                """INSERT INTO cart_items (buyer_id, shop_id, product_id, quantity, slot, added_at) VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (buyer_id, shop_id, product_id) DO UPDATE SET quantity = quantity + excluded.quantity,
                       slot = coalesce(excluded.slot, slot)
                   RETURNING quantity""",
                (buyer_id, shop_id, product_id, quantity, slot, now()))
        return row[0]

    @journaled_write
    async def set_quantity(self, buyer_id: int, shop_id: int, product_id: int, quantity: int) -> None:
        async with self._db.write() as conn:
            if quantity <= 0:
                await conn.execute("DELETE FROM cart_items WHERE buyer_id = ? AND shop_id = ? AND product_id = ?",
                                   (buyer_id, shop_id, product_id))
            else:
                await conn.execute("UPDATE cart_items SET quantity = ? WHERE buyer_id = ? AND shop_id = ? AND product_id = ?",
                                   (quantity, buyer_id, shop_id, product_id))

    @journaled_read
    async def lines(self, buyer_id: int, shop_id: int) -> list[CartLine]:
        rows = await self._db.fetch_all(
            "SELECT product_id, quantity, slot FROM cart_items WHERE buyer_id = ? AND shop_id = ? ORDER BY added_at, product_id",
            (buyer_id, shop_id))
        return [CartLine(*r) for r in rows]

    async def shops(self, buyer_id: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT shop_id FROM cart_items WHERE buyer_id = ? GROUP BY shop_id ORDER BY max(added_at) DESC", (buyer_id,))
        return [r[0] for r in rows]
