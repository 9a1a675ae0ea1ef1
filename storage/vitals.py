"""What the operator's metrics and health check read from the database: backlogs and totals.

Every query here uses an index (the inbox's and the outbox's partial indexes of what is pending, the
orders' primary key), so a scrape every few seconds costs microseconds even in a database of
millions of rows. They run on the reader connection, off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import now
from storage.engine import Engine

# Units held by open checkouts at Buy now (storage/holds.py): a row is deleted when released.
HOLDS_OPEN_SQL: str | None = "SELECT coalesce(sum(quantity), 0) FROM holds"


@dataclass(frozen=True)
class Vitals:
    inbox_backlog: int  # stored updates not handled yet
    outbox_backlog: int  # messages waiting to be sent (due now or later)
    outbox_due: int  # of those, the ones whose time has come
    outbox_oldest_age: float  # seconds since the oldest waiting message was queued (0 when none)
    orders_placed: int  # orders ever placed (rows are never deleted)
    holds_open: int | None  # units held at Buy now; None until the holds table exists


class VitalSigns:
    def __init__(self, db: Engine, inbox_db: Engine) -> None:
        self._db = db
        self._inbox_db = inbox_db  # the inbox has a file of its own (storage/inbox.py)

    async def read(self) -> Vitals:
        t = now()
        inbox = await self._inbox_db.fetch_value("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
        waiting = await self._db.fetch_row(
            "SELECT count(*), count(*) FILTER (WHERE not_before <= ?), min(created_at) FROM outbox"
            " WHERE sent_at IS NULL AND failed_at IS NULL", (t,))
        orders = await self._db.fetch_value("SELECT coalesce(max(id), 0) FROM orders")
        holds = int(await self._db.fetch_value(HOLDS_OPEN_SQL)) if HOLDS_OPEN_SQL else None
        oldest = waiting[2]
        return Vitals(inbox_backlog=int(inbox), outbox_backlog=int(waiting[0]), outbox_due=int(waiting[1]),
                      outbox_oldest_age=max(0.0, t - oldest) if oldest is not None else 0.0,
                      orders_placed=int(orders), holds_open=holds)
