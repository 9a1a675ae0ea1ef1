"""The update queue behind getUpdates.

Semantics follow Telegram's:

* updates stay pending until a getUpdates call confirms them with an
  ``offset`` greater than their ``update_id``; a negative offset keeps only
  the last ``-offset`` updates;
* ``timeout`` long-polls: with nothing pending the call waits until an
  update arrives or the timeout passes, then answers (possibly ``[]``);
* a second getUpdates while one is waiting terminates the first with
  409 Conflict, exactly the error two running bot instances get;
* ``allowed_updates`` is remembered across calls; updates of other types are
  not delivered (by default all types except chat_member and reactions).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from .errors import ApiError

DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"


def update_type(update: dict[str, Any]) -> str:
    """The update's type: its one key besides update_id."""
    return next((key for key in update if key != "update_id"), "")


class _Poll:
    """One waiting getUpdates call."""

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.superseded = False


class UpdateQueue:
    """Pending updates and the long-poll that hands them to the bot."""

    def __init__(self, first_update_id: int = 1) -> None:
        self.pending: list[dict[str, Any]] = []
        self.log: list[dict[str, Any]] = []  # every update ever created, delivered or not
        self.allowed: list[str] | None = None
        self._next_id = first_update_id
        self._poll: _Poll | None = None

    def __len__(self) -> int:
        return len(self.pending)

    def is_allowed(self, kind: str) -> bool:
        if self.allowed:
            return kind in self.allowed
        return kind not in DEFAULT_EXCLUDED

    def push(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Give ``payload`` (an update without update_id) an id and queue it."""
        update = {"update_id": self._next_id, **payload}
        self._next_id += 1
        self.log.append(update)
        if self.is_allowed(update_type(update)):
            self.pending.append(update)
            if self._poll is not None:
                self._poll.wake.set()
        return update

    def confirm(self, offset: int | None) -> None:
        """Forget updates the bot has confirmed through ``offset``."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            self.pending = self.pending[offset:]
        else:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]

    def drop_all(self) -> None:
        self.pending.clear()

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        # allowed_updates may have changed since these were queued.
        self.pending = [u for u in self.pending if self.is_allowed(update_type(u))]
        return self.pending[:limit]

    async def poll(self, offset: int | None, limit: int, timeout: float) -> list[dict[str, Any]]:
        """What getUpdates answers, waiting up to ``timeout`` seconds."""
        self.confirm(offset)
        if self._poll is not None:
            # The waiting call loses, as with two bot instances.
            self._poll.superseded = True
            self._poll.wake.set()
        poll = self._poll = _Poll()
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + max(timeout, 0)
            while True:
                if poll.superseded:
                    raise ApiError(409, CONFLICT)
                batch = self._deliverable(limit)
                remaining = deadline - loop.time()
                if batch or remaining <= 0:
                    return batch
                poll.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poll.wake.wait(), remaining)
        finally:
            if self._poll is poll:
                self._poll = None
