"""Carts, orders and their history.

Placing an order is one transaction: every item's stock is taken with a conditional update
(`stock >= qty`), the order gets the shop's next number, the messages it causes go into the
outbox, and the checkout token makes a repeat (double tap, replayed update) return the first
order instead of making another. Nothing is half-done: any item short rolls it all back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.orders import Status, steps_to
from core.payments import Method, initial_status
from core.contact import phone_region
from core.regions import find
from core.shipping import Parcel, Rules, quote
from storage.db import fetch_one_in, row_in, WriteTransaction, now
from storage.engine import Engine
from storage.deals import give_back_deal_units_in
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing, rendered
from storage.products import Products
from storage.refunds import BUYER_CANCELLED, SHOP_CANCELLED, add_refund_in

_ORDER_COLUMNS = ("id, shop_id, number, buyer_id, status, currency, total, units, phone, recipient, address, "
                  "latitude, longitude, note, payment_method, slot, session_id, carrier, tracking_number, "
                  "cancel_reason, created_at, updated_at, payment_status, payment_deadline, paid_at, "
                  "shipping_fee, region, parcel_of, weight_grams, ships_from, ships_until, "
                  "(SELECT p.number FROM orders p WHERE p.id = orders.parcel_of) AS parcel_number")


@dataclass(frozen=True)
class OrderItem:
    product_id: int
    name: str  # with the variant's name when it has one ("秭归脐橙 · 5斤")
    unit_price: int
    quantity: int
    variant_id: int | None = None
    variant_name: str | None = None

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
    shipping_fee: int = 0  # part of total
    region: str | None = None  # where the parcel goes (core/regions.py), when known
    parcel_of: int | None = None  # the first order of the parcel this one is packed with
    weight_grams: int = 0
    ships_from: str | None = None  # a pre-sale order's ship date (ISO), and the range's last day
    ships_until: str | None = None
    parcel_number: int | None = None  # that order's number
    items: tuple[OrderItem, ...] = ()

    @property
    def goods(self) -> int:
        """What the items cost, without shipping."""
        return self.total - self.shipping_fee


@dataclass(frozen=True)
class PackList:
    per_product: list[sqlite3.Row]  # name, units
    per_buyer: list[sqlite3.Row]    # number, recipient, phone, address, latitude, longitude, parcel, items
    awaiting_payment: int           # orders waiting to ship that still wait for their money


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
    variant_id: int | None = None


# An item to hold or order: (product, quantity) or (product, quantity, variant or None).
Item = tuple[int, int] | tuple[int, int, int | None]


def item_parts(item: Item) -> tuple[int, int, int | None]:
    """(product, quantity, variant) of an item, variant None for a product without variants."""
    return (item[0], item[1], item[2] if len(item) > 2 else None)


def line_name(product_name: str, variant_name: str | None) -> str:
    """How an order line names what was bought: the product, and its variant when it has one."""
    return f"{product_name} · {variant_name}" if variant_name else product_name


@dataclass(frozen=True)
class Sellable:
    """What an item is, read inside the transaction that takes its units."""
    product_id: int
    variant_id: int | None
    name: str  # line_name(...)
    variant_name: str | None
    price: int
    stock: int
    per_buyer_limit: int | None  # the product's: all its variants together
    variant_limit: int | None  # the variant's own, when set
    weight_grams: int = 0  # a variant's weight, for a fee per kg
    ships_from: str | None = None  # on pre-sale: the variant's date, else the product's
    ships_until: str | None = None


async def sellable_in(conn: WriteTransaction, shop_id: int, product_id: int, variant_id: int | None) -> Sellable:
    """The item as it is now; Unavailable when it cannot be bought (gone, hidden, another shop,
    a variant missing, or no variant named for a product that has variants)."""
    product = await fetch_one_in(
        conn, "SELECT name, price, stock, per_buyer_limit, hidden, deleted_at, shop_id, variant_count, ships_from, "
              "ships_until, presale_closed_at FROM products WHERE id = ?", (product_id,))
    if product is None or product["shop_id"] != shop_id or product["hidden"] or product["deleted_at"] \
            or product["presale_closed_at"]:
        raise Unavailable(product_id, product["name"] if product else "?")
    if await fetch_one_in(conn, "SELECT 1 FROM suspended_shops WHERE shop_id = ?", (shop_id,)):
        raise ShopSuspended(shop_id)
    if variant_id is None:
        if product["variant_count"]:
            raise Unavailable(product_id, product["name"])
        return Sellable(product_id, None, product["name"], None, product["price"], product["stock"],
                        product["per_buyer_limit"], None, 0, product["ships_from"], product["ships_until"])
    variant = await fetch_one_in(
        conn, "SELECT name, price, stock, per_buyer_limit, hidden, deleted_at, weight_grams, ships_from, ships_until "
              "FROM variants "
              "WHERE id = ? AND product_id = ?", (variant_id, product_id))
    name = line_name(product["name"], variant["name"] if variant else "?")
    if variant is None or variant["hidden"] or variant["deleted_at"]:
        raise Unavailable(product_id, name)
    return Sellable(product_id, variant_id, name, variant["name"], variant["price"], variant["stock"],
                    product["per_buyer_limit"], variant["per_buyer_limit"], variant["weight_grams"] or 0,
                    *((variant["ships_from"], variant["ships_until"]) if variant["ships_from"]
                      else (product["ships_from"], product["ships_until"])))


async def check_limits_in(conn: WriteTransaction, buyer_id: int, item: Sellable, quantity: int,
                          *, allow_fewer: bool = False) -> int:
    """The quantity this buyer may still get of the item (the product's limit counts all its
    variants; a variant's own limit counts that variant); LimitReached when it is less than
    `quantity` (or nothing at all, with `allow_fewer`)."""
    for limit, variant_only in ((item.per_buyer_limit, False), (item.variant_limit, True)):
        if not limit:
            continue
        sql = """SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
                 WHERE o.buyer_id = ? AND i.product_id = ? AND o.status != 'cancelled'"""
        params: tuple = (buyer_id, item.product_id)
        if variant_only:
            sql, params = sql + " AND i.variant_id = ?", params + (item.variant_id,)
        already = (await row_in(conn, sql, params))[0]
        room = limit - already
        if room < 1 or (quantity > room and not allow_fewer):
            raise LimitReached(item.product_id, item.name, limit, already)
        quantity = min(quantity, room)
    return quantity


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


CORRECTABLE = ("recipient", "phone", "address")
_REQUEST_COLUMNS = "id, order_id, field, value, status"


@dataclass(frozen=True)
class CorrectionRequest:
    """A buyer's request to correct a delivery detail of their order, waiting for the shop."""

    id: int
    order_id: int
    field: str
    value: str
    status: str  # pending, applied, declined


class _Undo(Exception):
    """Roll the transaction back: the decision could not be carried out."""


@dataclass(frozen=True)
class OrderChange:
    """One correction of an order's delivery details: which, before, after, by whom, when."""

    field: str
    before: str
    after: str
    by_user: int
    at: float


class ShopSuspended(OrderProblem):
    """The operator suspended the shop: it takes no orders for now."""

    def __init__(self, shop_id: int) -> None:
        super().__init__(f"shop {shop_id} is suspended")
        self.shop_id = shop_id


class LimitReached(OrderProblem):
    def __init__(self, product_id: int, name: str, limit: int, already: int) -> None:
        super().__init__(f"{name}: limit {limit} per buyer, {already} ordered before")
        self.product_id, self.name, self.limit, self.already = product_id, name, limit, already


class NotServed(OrderProblem):
    """The shop does not ship to the address's region."""

    def __init__(self, region: str | None) -> None:
        super().__init__(f"not served: {region}")
        self.region = region


class TooManyOpenOrders(OrderProblem):
    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit} open orders per shop")
        self.limit = limit


