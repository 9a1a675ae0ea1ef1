"""Damaged-goods claims and each shop's claim policy (core/claims.py says what they mean).

A claim is on one line of an order (a product, or one of its variants): how many units arrived
damaged, 1-5 photos, the buyer's note, the amount the policy computes. The shop approves it (the
computed amount or another), and an approved claim is a row of the refunds ledger written in the
same transaction, never an edit of the order's total; or rejects it with a reason. One open
claim per order line at a time.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from core.claims import Policy
from storage.db import fetch_one_in, now, row_in
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.outbox import Outbox, Outgoing, rendered
from storage.refunds import add_refund_in

DAMAGE_CLAIM = "damage_claim"  # the refunds ledger's reason for an approved claim
OPEN, APPROVED, REJECTED = "open", "approved", "rejected"

_COLUMNS = ("id, order_id, shop_id, buyer_id, product_id, variant_id, line_name, units, amount, currency, photos, "
            "note, status, approved_amount, reason, decided_by, decided_at, created_at")


@dataclass(frozen=True)
class Claim:
    id: int
    order_id: int
    shop_id: int
    buyer_id: int
    product_id: int
    variant_id: int | None
    line_name: str
    units: int
    amount: int  # what the policy computed
    currency: str
    photos: tuple[str, ...]
    note: str | None
    status: str
    approved_amount: int | None
    reason: str | None
    decided_by: int | None
    decided_at: float | None
    created_at: float


def _claim(row: sqlite3.Row) -> Claim:
    values = {k: row[k] for k in row.keys()}
    values["photos"] = tuple(json.loads(values["photos"]))
    return Claim(**values)


class ClaimOpen(Exception):
    """The line already has an open claim."""


class ClaimDecided(Exception):
    """The claim was decided already (a second tap, a replay)."""


@dataclass(frozen=True)
class ClaimFigures:
    claims: int
    approved: int
    refunded: int  # approved amounts
    open: int


class Claims:
    def __init__(self, db: Engine, outbox: Outbox) -> None:
        self._db = db
        self._outbox = outbox
        # Every product card shows the shop's policy text: kept in memory, changed only here.
        self._policies: dict[int, Policy] = {}

    # ---- the policy

    @journaled_read
    async def policy(self, shop_id: int) -> Policy:
        known = self._policies.get(shop_id)
        if known is None:
            known = self._policies[shop_id] = await self._read_policy(shop_id)
        return known

    async def _read_policy(self, shop_id: int) -> Policy:
        row = await self._db.lookup_one(
            "SELECT enabled, hours_after_delivery, days_after_shipping, mode, percent, threshold, text "
            "FROM claim_policies WHERE shop_id = ?", (shop_id,))
        return Policy() if row is None else Policy(bool(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])

    @journaled_write
    async def set_policy(self, shop_id: int, policy: Policy) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO claim_policies (shop_id, enabled, hours_after_delivery, days_after_shipping, mode,
                                               percent, threshold, text, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (shop_id) DO UPDATE SET enabled = excluded.enabled,
                       hours_after_delivery = excluded.hours_after_delivery,
                       days_after_shipping = excluded.days_after_shipping, mode = excluded.mode,
                       percent = excluded.percent, threshold = excluded.threshold, text = excluded.text,
                       updated_at = excluded.updated_at""",
                (shop_id, int(policy.enabled), policy.hours_after_delivery, policy.days_after_shipping, policy.mode,
                 policy.percent, policy.threshold, policy.text, now()))
        self._policies[shop_id] = policy

    # ---- claims

    @journaled_read
    async def moments(self, order_id: int) -> tuple[float | None, float | None]:
        """(shipped at, delivered at) of an order, from its history: the claim window's start."""
        rows = await self._db.lookup_all(
            "SELECT to_status, max(at) FROM order_events WHERE order_id = ? AND to_status IN ('shipped', 'delivered') "
            "GROUP BY to_status", (order_id,))
        at = {r[0]: r[1] for r in rows}
        return at.get("shipped"), at.get("delivered")

    @journaled_write
    async def open(self, *, order_id: int, shop_id: int, buyer_id: int, product_id: int, variant_id: int | None,
                   line_name: str, units: int, amount: int, currency: str, photos: list[str], note: str | None,
                   messages: Callable[[Claim], list[Outgoing]] | None = None) -> Claim:
        """File a claim (ClaimOpen when the line has one open already), with the shop's notices."""
        async with self._db.write() as conn:
            if await fetch_one_in(conn, "SELECT 1 FROM claims WHERE order_id = ? AND product_id = ? "
                                        "AND coalesce(variant_id, 0) = ? AND status = 'open'",
                                  (order_id, product_id, variant_id or 0)):
                raise ClaimOpen()
            row = await row_in(
                conn, f"""INSERT INTO claims (order_id, shop_id, buyer_id, product_id, variant_id, line_name, units,
                                              amount, currency, photos, note, status, created_at)
                          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?) RETURNING {_COLUMNS}""",
                (order_id, shop_id, buyer_id, product_id, variant_id, line_name, units, amount, currency,
                 json.dumps(photos), note, now()))
            claim = _claim(row)
            if messages is not None:
                for message in rendered(messages(claim)):
                    await self._outbox.enqueue(conn, message)
        return claim

    @journaled_read
    async def get(self, claim_id: int) -> Claim | None:
        row = await self._db.lookup_one(f"SELECT {_COLUMNS} FROM claims WHERE id = ?", (claim_id,))
        return None if row is None else _claim(row)

    @journaled_read
    async def of_order(self, order_id: int) -> list[Claim]:
        rows = await self._db.lookup_all(f"SELECT {_COLUMNS} FROM claims WHERE order_id = ? ORDER BY id", (order_id,))
        return [_claim(r) for r in rows]

    @journaled_write
    async def decide(self, claim_id: int, *, approve: bool, amount: int | None, reason: str | None, by_user: int,
                     messages: Callable[[Claim], list[Outgoing]] | None = None) -> Claim:
        """Approve (the refund due is a ledger row, in this transaction) or reject; ClaimDecided
        when it was decided already. The buyer's message goes out with it."""
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn, f"""UPDATE claims SET status = ?, approved_amount = ?, reason = ?, decided_by = ?, decided_at = ?
                          WHERE id = ? AND status = 'open' RETURNING {_COLUMNS}""",
                (APPROVED if approve else REJECTED, amount if approve else None, reason, by_user, now(), claim_id))
            if row is None:
                raise ClaimDecided()
            claim = _claim(row)
            if approve and amount:
                await add_refund_in(conn, order_id=claim.order_id, shop_id=claim.shop_id, amount=amount,
                                    currency=claim.currency, reason=DAMAGE_CLAIM, created_by=by_user)
            if messages is not None:
                for message in rendered(messages(claim)):
                    await self._outbox.enqueue(conn, message)
        return claim

    @journaled_read
    async def waiting(self, shop_id: int) -> list[int]:
        """The numbers of the orders whose claims wait for the shop's decision (the daily summary)."""
        rows = await self._db.fetch_all(
            "SELECT DISTINCT o.number FROM claims c JOIN orders o ON o.id = c.order_id "
            "WHERE c.shop_id = ? AND c.status = 'open' ORDER BY o.number", (shop_id,))
        return [r[0] for r in rows]

    @journaled_read
    async def figures(self, shop_id: int, start: float, end: float) -> ClaimFigures:
        row = await self._db.fetch_row(
            "SELECT count(*), count(*) FILTER (WHERE status = 'approved'), coalesce(sum(approved_amount), 0), "
            "count(*) FILTER (WHERE status = 'open') FROM claims WHERE shop_id = ? AND created_at >= ? AND created_at < ?",
            (shop_id, start, end))
        return ClaimFigures(row[0], row[1], row[2], row[3])

    @journaled_read
    async def damage_rates(self, shop_id: int, start: float, end: float) -> list[tuple[str, int, int]]:
        """(product, units claimed damaged, units sold) of the period's orders, most damaged first."""
        rows = await self._db.fetch_all(
            """SELECT name, damaged, sold FROM (
                 SELECT p.name, coalesce((SELECT sum(c.units) FROM claims c WHERE c.product_id = p.id
                            AND c.status != 'rejected' AND c.created_at >= ? AND c.created_at < ?), 0) AS damaged,
                        sum(i.quantity) AS sold
                 FROM order_items i JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id
                 WHERE o.shop_id = ? AND o.status != 'cancelled' AND o.created_at >= ? AND o.created_at < ?
                 GROUP BY p.id) AS per_product
               WHERE damaged > 0 ORDER BY damaged * 1.0 / sold DESC""",
            (start, end, shop_id, start, end))
        return [(r[0], r[1], r[2]) for r in rows]

    @journaled_read
    async def damage_by_region(self, shop_id: int, start: float, end: float) -> list[tuple[str, int, int]]:
        """(region, units claimed damaged, units sold) of the period's orders that have a shipping
        region, most damaged first: which roads bruise the fruit."""
        rows = await self._db.fetch_all(
            """SELECT region, damaged, sold FROM (
                 SELECT o.region,
                        coalesce(sum((SELECT sum(c.units) FROM claims c WHERE c.order_id = o.id
                                      AND c.status != 'rejected')), 0) AS damaged,
                        sum(o.units) AS sold
                 FROM orders o
                 WHERE o.shop_id = ? AND o.region IS NOT NULL AND o.status != 'cancelled'
                   AND o.created_at >= ? AND o.created_at < ?
                 GROUP BY o.region) AS per_region
               WHERE damaged > 0 ORDER BY damaged * 1.0 / sold DESC""",
            (shop_id, start, end))
        return [(r[0], r[1], r[2]) for r in rows]
