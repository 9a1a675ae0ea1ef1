"""Conversation state, stored so that a half-finished conversation survives a restart."""

from __future__ import annotations

import json
from typing import Any

from storage.db import Database, now
from storage.journal import journaled_read, journaled_write
from storage.models import Flow


class Flows:
    def __init__(self, db: Database) -> None:
        self._db = db

    @journaled_read
    async def get(self, user_id: int) -> Flow | None:
        row = await self._db.lookup_one("SELECT user_id, name, step, data FROM flows WHERE user_id = ?", (user_id,))
        if row is None:
            return None
        return Flow(row["user_id"], row["name"], row["step"], json.loads(row["data"]))

    async def start(self, user_id: int, name: str, step: str, data: dict[str, Any] | None = None) -> Flow:
        """Begin (or replace) the user's conversation."""
        flow = Flow(user_id, name, step, dict(data or {}))
        await self.save(flow)
        return flow

    @journaled_write
    async def save(self, flow: Flow) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                """INSERT INTO flows (user_id, name, step, data, updated_at) VALUES (?, ?, ?, ?, ?)
                   ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, step = excluded.step,
                       data = excluded.data, updated_at = excluded.updated_at""",
                (flow.user_id, flow.name, flow.step, json.dumps(flow.data, ensure_ascii=False), now()),
            )

    @journaled_write
    async def clear(self, user_id: int) -> bool:
        """End the user's conversation; True when there was one."""
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM flows WHERE user_id = ?", (user_id,))
            return cur.rowcount > 0