class TooManyUnpaidUnits(OrderProblem):
    """Cash on delivery: the buyer already holds `already` units in open orders of the shop."""

    def __init__(self, limit: int, already: int) -> None:
        super().__init__(f"at most {limit} unpaid cash-on-delivery units per shop, {already} held")
        self.limit, self.already = limit, already


# Renders the messages an order change causes, stored with it in the outbox.
Messages = Callable[[Order], Sequence[Outgoing]]  # pure: see storage.outbox.rendered


# One parcel per buyer: the first open order of this buyer at this shop to the same address
# (placed or confirmed: not shipped yet), and what the parcel it starts holds so far.
# A pre-sale order ships when its harvest is in: a parcel of its own, unless of the same date.
_PARCEL_MATE = ("SELECT id, number FROM orders WHERE buyer_id = ? AND shop_id = ? AND address = ? "
                "AND coalesce(ships_from, '') = ? "
                "AND status IN ('placed', 'confirmed') AND parcel_of IS NULL ORDER BY id LIMIT 1")
_PARCEL_SO_FAR = ("SELECT coalesce(sum(total - shipping_fee), 0), coalesce(sum(units), 0), "
                  "coalesce(sum(weight_grams), 0), coalesce(sum(shipping_fee), 0) FROM orders "
                  "WHERE (id = ? OR parcel_of = ?) AND status IN ('placed', 'confirmed')")


def _order(row: sqlite3.Row, items: Sequence[sqlite3.Row] = ()) -> Order:
    return Order(**{k: row[k] for k in row.keys()},
                 items=tuple(OrderItem(r["product_id"], r["name"], r["unit_price"], r["quantity"], r["variant_id"],
                                       r["variant_name"]) for r in items))


