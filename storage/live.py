"""Live link slots, live sessions, link opens, and the cache of images already on Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.db import WriteTransaction, fetch_one_in, now, row_in
from storage.engine import Engine
from storage.flows import offer_in
from storage.journal import journaled_read, journaled_write

MAX_SLOTS = 50


@dataclass(frozen=True)
class SlotPin:
    slot: int
    product_id: int  # pins() lists filled slots only
    variant_id: int | None = None  # one variant only ("link 3 = 10斤 only")


@dataclass(frozen=True)
class LiveSession:
    id: int
    shop_id: int
    title: str | None
    started_at: float
    ended_at: float | None


@dataclass(frozen=True)
class SlotFigures:
    """One line of a session report (slot None: opens of the shop or product links)."""

    slot: int | None
    opens: int
    orders: int
    units: int
    revenue: int
    names: str | None = None  # the products the link showed during the session, comma-separated


class SlotTaken(Exception):
    """Every slot of the shop is in use."""


async def _set_pin(conn: WriteTransaction, shop_id: int, slot: int, product_id: int | None,
                   variant_id: int | None = None) -> None:
    await conn.execute(
        """INSERT INTO link_slots (shop_id, slot, product_id, variant_id, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (shop_id, slot) DO UPDATE SET product_id = excluded.product_id,
               variant_id = excluded.variant_id, updated_at = excluded.updated_at""",
        (shop_id, slot, product_id, variant_id if product_id is not None else None, now()),
    )


class Live:
    def __init__(self, db: Engine) -> None:
        self._db = db
        # The running session is asked for on every link open; only this class starts or ends one.
        self._current: dict[int, LiveSession | None] = {}

    # ---- slots

    async def pins(self, shop_id: int) -> list[SlotPin]:
        """The shop's filled slots, in slot order."""
        rows = await self._db.fetch_all(
            "SELECT slot, product_id, variant_id FROM link_slots WHERE shop_id = ? AND product_id IS NOT NULL "
            "ORDER BY slot", (shop_id,),
        )
        return [SlotPin(r[0], r[1], r[2]) for r in rows]

    @journaled_read
    async def product_on(self, shop_id: int, slot: int) -> int | None:
        return await self._db.lookup_value(
            "SELECT product_id FROM link_slots WHERE shop_id = ? AND slot = ?", (shop_id, slot)
        )

    @journaled_read
    async def variant_on(self, shop_id: int, slot: int) -> int | None:
        """The one variant a slot shows, when it was put there alone."""
        return await self._db.lookup_value(
            "SELECT variant_id FROM link_slots WHERE shop_id = ? AND slot = ?", (shop_id, slot)
        )

    async def slots_of(self, product_id: int) -> list[int]:
        rows = await self._db.fetch_all("SELECT slot FROM link_slots WHERE product_id = ? ORDER BY slot", (product_id,))
        return [r[0] for r in rows]

    @journaled_write
    async def pin(self, shop_id: int, slot: int, product_id: int | None) -> None:
        """Put a product on a slot (None clears it). The slot's link keeps its address."""
        if not 1 <= slot <= MAX_SLOTS:
            raise ValueError(f"slot {slot} out of 1..{MAX_SLOTS}")
        async with self._db.write() as conn:
            await _set_pin(conn, shop_id, slot, product_id)

    @journaled_write
    async def pin_next_free(self, shop_id: int, product_id: int, variant_id: int | None = None) -> int:
        """Put the product (or one of its variants alone) on the lowest empty slot and return it;
        SlotTaken when all 50 are full."""
        async with self._db.write() as conn:
            async with conn.execute(
                "SELECT slot FROM link_slots WHERE shop_id = ? AND product_id IS NOT NULL", (shop_id,)
            ) as cur:
                used = {r[0] for r in await cur.fetchall()}
            free = next((s for s in range(1, MAX_SLOTS + 1) if s not in used), None)
            if free is None:
                raise SlotTaken()
            await _set_pin(conn, shop_id, free, product_id, variant_id)
        return free

    @journaled_write
    async def swap(self, shop_id: int, a: int, b: int) -> None:
        """Exchange what two slots show (e.g. move the hot product to link 1)."""
        async with self._db.write() as conn:
            pa = await fetch_one_in(conn, "SELECT product_id, variant_id FROM link_slots WHERE shop_id = ? AND slot = ?",
                                    (shop_id, a))
            pb = await fetch_one_in(conn, "SELECT product_id, variant_id FROM link_slots WHERE shop_id = ? AND slot = ?",
                                    (shop_id, b))
            await _set_pin(conn, shop_id, a, *(pb if pb else (None, None)))
            await _set_pin(conn, shop_id, b, *(pa if pa else (None, None)))

    # ---- sessions

    async def current_session(self, shop_id: int) -> LiveSession | None:
        if shop_id not in self._current:
            row = await self._db.fetch_one(
                "SELECT id, shop_id, title, started_at, ended_at FROM live_sessions WHERE shop_id = ? AND ended_at IS NULL",
                (shop_id,),
            )
            self._current[shop_id] = None if row is None else LiveSession(*row)
        return self._current[shop_id]

    async def last_session(self, shop_id: int) -> LiveSession | None:
        row = await self._db.fetch_one(
            "SELECT id, shop_id, title, started_at, ended_at FROM live_sessions WHERE shop_id = ? "
            "ORDER BY started_at DESC, id DESC LIMIT 1",
            (shop_id,),
        )
        return None if row is None else LiveSession(*row)

    @journaled_write
    async def start_session(self, shop_id: int, title: str | None) -> tuple[LiveSession, bool]:
        """Open a session; if one is already open, return it and False."""
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn, "SELECT id, shop_id, title, started_at, ended_at FROM live_sessions "
                      "WHERE shop_id = ? AND ended_at IS NULL", (shop_id,))
            if row is not None:
                return LiveSession(*row), False
            row = await row_in(
                conn, "INSERT INTO live_sessions (shop_id, title, started_at) VALUES (?, ?, ?) "
                      "RETURNING id, shop_id, title, started_at, ended_at", (shop_id, title, now()))
        self._current.pop(shop_id, None)
        return LiveSession(*row), True

    @journaled_write
    async def end_session(self, shop_id: int) -> LiveSession | None:
        async with self._db.write() as conn:
            row = await fetch_one_in(
                conn, "UPDATE live_sessions SET ended_at = ? WHERE shop_id = ? AND ended_at IS NULL "
                      "RETURNING id, shop_id, title, started_at, ended_at", (now(), shop_id))
        self._current.pop(shop_id, None)
        return None if row is None else LiveSession(*row)

    # ---- opens and the funnel

    @journaled_write
    async def record_open(self, shop_id: int, kind: str, slot: int | None, product_id: int | None,
                          session_id: int | None, user_id: int,
                          card_flow: tuple[str, str, dict[str, Any]] | None = None) -> None:
        """Record an open; with `card_flow` (name, step, data), also offer the user the quiet
        conversation of the card they land on (storage.flows.offer_in), in the same write."""
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO link_opens (shop_id, kind, slot, product_id, session_id, user_id, opened_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (shop_id, kind, slot, product_id, session_id, user_id, now()),
            )
            if card_flow is not None:
                await offer_in(conn, user_id, *card_flow)

    async def prune_opens(self, older_than: float, batch: int = 2000) -> int:
        """Forget link opens before `older_than` (the funnel of old sessions goes with them), a
        batch per transaction so a large backlog never holds the writer for long."""
        total = 0
        while True:
            async with self._db.write() as conn:
                cur = await conn.execute(
                    "DELETE FROM link_opens WHERE id IN (SELECT id FROM link_opens WHERE opened_at < ? LIMIT ?)",
                    (older_than, batch))
            total += cur.rowcount
            if cur.rowcount < batch:
                return total

    async def session_figures(self, session_id: int) -> list[SlotFigures]:
        """Opens -> orders -> units -> revenue per link slot of one session (slot None: other links)."""
        rows = await self._db.fetch_all(
            """WITH o AS (SELECT slot, count(*) AS opens FROM link_opens WHERE session_id = :s GROUP BY slot),
                    r AS (SELECT slot, count(*) AS orders, sum(units) AS units, sum(total) AS revenue
                          FROM orders WHERE session_id = :s AND status != 'cancelled' GROUP BY slot),
                    k AS (SELECT slot FROM o UNION SELECT slot FROM r)
               SELECT k.slot, coalesce(o.opens, 0), coalesce(r.orders, 0), coalesce(r.units, 0), coalesce(r.revenue, 0),
                      (SELECT group_concat(name, ', ') FROM (
                           SELECT DISTINCT p.name FROM link_opens lo JOIN products p ON p.id = lo.product_id
                           WHERE lo.session_id = :s AND lo.slot IS k.slot) AS names)
               FROM k LEFT JOIN o ON o.slot IS k.slot LEFT JOIN r ON r.slot IS k.slot
               ORDER BY k.slot IS NULL, k.slot""",
            {"s": session_id},
        )
        return [SlotFigures(*r) for r in rows]

    # ---- images already uploaded

    async def image_file_id(self, content_key: str) -> str | None:
        return await self._db.lookup_value("SELECT file_id FROM sent_images WHERE content_key = ?", (content_key,))

    @journaled_write
    async def remember_image(self, content_key: str, file_id: str) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                "INSERT INTO sent_images (content_key, file_id, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (content_key) DO UPDATE SET file_id = excluded.file_id",
                (content_key, file_id, now()),
            )
