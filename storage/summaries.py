"""Summary settings, the figures a summary shows, and the record of summaries made per day.

Every figure is one SQL aggregate over an index range: orders by (shop_id, created_at) or
(shop_id, status, created_at), all shops' orders by (created_at), link opens by
(shop_id, opened_at), live sessions by (shop_id, started_at). Cancelled orders count only as
cancelled: never as orders, revenue, units or buyers.

A summary run is claimed with an INSERT on a unique (scope, target, local date) key, in the
same transaction that hands its messages to the outbox, so no restart can make a second one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.summary import DEFAULT_LOW_STOCK, DEFAULT_SEND_AT, Figures
from storage.db import fetch_one_in, row_in, WriteTransaction, now
from storage.engine import Engine
from storage.journal import journaled_write
from storage.live import LiveSession

SHOP = "shop"
OPERATOR = "operator"
_SOLD = "status != 'cancelled'"
_PENDING_STATUSES = ("placed", "confirmed")


@dataclass(frozen=True)
class SummarySettings:
    shop_id: int
    enabled: bool = True
    send_at: int = DEFAULT_SEND_AT  # minutes after local midnight
    low_stock: int = DEFAULT_LOW_STOCK


@dataclass(frozen=True)
class ProductFigures:
    product_id: int
    name: str
    units: int
    revenue: int
    # For a product sold in variants: (variant name, units) of each, most sold first.
    variants: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class DayFigures:
    orders: int
    revenue: int


@dataclass(frozen=True)
class Opens:
    opens: int
    visitors: int


@dataclass(frozen=True)
class PendingShipments:
    count: int
    oldest_at: float | None
    unpaid: int = 0  # prepaid orders among them still waiting for their money
    unpaid_total: int = 0


@dataclass(frozen=True)
class StockFigures:
    on_sale: int
    low: tuple[tuple[str, int], ...]  # (name, stock), lowest first, at most `limit`
    low_count: int


@dataclass(frozen=True)
class SummaryRun:
    id: int
    scope: str
    target: int
    local_date: str
    chat_id: int
    photo: dict[str, Any] | None  # sendPhoto parameters but the photo itself
    follow_up: tuple[dict[str, Any], ...]  # sendMessage parameters, sent after the chart
    chart: bytes | None
    attempts: int


@dataclass(frozen=True)
class CurrencyFigures:
    currency: str
    orders: int
    revenue: int
    units: int


@dataclass(frozen=True)
class PlatformFigures:
    shops: int  # that existed by the end of the period
    new_shops: int
    active_shops: int  # with at least one order
    by_currency: tuple[CurrencyFigures, ...]
    busiest: tuple["BusyShop", ...] = ()  # by orders, then revenue

    @property
    def orders(self) -> int:
        return sum(c.orders for c in self.by_currency)

    def revenue(self, currency: str) -> int:
        return sum(c.revenue for c in self.by_currency if c.currency == currency)


@dataclass(frozen=True)
class BusyShop:
    shop_id: int
    name: str
    currency: str
    orders: int
    revenue: int


@dataclass(frozen=True)
class BusyLink:
    shop_id: int
    shop_name: str
    slot: int
    currency: str
    orders: int
    revenue: int
    opens: int
    product_name: str | None


def _run(row: sqlite3.Row) -> SummaryRun:
    return SummaryRun(row["id"], row["scope"], row["target"], row["local_date"], row["chat_id"],
                      json.loads(row["photo"]) if row["photo"] else None, tuple(json.loads(row["follow_up"] or "[]")),
                      row["chart"], row["attempts"])


class Summaries:
    def __init__(self, db: Engine) -> None:
        self._db = db

    # ---- settings

    async def settings(self, shop_id: int) -> SummarySettings:
        row = await self._db.fetch_one(
            "SELECT enabled, send_at, low_stock FROM summary_settings WHERE shop_id = ?", (shop_id,))
        if row is None:
            return SummarySettings(shop_id)
        return SummarySettings(shop_id, bool(row["enabled"]), row["send_at"], row["low_stock"])

    @journaled_write
    async def _set(self, shop_id: int, column: str, value: int) -> SummarySettings:
        assert column in ("enabled", "send_at", "low_stock")
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO summary_settings (shop_id, enabled, send_at, low_stock, updated_at)
                    VALUES (:shop, 1, :send_at, :low_stock, :t)
                    ON CONFLICT (shop_id) DO NOTHING""",
                {"shop": shop_id, "send_at": DEFAULT_SEND_AT, "low_stock": DEFAULT_LOW_STOCK, "t": now()})
            row = await row_in(
                conn, f"UPDATE summary_settings SET {column} = ?, updated_at = ? WHERE shop_id = ? "
                      "RETURNING enabled, send_at, low_stock", (value, now(), shop_id))
        return SummarySettings(shop_id, bool(row["enabled"]), row["send_at"], row["low_stock"])

    async def set_enabled(self, shop_id: int, enabled: bool) -> SummarySettings:
        return await self._set(shop_id, "enabled", int(enabled))

    async def set_send_at(self, shop_id: int, minutes: int) -> SummarySettings:
        if not 0 <= minutes < 24 * 60:
            raise ValueError(f"send_at {minutes} out of 0..1439")
        return await self._set(shop_id, "send_at", minutes)

    async def set_low_stock(self, shop_id: int, threshold: int) -> SummarySettings:
        if threshold < 0:
            raise ValueError("the low-stock threshold cannot be negative")
        return await self._set(shop_id, "low_stock", threshold)

    # ---- one shop's figures

    async def figures(self, shop_id: int, start: float, end: float, *, buyers: bool = True) -> Figures:
        """Orders, revenue, units, cancellations and (optionally) new and returning buyers."""
        row = await self._db.fetch_row(
            f"""SELECT count(*) FILTER (WHERE {_SOLD}), coalesce(sum(CASE WHEN {_SOLD} THEN total END), 0),
                       coalesce(sum(CASE WHEN {_SOLD} THEN units END), 0), count(*) FILTER (WHERE status = 'cancelled'),
                       coalesce(sum(CASE WHEN {_SOLD} THEN shipping_fee END), 0)
                FROM orders WHERE shop_id = ? AND created_at >= ? AND created_at < ?""",
            (shop_id, start, end))
        orders, revenue, units, cancelled, shipping = row
        if not buyers or not orders:
            return Figures(orders, revenue, units, cancelled, shipping=shipping)
        # A buyer is new when this is their first order in the shop (cancelled ones don't count).
        row = await self._db.fetch_row(
            f"""SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (
                       SELECT 1 FROM orders p WHERE p.buyer_id = b.buyer_id AND p.created_at < :start
                       AND p.shop_id = :shop AND p.{_SOLD}))
                FROM (SELECT DISTINCT buyer_id FROM orders
                      WHERE shop_id = :shop AND created_at >= :start AND created_at < :end AND {_SOLD}) b""",
            {"shop": shop_id, "start": start, "end": end})
        return Figures(orders, revenue, units, cancelled, row[0], row[1], shipping)

    async def top_products(self, shop_id: int, start: float, end: float, limit: int = 5) -> list[ProductFigures]:
        """The best sellers of a period by revenue (then units), named as they are now."""
        rows = await self._db.fetch_all(
            f"""SELECT i.product_id, coalesce(p.name, max(i.name)), sum(i.quantity) AS units,
                       sum(i.quantity * i.unit_price) AS revenue
                FROM orders o JOIN order_items i ON i.order_id = o.id LEFT JOIN products p ON p.id = i.product_id
                WHERE o.shop_id = ? AND o.created_at >= ? AND o.created_at < ? AND o.{_SOLD}
                GROUP BY i.product_id, p.id ORDER BY revenue DESC, units DESC, i.product_id LIMIT ?""",
            (shop_id, start, end, limit))
        top = [ProductFigures(*r) for r in rows]
        if not top:
            return top
        # The same products by variant, in one more aggregate (nothing for products without them).
        marks = ",".join("?" * len(top))
        split = await self._db.fetch_all(
            f"""SELECT i.product_id, max(i.variant_name) AS variant, sum(i.quantity) AS units
                FROM orders o JOIN order_items i ON i.order_id = o.id
                WHERE o.shop_id = ? AND o.created_at >= ? AND o.created_at < ? AND o.{_SOLD}
                      AND i.variant_id IS NOT NULL AND i.product_id IN ({marks})
                GROUP BY i.product_id, i.variant_id ORDER BY units DESC, variant""",
            (shop_id, start, end, *(p.product_id for p in top)))
        by_product: dict[int, list[tuple[str, int]]] = {}
        for product_id, name, units in split:
            by_product.setdefault(product_id, []).append((name, units))
        return [replace(p, variants=tuple(by_product.get(p.product_id, ()))) for p in top]

    async def daily(self, shop_id: int, days: Sequence[tuple[float, float]]) -> list[DayFigures]:
        """Orders and revenue for each [start, end) given (local days), in order."""
        if not days:
            return []
        # Typed: PostgreSQL would read bare parameters in VALUES as text.
        values = ", ".join("(CAST(? AS INTEGER), CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION))" for _ in days)
        params: list[object] = []
        for i, (start, end) in enumerate(days):
            params += [i, start, end]
        rows = await self._db.fetch_all(
            f"""WITH d(i, s, e) AS (VALUES {values})
                SELECT d.i, count(o.id), coalesce(sum(o.total), 0) FROM d
                LEFT JOIN orders o ON o.shop_id = ? AND o.created_at >= d.s AND o.created_at < d.e AND o.{_SOLD}
                GROUP BY d.i ORDER BY d.i""",
            (*params, shop_id))
        return [DayFigures(r[1], r[2]) for r in rows]

    async def opens(self, shop_id: int, start: float, end: float) -> Opens:
        row = await self._db.fetch_row(
            """SELECT count(*), count(DISTINCT user_id) FROM link_opens
               WHERE shop_id = ? AND opened_at >= ? AND opened_at < ?""",
            (shop_id, start, end))
        return Opens(row[0], row[1])

    async def sessions(self, shop_id: int, start: float, end: float, limit: int = 5) -> list[LiveSession]:
        """Live sessions that ran during [start, end), oldest first."""
        rows = await self._db.fetch_all(
            """SELECT id, shop_id, title, started_at, ended_at FROM live_sessions
               WHERE shop_id = ? AND started_at < ? AND (ended_at IS NULL OR ended_at >= ?)
               ORDER BY started_at LIMIT ?""",
            (shop_id, end, start, limit))
        return [LiveSession(*r) for r in rows]

    async def pending_shipments(self, shop_id: int) -> PendingShipments:
        """Orders placed or confirmed but not shipped, and when the oldest was placed."""
        row = await self._db.fetch_row(
            """SELECT count(*), min(created_at),
                      count(*) FILTER (WHERE payment_status IN ('awaiting', 'claimed')),
                      coalesce(sum(CASE WHEN payment_status IN ('awaiting', 'claimed') THEN total END), 0)
               FROM orders WHERE shop_id = ? AND status IN (?, ?)""",
            (shop_id, *_PENDING_STATUSES))
        return PendingShipments(row[0], row[1], row[2], row[3])

    async def stock(self, shop_id: int, threshold: int, limit: int = 8) -> StockFigures:
        """Products on sale, and those with `threshold` or fewer left (sold out first)."""
        row = await self._db.fetch_row(
            """SELECT count(*), count(*) FILTER (WHERE stock <= ?) FROM products
               WHERE shop_id = ? AND deleted_at IS NULL AND hidden = 0""", (threshold, shop_id))
        low = await self._db.fetch_all(
            """SELECT name, stock FROM products WHERE shop_id = ? AND deleted_at IS NULL AND hidden = 0 AND stock <= ?
               ORDER BY stock, name LIMIT ?""", (shop_id, threshold, limit))
        return StockFigures(row[0], tuple((r[0], r[1]) for r in low), row[1])

    # ---- all shops (the operator)

    async def platform(self, start: float, end: float, busiest: int = 5) -> PlatformFigures:
        """All shops' orders of a period in one pass over the (created_at) index: totals per
        currency, how many shops sold, and the `busiest` shops."""
        rows = await self._db.fetch_all(
            f"""SELECT shop_id, currency, count(*), sum(total), sum(units) FROM orders
                WHERE created_at >= ? AND created_at < ? AND {_SOLD} GROUP BY shop_id, currency""",
            (start, end))
        totals: dict[str, list[int]] = {}
        for _, currency, orders, revenue, units in rows:
            total = totals.setdefault(currency, [0, 0, 0])
            total[0] += orders
            total[1] += revenue
            total[2] += units
        by_currency = sorted((CurrencyFigures(c, *v) for c, v in totals.items()), key=lambda c: (-c.orders, c.currency))
        top = sorted(rows, key=lambda r: (-r[2], -r[3], r[0]))[:busiest]
        names = {}
        if top:
            marks = ", ".join("?" for _ in top)
            names = {r[0]: r[1] for r in await self._db.fetch_all(
                f"SELECT id, name FROM shops WHERE id IN ({marks})", [r[0] for r in top])}
        shops = await self._db.fetch_row(
            "SELECT count(*), count(*) FILTER (WHERE created_at >= ?) FROM shops WHERE created_at < ?", (start, end))
        return PlatformFigures(shops[0], shops[1], len({r[0] for r in rows}), tuple(by_currency),
                               tuple(BusyShop(r[0], names.get(r[0], "?"), r[1], r[2], r[3]) for r in top))

    async def busiest_links(self, start: float, end: float, limit: int = 5) -> list[BusyLink]:
        """The live links (shop, slot) that brought the most orders, with their opens."""
        rows = await self._db.fetch_all(
            f"""SELECT b.shop_id, s.name, b.slot, b.currency, b.orders, b.revenue FROM (
                    SELECT shop_id, slot, currency, count(*) AS orders, sum(total) AS revenue FROM orders
                    WHERE created_at >= ? AND created_at < ? AND {_SOLD} AND slot IS NOT NULL
                    GROUP BY shop_id, slot, currency ORDER BY orders DESC, revenue DESC LIMIT ?) b
                JOIN shops s ON s.id = b.shop_id ORDER BY b.orders DESC, b.revenue DESC""",
            (start, end, limit))
        links = []
        for shop_id, shop_name, slot, currency, orders, revenue in rows:
            opens = await self._db.fetch_value(
                "SELECT count(*) FROM link_opens WHERE shop_id = ? AND opened_at >= ? AND opened_at < ? AND slot = ?",
                (shop_id, start, end, slot))
            product = await self._db.fetch_value(
                f"""SELECT max(i.name) FROM orders o JOIN order_items i ON i.order_id = o.id
                    WHERE o.shop_id = ? AND o.created_at >= ? AND o.created_at < ? AND o.slot = ? AND o.{_SOLD}
                    GROUP BY i.product_id ORDER BY sum(i.quantity) DESC LIMIT 1""",
                (shop_id, start, end, slot))
            links.append(BusyLink(shop_id, shop_name, slot, currency, orders, revenue, opens, product))
        return links

    # ---- scheduling: who is due, and the record of what was made

    async def timezones(self) -> list[str]:
        return [r[0] for r in await self._db.fetch_all("SELECT DISTINCT timezone FROM shops ORDER BY timezone")]

    async def due_shops(self, timezone: str, local_date: str, minute: int, midnight: float) -> list[int]:
        """Shops in `timezone` whose summary time has passed today (`local_date`, `minute` of the
        day) with none made for today yet. A shop opened after today's time waits for tomorrow."""
        rows = await self._db.fetch_all(
            """SELECT s.id FROM shops s LEFT JOIN summary_settings c ON c.shop_id = s.id
               WHERE s.timezone = :tz AND coalesce(c.enabled, 1) = 1
                 AND coalesce(c.send_at, :default) <= :minute
                 AND s.created_at < :midnight + 60 * coalesce(c.send_at, :default)
                 AND NOT EXISTS (SELECT 1 FROM summary_runs r
                                 WHERE r.scope = 'shop' AND r.target = s.id AND r.local_date = :date)
               ORDER BY coalesce(c.send_at, :default), s.id""",
            {"tz": timezone, "default": DEFAULT_SEND_AT, "minute": minute, "midnight": midnight, "date": local_date})
        return [r[0] for r in rows]

    async def has_shops_before(self, moment: float) -> bool:
        return bool(await self._db.fetch_value("SELECT EXISTS (SELECT 1 FROM shops WHERE created_at < ?)", (moment,)))

    async def made(self, scope: str, target: int, local_date: str) -> bool:
        return bool(await self._db.fetch_value(
            "SELECT EXISTS (SELECT 1 FROM summary_runs WHERE scope = ? AND target = ? AND local_date = ?)",
            (scope, target, local_date)))

    async def claim(self, conn: WriteTransaction, scope: str, target: int, local_date: str, chat_id: int, *,
                    photo: dict[str, Any] | None = None, follow_up: Sequence[dict[str, Any]] = (),
                    chart: bytes | None = None, delivered: bool = False, error: str | None = None) -> int | None:
        """Record the summary of `target` for `local_date` inside the caller's transaction; None
        when one was already made for that date (nothing is recorded then). With `delivered` the
        caller handed its messages to the outbox in the same transaction."""
        t = now()
        row = await fetch_one_in(
            conn,
            """INSERT INTO summary_runs (scope, target, local_date, chat_id, photo, follow_up, chart, not_before,
                   created_at, delivered_at, error)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (scope, target, local_date) DO NOTHING RETURNING id""",
            (scope, target, local_date, chat_id, None if photo is None else json.dumps(photo, ensure_ascii=False),
             json.dumps(list(follow_up), ensure_ascii=False), None if delivered else chart, t, t,
             t if delivered else None, error))
        return None if row is None else row[0]

    async def undelivered(self, limit: int = 50, *, max_age: float = 86400.0) -> list[SummaryRun]:
        """Claimed runs whose chart is still to be sent and whose time has come, oldest first."""
        t = now()
        rows = await self._db.fetch_all(
            """SELECT id, scope, target, local_date, chat_id, photo, follow_up, chart, attempts FROM summary_runs
               WHERE delivered_at IS NULL AND not_before <= ? AND created_at >= ? ORDER BY id LIMIT ?""",
            (t, t - max_age, limit))
        return [_run(r) for r in rows]

    async def expire_undelivered(self, *, max_age: float = 86400.0) -> int:
        """Give up runs that could not be delivered within a day: yesterday's news."""
        cutoff = now() - max_age
        if not await self._db.fetch_value(  # a read first: most ticks have nothing to expire
                "SELECT EXISTS (SELECT 1 FROM summary_runs WHERE delivered_at IS NULL AND created_at < ?)", (cutoff,)):
            return 0
        async with self._db.write() as conn:
            cur = await conn.execute(
                """UPDATE summary_runs SET delivered_at = ?, chart = NULL, error = 'expired'
                   WHERE delivered_at IS NULL AND created_at < ?""", (now(), cutoff))
            return cur.rowcount

    async def mark_delivered(self, conn: WriteTransaction, run_id: int, error: str | None = None) -> None:
        """Inside the caller's transaction (which may also hand the follow-up to the outbox)."""
        await conn.execute("UPDATE summary_runs SET delivered_at = ?, chart = NULL, error = ? WHERE id = ?",
                           (now(), error, run_id))

    async def runs(self, scope: str, target: int) -> list[tuple[str, float | None, str | None]]:
        """(local date, delivered at, error) of every run for one target, oldest first (tests, support)."""
        rows = await self._db.fetch_all(
            "SELECT local_date, delivered_at, error FROM summary_runs WHERE scope = ? AND target = ? ORDER BY id",
            (scope, target))
        return [(r[0], r[1], r[2]) for r in rows]