class Orders:
    def __init__(self, db: Engine, products: Products, outbox: Outbox,
                 on_user_changed: Callable[[int], None] = lambda user_id: None) -> None:
        self._db = db
        self._products = products
        self._outbox = outbox
        self._on_user_changed = on_user_changed  # the users cache: placing saves delivery details
        # Units one buyer may hold in open cash-on-delivery orders per shop (limits.
        # open_cod_units_per_buyer_per_shop, set at start-up); None: no cap.
        self.max_open_cod_units: int | None = None

    @journaled_write
    async def place(self, *, token: str, shop_id: int, buyer_id: int, items: Sequence[Item],
                    delivery: Delivery, note: str | None, slot: int | None, session_id: int | None,
                    payment_method: str = "cod", payment_deadline: float | None = None, max_open_orders: int = 20,
                    messages: Messages | None = None, clear_cart: bool = False,
                    end_conversation: bool = False, shipping: Rules | None = None,
                    region: str | None = None, priced_as: str | None = None, hold_token: str | None = None,
                    release_rest: bool = True) -> tuple[Order, bool]:
        """Place the order, or return the one this token already placed (and False).

        `shipping`: the shop's rules, read before; the fee is worked out here, from the prices the
        order is placed at and the buyer's earlier parcel (core/shipping.py), and NotServed raised
        for a region the rules refuse; `region` is stored with the order (None when the address
        did not settle it), `priced_as` the region whose rule prices it (by default `region`).
        `end_conversation` ends the buyer's checkout conversation in the same transaction.
        A checkout placed as several orders (one per pre-sale ship date) gives each its own `token`
        and the checkout's `hold_token`; all but the last keep the checkout's other held units
        (`release_rest` False)."""
        held_by = hold_token or token
        if not items or any(item_parts(i)[1] <= 0 for i in items):
            raise ValueError("an order needs items with positive quantities")
        async with self._db.write() as conn:
            # The buyer's open orders, COD units and per-buyer limits are read, then written: the
            # buyer's row lock makes two placements for one buyer (two workers, the Mini App and
            # the chat) take turns on PostgreSQL. The products' locks (in id order: no deadlock)
            # keep the stock read here the stock the conditional UPDATE then finds, so a buyer
            # told "only 6 left" was told the truth; the order number is one conditional UPDATE.
            await conn.lock("users", buyer_id)
            for product_id in sorted({item_parts(i)[0] for i in items}):
                await conn.lock("products", product_id)
            existing = await fetch_one_in(conn, "SELECT id FROM orders WHERE checkout_token = ?", (token,))
            if existing is not None:
                return await self._load(conn, existing["id"]), False
            open_count = (await row_in(
                conn, "SELECT count(*) FROM orders WHERE buyer_id = ? AND shop_id = ? AND status IN ('placed', 'confirmed')",
                (buyer_id, shop_id)))[0]
            if open_count >= max_open_orders:
                raise TooManyOpenOrders(max_open_orders)
            if payment_method == Method.COD and self.max_open_cod_units is not None:
                held = (await row_in(
                    conn, "SELECT coalesce(sum(units), 0) FROM orders WHERE buyer_id = ? AND shop_id = ? "
                          "AND status IN ('placed', 'confirmed') AND payment_method = 'cod'", (buyer_id, shop_id)))[0]
                if held + sum(item_parts(i)[1] for i in items) > self.max_open_cod_units:
                    raise TooManyUnpaidUnits(self.max_open_cod_units, held)
            lines = []
            grams = 0
            ships: tuple[str | None, str | None] | None = None  # the items' ship date (one per order)
            for product_id, quantity, variant_id in map(item_parts, items):
                item = await sellable_in(conn, shop_id, product_id, variant_id)
                await check_limits_in(conn, buyer_id, item, quantity)
                # Units this checkout holds (storage/holds.py) are already taken from stock.
                hold = await fetch_one_in(
                    conn, "DELETE FROM holds WHERE buyer_id = ? AND product_id = ? AND coalesce(variant_id, 0) = ? "
                          "AND token = ? RETURNING quantity, deal_id, unit_price",
                    (buyer_id, product_id, variant_id or 0, held_by))
                missing = quantity - (hold[0] if hold else 0)
                # A hold taken during a flash deal keeps the deal's price (storage/deals.py) for the
                # units it holds; units it held beyond the order go back to the deal.
                price = item.price
                if hold is not None and hold[1] is not None:
                    if missing <= 0:
                        price = hold[2]
                        await give_back_deal_units_in(conn, hold[1], buyer_id, -missing)
                    else:  # more than was held at the deal price: the line is at the regular price
                        await give_back_deal_units_in(conn, hold[1], buyer_id, hold[0])
                if missing > 0:
                    # The conditional update is what makes overselling impossible.
                    if not await self._products.take_stock_in(conn, product_id, variant_id, missing):
                        raise SoldOut(product_id, item.name, item.stock + quantity - missing)
                elif missing < 0:
                    await self._products.add_stock_in(conn, product_id, -missing, variant_id)
                lines.append((product_id, variant_id, item.name, item.variant_name, price, quantity))
                grams += item.weight_grams * quantity
                if not ships:
                    ships = (item.ships_from, item.ships_until)
            if release_rest:
                async with conn.execute("DELETE FROM holds WHERE token = ? "
                                        "RETURNING product_id, quantity, variant_id, deal_id", (held_by,)) as cur:
                    for product_id, quantity, variant_id, deal_id in await cur.fetchall():  # held, then left out
                        await self._products.add_stock_in(conn, product_id, quantity, variant_id)
                        await give_back_deal_units_in(conn, deal_id, buyer_id, quantity)
            number_row = await row_in(
                conn, "UPDATE shops SET next_order_number = next_order_number + 1 WHERE id = ? "
                      "RETURNING next_order_number - 1, currency", (shop_id,))
            goods = sum(price * qty for *_, price, qty in lines)
            units = sum(qty for *_, qty in lines)
            fee, parcel_of = 0, None
            if shipping is not None and shipping.configured:
                fee, parcel_of = await self._shipping_fee_in(conn, shipping, priced_as or region, buyer_id, shop_id,
                                                             delivery.address, Parcel(goods, units, grams),
                                                             ships[0] if ships else None)
            t = now()
            row = await row_in(
                conn,
                """INSERT INTO orders (shop_id, number, buyer_id, status, currency, total, units, phone, recipient,
                        address, latitude, longitude, note, payment_method, slot, session_id, checkout_token,
                        created_at, updated_at, payment_status, payment_deadline, shipping_fee, region, parcel_of,
                        weight_grams, ships_from, ships_until)
                    VALUES (?, ?, ?, 'placed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    RETURNING id""",
                (shop_id, number_row[0], buyer_id, number_row[1], goods + fee, units, delivery.phone,
                 delivery.recipient, delivery.address, delivery.latitude, delivery.longitude, note, payment_method,
                 slot, session_id, token, t, t, initial_status(Method(payment_method)).value, payment_deadline,
                 fee, region, parcel_of, grams, *(ships or (None, None))))
            order_id = row[0]
            await conn.executemany(
                "INSERT INTO order_items (order_id, product_id, variant_id, name, variant_name, unit_price, quantity)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(order_id, *line) for line in lines])
            await conn.execute(
                "INSERT INTO order_events (order_id, from_status, to_status, actor_id, at) VALUES (?, NULL, 'placed', ?, ?)",
                (order_id, buyer_id, t))
            await conn.execute(
                "UPDATE users SET phone = ?, recipient = ?, address = ?, region = ?, updated_at = ? WHERE id = ?",
                (delivery.phone, delivery.recipient, delivery.address, region, t, buyer_id))
            if clear_cart:
                await conn.executemany(
                    "DELETE FROM cart_items WHERE buyer_id = ? AND shop_id = ? AND product_id = ? "
                    "AND coalesce(variant_id, 0) = ?",
                    [(buyer_id, shop_id, pid, vid or 0) for pid, _, vid in map(item_parts, items)])
            if end_conversation:
                await conn.execute("DELETE FROM flows WHERE user_id = ?", (buyer_id,))
            order = await self._load(conn, order_id)
            if messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        self._on_user_changed(buyer_id)
        return order, True

    async def _shipping_fee_in(self, conn: WriteTransaction, rules: Rules, region: str | None, buyer_id: int,
                               shop_id: int, address: str, parcel: Parcel,
                               ships_from: str | None) -> tuple[int, int | None]:
        """(fee, the parcel it joins) for a new order: as part of the buyer's parcel to the same
        address that has not shipped yet and ships at the same time, if there is one, else alone."""
        mate = await fetch_one_in(conn, _PARCEL_MATE, (buyer_id, shop_id, address, ships_from or ""))
        if mate is None:
            q = quote(rules, region, parcel)
        else:
            earlier = await row_in(conn, _PARCEL_SO_FAR, (mate[0], mate[0]))
            q = quote(rules, region, parcel, earlier=Parcel(earlier[0], earlier[1], earlier[2]),
                      earlier_fee=earlier[3])
        if not q.served:
            raise NotServed(region)
        return q.fee, (mate[0] if mate is not None else None)

    @journaled_read
    async def parcel_so_far(self, buyer_id: int, shop_id: int, address: str,
                            ships_from: str | None = None) -> tuple[int, Parcel, int] | None:
        """The buyer's open parcel to this address shipping then: (its first order's number, what
        is in it, the fee it paid), for the confirmation to show the fee an order joining it pays."""
        mate = await self._db.lookup_one(_PARCEL_MATE, (buyer_id, shop_id, address, ships_from or ""))
        if mate is None:
            return None
        earlier = await self._db.lookup_one(_PARCEL_SO_FAR, (mate[0], mate[0]))
        assert earlier is not None
        return mate[1], Parcel(earlier[0], earlier[1], earlier[2]), earlier[3]

    async def _load(self, conn: WriteTransaction, order_id: int) -> Order:
        row = await row_in(conn, f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        async with conn.execute("SELECT product_id, name, unit_price, quantity, variant_id, variant_name "
                                "FROM order_items WHERE order_id = ? "
                                "ORDER BY rowid", (order_id,)) as cur:
            items = await cur.fetchall()
        return _order(row, items)

    async def require(self, order_id: int) -> Order:
        """An order a stored row names (a payment's, a claim's): orders are never deleted, so it
        exists; LookupError when not (a bug, not a user's doing)."""
        order = await self.get(order_id)
        if order is None:
            raise LookupError(f"order {order_id} does not exist")
        return order

    @journaled_read
    async def get(self, order_id: int) -> Order | None:
        row = await self._db.lookup_one(f"SELECT {_ORDER_COLUMNS} FROM orders WHERE id = ?", (order_id,))
        if row is None:
            return None
        items = await self._db.lookup_all(
            "SELECT product_id, name, unit_price, quantity, variant_id, variant_name FROM order_items "
            "WHERE order_id = ? ORDER BY rowid", (order_id,))
        return _order(row, items)

    @journaled_read
    async def units_bought(self, buyer_id: int, product_id: int, variant_id: int | None = None) -> int:
        """Units of a product (of one of its variants, when given) this buyer has ordered (not
        counting cancelled orders)."""
        if variant_id is not None:
            return await self._db.fetch_value(
                """SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
                   WHERE o.buyer_id = ? AND i.product_id = ? AND i.variant_id = ? AND o.status != 'cancelled'""",
                (buyer_id, product_id, variant_id))
        return await self._db.fetch_value(
            """SELECT coalesce(sum(i.quantity), 0) FROM order_items i JOIN orders o ON o.id = i.order_id
               WHERE o.buyer_id = ? AND i.product_id = ? AND o.status != 'cancelled'""", (buyer_id, product_id))

    @journaled_read
    async def recent_units(self, shop_id: int, since: float) -> dict[int, int]:
        """Units of each product the shop sold since `since` (the live bag's "bought in the last
        minutes"), cancelled orders left out."""
        rows = await self._db.fetch_all(
            "SELECT i.product_id, sum(i.quantity) FROM orders o JOIN order_items i ON i.order_id = o.id "
            "WHERE o.shop_id = ? AND o.created_at >= ? AND o.status != 'cancelled' GROUP BY i.product_id",
            (shop_id, since))
        return {row[0]: row[1] for row in rows}

    @journaled_read
    async def by_token(self, token: str) -> Order | None:
        order_id = await self._db.lookup_value("SELECT id FROM orders WHERE checkout_token = ?", (token,))
        return None if order_id is None else await self.get(order_id)

    async def of_buyer(self, buyer_id: int, limit: int = 10) -> list[Order]:
        rows = await self._db.fetch_all(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE buyer_id = ? ORDER BY created_at DESC, id DESC LIMIT ?",
            (buyer_id, limit))
        return [order for r in rows if (order := await self.get(r["id"])) is not None]

    async def of_shop(self, shop_id: int, statuses: Sequence[str] | None, offset: int, limit: int,
                      ship_by: str | None = None) -> tuple[list[Order], int]:
        """A page of the shop's orders (newest first), optionally of some statuses, and the count.
        `ship_by` (ISO date): only those in stock or whose pre-sale ships by then."""
        where, params = "shop_id = ?", [shop_id, *(statuses or ())]
        if statuses:
            where += f" AND status IN ({','.join('?' * len(statuses))})"
        if ship_by is not None:
            where, params = where + " AND (ships_from IS NULL OR ships_from <= ?)", [*params, ship_by]
        rows = await self._db.fetch_all(
            f"SELECT id FROM orders WHERE {where} ORDER BY number DESC LIMIT ? OFFSET ?", (*params, limit, offset))
        total = await self._db.fetch_value(f"SELECT count(*) FROM orders WHERE {where}", params)
        return [order for r in rows if (order := await self.get(r[0])) is not None], total

    @journaled_read
    async def buyers_of_session(self, session_id: int) -> list[int]:
        """Who ordered (and did not cancel) during a live session."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT buyer_id FROM orders WHERE session_id = ? AND status != 'cancelled' ORDER BY buyer_id",
            (session_id,))
        return [r[0] for r in rows]

    @journaled_read
    async def buyers_waiting(self, shop_id: int) -> list[int]:
        """Who has an order of the shop waiting to ship (placed or confirmed)."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT buyer_id FROM orders WHERE shop_id = ? AND status IN ('placed', 'confirmed')"
            " ORDER BY buyer_id", (shop_id,))
        return [r[0] for r in rows]

    async def by_numbers(self, shop_id: int, first: int, last: int, limit: int = 50) -> list[Order]:
        rows = await self._db.fetch_all(
            "SELECT id FROM orders WHERE shop_id = ? AND number BETWEEN ? AND ? ORDER BY number LIMIT ?",
            (shop_id, first, last, limit))
        return [order for r in rows if (order := await self.get(r[0])) is not None]

    async def by_number_list(self, shop_id: int, numbers: Sequence[int]) -> dict[int, Order]:
        """The shop's orders with these numbers, by number (bulk shipping: a waybill file)."""
        found: dict[int, Order] = {}
        wanted = sorted(set(numbers))
        for start in range(0, len(wanted), 500):  # SQLite's bound-parameter limit
            chunk = wanted[start:start + 500]
            rows = await self._db.fetch_all(
                f"SELECT id FROM orders WHERE shop_id = ? AND number IN ({','.join('?' * len(chunk))})",
                (shop_id, *chunk))
            for row in rows:
                order = await self.get(row[0])
                if order is not None:
                    found[order.number] = order
        return found

    async def export_rows(self, shop_id: int, since: float | None, until: float | None,
                          *, waiting_to_ship: bool = False) -> list[sqlite3.Row]:
        """One row per order with its items folded into one text, for the CSV export.
        `waiting_to_ship`: only orders not yet shipped or cancelled (what staff need to pack)."""
        waiting = " AND o.status IN ('placed', 'confirmed')" if waiting_to_ship else ""
        return await self._db.fetch_all(
            f"""SELECT o.number, o.created_at, u.first_name AS buyer, u.username, o.recipient, o.phone, o.address,
                      o.latitude, o.longitude, o.note, o.units, o.total, o.currency, o.status, o.payment_method,
                      o.payment_status, o.carrier, o.tracking_number,
                      (SELECT group_concat(i.name || ' x' || i.quantity, '; ') FROM order_items i
                       WHERE i.order_id = o.id) AS items,
                      (SELECT sum(r.amount) FROM refunds r WHERE r.order_id = o.id) AS refunded,
                      (SELECT count(*) FROM refunds r WHERE r.order_id = o.id AND r.settled_at IS NULL) AS refunds_open,
                      (SELECT group_concat(i.variant_name || ' x' || i.quantity, '; ') FROM order_items i
                       WHERE i.order_id = o.id AND i.variant_name IS NOT NULL) AS variants,
                      o.shipping_fee, o.region, (SELECT p.number FROM orders p WHERE p.id = o.parcel_of) AS parcel_number
               FROM orders o JOIN users u ON u.id = o.buyer_id
               WHERE o.shop_id = ? AND o.created_at >= ? AND o.created_at < ?{waiting}
               ORDER BY o.number""",
            (shop_id, since if since is not None else 0.0, until if until is not None else 1e18))

    async def pack_list(self, shop_id: int, since: float | None = None, until: float | None = None,
                        ship_by: str | None = None) -> PackList:
        """What is left to pack: units per product and the orders per buyer, for every order
        waiting to ship whose money is settled (cash on delivery, or paid), optionally only those
        placed in a time window (a live session) or due to ship by a day (`ship_by`, ISO: in
        stock, or a pre-sale shipping by then); and how many more wait for their payment."""
        window = ("o.shop_id = ? AND o.status IN ('placed', 'confirmed') AND o.created_at >= ? "
                  "AND o.created_at < ? AND (o.ships_from IS NULL OR o.ships_from <= ?)")
        params = (shop_id, since if since is not None else 0.0, until if until is not None else 1e18,
                  ship_by or "9999-12-31")
        ready = window + " AND o.payment_status IN ('cod', 'paid')"
        per_product = await self._db.fetch_all(
            f"""SELECT max(i.name) AS name, sum(i.quantity) AS units FROM order_items i JOIN orders o ON o.id = i.order_id
                WHERE {ready} GROUP BY i.product_id, i.variant_id ORDER BY units DESC, name""", params)
        per_buyer = await self._db.fetch_all(
            f"""SELECT o.number, o.recipient, o.phone, o.address, o.latitude, o.longitude,
                       coalesce(o.parcel_of, o.id) AS parcel,
                       group_concat(i.name || ' x' || i.quantity, '; ') AS items
                FROM orders o JOIN order_items i ON i.order_id = o.id WHERE {ready}
                GROUP BY o.id ORDER BY o.number""", params)
        unpaid = await self._db.fetch_value(
            f"SELECT count(*) FROM orders o WHERE {window} AND o.payment_status NOT IN ('cod', 'paid')", params)
        return PackList(per_product, per_buyer, unpaid)

    async def ready_to_pack(self, shop_id: int, ship_by: str | None = None, limit: int = 500) -> list[Order]:
        """The orders waiting to ship whose money is settled (cash on delivery, or paid), oldest
        first, as the pack list has them (`ship_by`: in stock or shipping by that ISO day)."""
        rows = await self._db.fetch_all(
            "SELECT id FROM orders WHERE shop_id = ? AND status IN ('placed', 'confirmed') "
            "AND payment_status IN ('cod', 'paid') AND (ships_from IS NULL OR ships_from <= ?) "
            "ORDER BY number LIMIT ?", (shop_id, ship_by or "9999-12-31", limit))
        return [order for r in rows if (order := await self.get(r[0])) is not None]

    @journaled_write
    async def transition(self, order_id: int, wanted: str, actor_id: int, *, note: str | None = None,
                         carrier: str | None = None, tracking_number: str | None = None,
                         cancel_reason: str | None = None, messages: Messages | None = None,
                         payment_status: str | None = None) -> Order:
        """Move an order along the state machine (IllegalTransition if not allowed), recording who
        and when; a cancellation returns the stock. Messages go out with the change, atomically."""
        changed = await self._transition(order_id, wanted, actor_id, note=note, carrier=carrier,
                                         tracking_number=tracking_number, cancel_reason=cancel_reason,
                                         messages=messages, payment_status=payment_status, only_if_payment=None)
        if changed is None:
            raise LookupError(f"order {order_id} did not change")  # only only_if_payment skips a change
        return changed

    @journaled_write
    async def transition_if_payment(self, order_id: int, wanted: str, actor_id: int, *,
                                    only_if_payment: frozenset[str], messages: Messages | None = None,
                                    cancel_reason: str | None = None, payment_status: str | None = None
                                    ) -> Order | None:
        """As transition, but nothing happens (None) unless the payment state is one of
        `only_if_payment`: an expiry must not cancel an order paid a moment ago."""
        return await self._transition(order_id, wanted, actor_id, note=None, carrier=None, tracking_number=None,
                                      cancel_reason=cancel_reason, messages=messages, payment_status=payment_status,
                                      only_if_payment=only_if_payment)

    async def _transition(self, order_id: int, wanted: str, actor_id: int, *, note: str | None,
                          carrier: str | None, tracking_number: str | None, cancel_reason: str | None,
                          messages: Messages | None, payment_status: str | None,
                          only_if_payment: frozenset[str] | None) -> Order | None:
        async with self._db.write() as conn:
            row = await fetch_one_in(conn, "SELECT status, payment_status, buyer_id, shop_id, total, currency"
                                           " FROM orders WHERE id = ?", (order_id,))
            if row is None:
                raise LookupError(f"order {order_id} not found")
            if only_if_payment is not None and row["payment_status"] not in only_if_payment:
                return None
            steps = steps_to(row["status"], wanted, row["payment_status"])
            target = steps[-1][1]
            t = now()
            await conn.execute(
                """UPDATE orders SET status = ?, updated_at = ?,
                       carrier = coalesce(?, carrier), tracking_number = coalesce(?, tracking_number),
                       cancel_reason = coalesce(?, cancel_reason), payment_status = coalesce(?, payment_status)
                   WHERE id = ?""",
                (target.value, t, carrier, tracking_number, cancel_reason, payment_status, order_id))
            await conn.executemany(
                "INSERT INTO order_events (order_id, from_status, to_status, actor_id, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                [(order_id, current.value, step.value, actor_id, note or cancel_reason, t) for current, step in steps])
            if target is Status.CANCELLED:
                async with conn.execute("SELECT product_id, quantity, variant_id FROM order_items WHERE order_id = ?",
                                        (order_id,)) as cur:
                    for product_id, quantity, variant_id in await cur.fetchall():
                        await self._products.add_stock_in(conn, product_id, quantity, variant_id)
                if row["payment_status"] == "paid":  # money taken: a refund is due (a ledger row)
                    await add_refund_in(conn, order_id=order_id, shop_id=row["shop_id"], amount=row["total"],
                                        currency=row["currency"], created_by=actor_id,
                                        reason=BUYER_CANCELLED if actor_id == row["buyer_id"] else SHOP_CANCELLED)
            order = await self._load(conn, order_id)
            if messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        return order

    @journaled_write
    async def correct(self, order_id: int, field: str, value: str, by_user: int, *,
                      messages: Messages | None = None) -> Order | None:
        """Correct the recipient, phone or address of an order not yet shipped, recorded with who
        and when (order_changes); the messages (the buyer told, the cards) go with it. None when
        the order has shipped or ended meanwhile, or the value is the same."""
        async with self._db.write() as conn:
            order = await self._correct_in(conn, order_id, field, value, by_user)
            if order is not None and messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        return order

    async def _correct_in(self, conn: WriteTransaction, order_id: int, field: str, value: str,
                          by_user: int) -> Order | None:
        assert field in CORRECTABLE
        row = await fetch_one_in(conn, f"SELECT {field} FROM orders WHERE id = ? AND status IN ('placed', 'confirmed')",
                                 (order_id,))
        if row is None or row[0] == value:
            return None
        t = now()
        await conn.execute(f"UPDATE orders SET {field} = ?, updated_at = ? WHERE id = ?", (value, t, order_id))
        if field == "address":  # the region follows the address (the label only: the fee charged stays)
            currency = (await row_in(conn, "SELECT currency FROM orders WHERE id = ?", (order_id,)))[0]
            await conn.execute("UPDATE orders SET region = ? WHERE id = ? AND region IS NOT NULL",
                               (find(value, phone_region(currency)).region, order_id))
        await conn.execute("INSERT INTO order_changes (order_id, field, before, after, by_user, at)"
                           " VALUES (?, ?, ?, ?, ?, ?)", (order_id, field, row[0], value, by_user, t))
        return await self._load(conn, order_id)

    @journaled_write
    async def request_correction(self, order_id: int, field: str, value: str, *,
                                 messages: Callable[[CorrectionRequest], Sequence[Outgoing]] | None = None
                                 ) -> CorrectionRequest | None:
        """The buyer asks for a correction (the shop is asked, with `messages`); None when the
        order has shipped or ended."""
        assert field in CORRECTABLE
        async with self._db.write() as conn:
            if not await fetch_one_in(conn, "SELECT 1 FROM orders WHERE id = ? AND status IN ('placed', 'confirmed')",
                                      (order_id,)):
                return None
            row = await row_in(
                conn, f"INSERT INTO correction_requests (order_id, field, value, created_at) VALUES (?, ?, ?, ?)"
                      f" RETURNING {_REQUEST_COLUMNS}", (order_id, field, value, now()))
            request = CorrectionRequest(*row)
            if messages is not None:
                for message in rendered(messages(request)):
                    await self._outbox.enqueue(conn, message)
        return request

    @journaled_read
    async def correction_request(self, request_id: int) -> CorrectionRequest | None:
        row = await self._db.lookup_one(f"SELECT {_REQUEST_COLUMNS} FROM correction_requests WHERE id = ?",
                                        (request_id,))
        return None if row is None else CorrectionRequest(*row)

    @journaled_write
    async def decide_correction(self, request_id: int, apply: bool, by_user: int, *,
                                messages: Messages | None = None) -> Order | None:
        """Apply or decline a pending request, once: the order as it is after; None when the
        request was decided already or (applying) the order shipped meanwhile, nothing changed."""
        try:
            return await self._decide_in_one(request_id, apply, by_user, messages)
        except _Undo:
            return None

    async def _decide_in_one(self, request_id: int, apply: bool, by_user: int, messages: Messages | None) -> Order:
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn, "UPDATE correction_requests SET status = ?, decided_by = ?, decided_at = ?"
                      " WHERE id = ? AND status = 'pending' RETURNING order_id, field, value",
                ("applied" if apply else "declined", by_user, now(), request_id))
            if row is None:
                raise _Undo()
            if apply:
                order = await self._correct_in(conn, row[0], row[1], row[2], by_user)
                if order is None:  # shipped meanwhile, or nothing to change: the request stays pending
                    raise _Undo()
            else:
                order = await self._load(conn, row[0])
            if messages is not None:
                for message in rendered(messages(order)):
                    await self._outbox.enqueue(conn, message)
        return order

    @journaled_read
    async def changes(self, order_id: int) -> list[OrderChange]:
        rows = await self._db.fetch_all(
            "SELECT field, before, after, by_user, at FROM order_changes WHERE order_id = ? ORDER BY id", (order_id,))
        return [OrderChange(*r) for r in rows]

    async def remember_card(self, order_id: int, chat_id: int, message_id: int) -> None:
        """A message in a member's chat now shows this order's card."""
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO order_cards (chat_id, message_id, order_id, shown_at) VALUES (?, ?, ?, ?)
                   ON CONFLICT (chat_id, message_id) DO UPDATE SET order_id = excluded.order_id,
                       shown_at = excluded.shown_at""", (chat_id, message_id, order_id, now()))

    async def forget_card(self, chat_id: int, message_id: int) -> None:
        """That message shows something else now (the card became a list again)."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM order_cards WHERE chat_id = ? AND message_id = ?", (chat_id, message_id))

    async def prune_cards(self, older_than: float) -> int:
        """Forget the card copies of orders that ended (delivered or cancelled) before `older_than`:
        nothing will change them any more, and the table would otherwise grow with every order."""
        async with self._db.write() as conn:
            cur = await conn.execute(
                """DELETE FROM order_cards WHERE order_id IN (
                       SELECT id FROM orders WHERE status IN ('delivered', 'cancelled') AND updated_at < ?)""",
                (older_than,))
            return cur.rowcount

    async def cards(self, order_id: int) -> list[tuple[int, int]]:
        """(chat id, message id) of every message showing the order's card (a lookup by key,
        gathered before the change that edits them: handlers/notices.Reach)."""
        rows = await self._db.lookup_all(
            "SELECT chat_id, message_id FROM order_cards WHERE order_id = ? ORDER BY shown_at", (order_id,))
        return [(r[0], r[1]) for r in rows]

    async def events(self, order_id: int) -> list[tuple[str | None, str, int, float]]:
        rows = await self._db.fetch_all(
            "SELECT from_status, to_status, actor_id, at FROM order_events WHERE order_id = ? ORDER BY id", (order_id,))
        return [tuple(r) for r in rows]



