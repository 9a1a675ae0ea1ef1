"""A shop's shipping rules (core/shipping.py says what they mean and what a parcel costs)."""

from __future__ import annotations

from core.shipping import Rules
from storage.db import now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write


class ShippingRules:
    def __init__(self, db: Engine) -> None:
        self._db = db

    @journaled_read
    async def of_shop(self, shop_id: int, home: str) -> Rules:
        """The shop's rules; unconfigured (no fee, every address accepted) until it sets them."""
        row = await self._db.lookup_one(
            "SELECT default_fee, free_over, per_extra_unit, per_kg FROM shipping_rules WHERE shop_id = ?", (shop_id,))
        if row is None:
            return Rules(home=home, configured=False)
        regions = await self._db.lookup_all("SELECT region, fee FROM shipping_regions WHERE shop_id = ?", (shop_id,))
        return Rules(row["default_fee"], row["free_over"], row["per_extra_unit"], row["per_kg"],
                     {r["region"]: r["fee"] for r in regions}, home)

    @journaled_write
    async def save(self, shop_id: int, rules: Rules) -> None:
        """Replace the shop's rules with `rules` (placed orders keep the fee they were charged)."""
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO shipping_rules (shop_id, default_fee, free_over, per_extra_unit, per_kg, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?)
                   ON CONFLICT (shop_id) DO UPDATE SET default_fee = excluded.default_fee,
                       free_over = excluded.free_over, per_extra_unit = excluded.per_extra_unit,
                       per_kg = excluded.per_kg, updated_at = excluded.updated_at""",
                (shop_id, rules.default_fee, rules.free_over, rules.per_extra_unit, rules.per_kg, now()))
            await conn.execute("DELETE FROM shipping_regions WHERE shop_id = ?", (shop_id,))
            await conn.executemany("INSERT INTO shipping_regions (shop_id, region, fee) VALUES (?, ?, ?)",
                                   [(shop_id, region, fee) for region, fee in sorted(rules.regions.items())])

    @journaled_write
    async def clear(self, shop_id: int) -> None:
        """Back to no shipping rules: no fee, every address accepted."""
        async with self._db.write() as conn:
            await conn.execute("DELETE FROM shipping_regions WHERE shop_id = ?", (shop_id,))
            await conn.execute("DELETE FROM shipping_rules WHERE shop_id = ?", (shop_id,))
