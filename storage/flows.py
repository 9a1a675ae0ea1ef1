"""Conversation state, stored so that a half-finished conversation survives a restart."""

from __future__ import annotations

import json
from typing import Any

from storage.db import WriteTransaction, now
from storage.engine import Engine
from storage.journal import journaled_read, journaled_write
from storage.models import Flow


class Flows:
    def __init__(self, db: Engine) -> None:
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
            await save_flow_in(conn, flow)

    async def offer(self, user_id: int, name: str, step: str, data: dict[str, Any]) -> None:
        """Begin a conversation the user did not ask for (the product card they are looking at)
        unless they are in another one: it replaces only a conversation of the same name."""
        async with self._db.write() as conn:
            await offer_in(conn, user_id, name, step, data)

    @journaled_write
    async def end(self, user_id: int, name: str) -> bool:
        """End the user's conversation if it is `name` (a Cancel button of that conversation);
        True when it was."""
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM flows WHERE user_id = ? AND name = ?", (user_id, name))
            return cur.rowcount > 0

    @journaled_write
    async def clear(self, user_id: int) -> bool:
        """End the user's conversation; True when there was one."""
        async with self._db.write() as conn:
            cur = await conn.execute("DELETE FROM flows WHERE user_id = ?", (user_id,))
            return cur.rowcount > 0


async def save_flow_in(conn: WriteTransaction, flow: Flow) -> None:
    """Store the user's conversation inside the caller's transaction (it goes with a change)."""
    await conn.execute(
        """INSERT INTO flows (user_id, name, step, data, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, step = excluded.step,
               data = excluded.data, updated_at = excluded.updated_at""",
        (flow.user_id, flow.name, flow.step, json.dumps(flow.data, ensure_ascii=False), now()),
    )


async def offer_in(conn: WriteTransaction, user_id: int, name: str, step: str, data: dict[str, Any]) -> None:
    """`Flows.offer` inside a caller's transaction (landing on a link records the open and the
    card the buyer now looks at in one write: the flash sale's hottest path)."""
    await conn.execute(
        """INSERT INTO flows (user_id, name, step, data, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET step = excluded.step, data = excluded.data,
               updated_at = excluded.updated_at
           WHERE flows.name = excluded.name""",
        (user_id, name, step, json.dumps(data, ensure_ascii=False), now()),
    )