class Carts:
    """One cart per buyer per shop."""

    def __init__(self, db: Engine) -> None:
        self._db = db

    @journaled_write
    async def add(self, buyer_id: int, shop_id: int, product_id: int, quantity: int, slot: int | None,
                  variant_id: int | None = None, at_most: int | None = None) -> int | None:
        """Add `quantity` (on top of what is there); returns the new quantity in the cart, or None
        (nothing added) when the cart would then hold more than `at_most`. Checked here, in the
        transaction, so a replayed tap is judged by what the first one found."""
        async with self._db.write() as conn:
            if at_most is not None:
                held = await fetch_one_in(
                    conn, "SELECT quantity FROM cart_items WHERE buyer_id = ? AND shop_id = ? AND product_id = ?"
                          " AND coalesce(variant_id, 0) = ?", (buyer_id, shop_id, product_id, variant_id or 0))
                if (held[0] if held else 0) + quantity > at_most:
                    return None
            row = await row_in(
                conn,
                """INSERT INTO cart_items (buyer_id, shop_id, product_id, variant_id, quantity, slot, added_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (buyer_id, shop_id, product_id, coalesce(variant_id, 0))
                   DO UPDATE SET quantity = cart_items.quantity + excluded.quantity, slot = coalesce(excluded.slot, cart_items.slot)
                   RETURNING quantity""",
                (buyer_id, shop_id, product_id, variant_id, quantity, slot, now()))
        return row[0]

    @journaled_write
    async def set_quantity(self, buyer_id: int, shop_id: int, product_id: int, quantity: int,
                           variant_id: int | None = None) -> None:
        line = "buyer_id = ? AND shop_id = ? AND product_id = ? AND coalesce(variant_id, 0) = ?"
        key = (buyer_id, shop_id, product_id, variant_id or 0)
        async with self._db.write() as conn:
            if quantity <= 0:
                await conn.execute(f"DELETE FROM cart_items WHERE {line}", key)
            else:
                await conn.execute(f"UPDATE cart_items SET quantity = ? WHERE {line}", (quantity, *key))

    @journaled_read
    async def lines(self, buyer_id: int, shop_id: int) -> list[CartLine]:
        rows = await self._db.fetch_all(
            "SELECT product_id, quantity, slot, variant_id FROM cart_items WHERE buyer_id = ? AND shop_id = ? "
            "ORDER BY added_at, product_id, variant_id",
            (buyer_id, shop_id))
        return [CartLine(*r) for r in rows]

    async def shops(self, buyer_id: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT shop_id FROM cart_items WHERE buyer_id = ? GROUP BY shop_id ORDER BY max(added_at) DESC", (buyer_id,))
        return [r[0] for r in rows]
