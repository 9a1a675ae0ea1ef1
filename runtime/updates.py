"""The update path: store first, then process from the store.

python-telegram-bot acknowledges updates before handlers run, so a crash would lose whatever
was queued. Here polling (and the webhook) hand raw updates to `UpdatePipeline.accept`, which
commits them to the inbox before the caller acknowledges them; a worker per user then runs
the handlers. One user's updates are handled in order; different users' run concurrently.
After a restart `replay` picks up whatever was stored but not finished.

Several workers on one PostgreSQL database (`leases` given) share the inbox: whichever worker
Telegram's update reached stores it, then handles the user's updates under the lease
`user:<id>` (storage/leases.py). Holding it, a worker reads every unprocessed update of that user
from the inbox, whoever stored it, handles them in update order and records each as processed
before letting go: so one user's updates run in order and on one worker at a time, and a
worker that finds its update already handled by another drops it. A worker that dies lets its
leases run out (USER_LEASE_SECONDS); what it left unprocessed is adopted by the others (`adopt`).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections import deque
from typing import Any

from telegram import Update
from telegram.ext import Application

from runtime import metrics
from storage.inbox import Inbox, StoredUpdate
from storage.leases import Leases
from storage.journal import UpdateJournal, handling

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.05  # seconds between batched "processed" marks
USER_LEASE_SECONDS = 120.0  # a handler outlasting this could overlap another worker's; none comes close
LEASE_RETRY_FIRST = 0.005  # seconds; doubled while another worker holds the user, up to LEASE_RETRY_MAX
LEASE_RETRY_MAX = 0.2
ADOPT_AFTER_SECONDS = 30.0  # an update unprocessed this long is taken over from a worker that died


class UpdatePipeline:
    """Handlers run for at most `max_concurrency` users at once (config limits.concurrent_updates)."""

    def __init__(self, app: Application, inbox: Inbox, *, max_concurrency: int = 64,
                 leases: Leases | None = None, worker: str = "") -> None:
        self._app = app
        self._inbox = inbox
        self._leases = leases  # several workers share the inbox (PostgreSQL)
        self._worker = worker
        self._queues: dict[int, deque[StoredUpdate]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(max_concurrency)
        self._done: dict[int, str | None] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self._flusher: asyncio.Task[None] | None = None
        self._stopping = False  # set by stop(): workers finish the update in hand and start no other

    async def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_loop(), name="inbox-flush")
        await self.replay()

    async def replay(self) -> None:
        """Process what an earlier run stored but did not finish."""
        pending = await self._inbox.unprocessed()
        if pending:
            log.info("replaying %d stored update(s) left unprocessed by the last run", len(pending))
        for stored in pending:
            self._enqueue(stored)

    async def accept(self, updates: list[dict[str, Any]]) -> int:
        """Store raw updates (dropping duplicates) and queue them; returns how many were new.

        Returns only after the commit, so the caller may then acknowledge them to Telegram.
        """
        fresh = await self._inbox.store(updates)
        metrics.updates_received(len(fresh))
        for stored in fresh:
            self._enqueue(stored)
        return len(fresh)

    def _enqueue(self, stored: StoredUpdate) -> None:
        queue = self._queues.get(stored.user_key)
        if queue is None:
            queue = self._queues[stored.user_key] = deque()
            worker = asyncio.create_task(self._drain(stored.user_key, queue), name=f"updates-{stored.user_key}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        queue.append(stored)
        self._idle.clear()

    async def _drain(self, key: int, queue: deque[StoredUpdate]) -> None:
        if self._leases is not None:
            return await self._drain_shared(key, queue)
        try:
            while queue and not self._stopping:
                stored = queue[0]
                async with self._slots:
                    if self._stopping:  # stop() came while this waited for a slot: not started
                        break
                    await self._process(stored)
                queue.popleft()
        finally:
            del self._queues[key]
            if not self._queues:
                self._idle.set()

    async def _drain_shared(self, key: int, queue: deque[StoredUpdate]) -> None:
        """The user's updates, from every worker's inbox, under their lease (several workers)."""
        assert self._leases is not None
        lease = f"user:{key}"
        try:
            while queue and not self._stopping:
                async with self._slots:
                    if not await self._hold(lease):
                        break  # stopping
                    # Queued here before the read, so committed before it: the read lists them
                    # unless they were handled already (by a worker that held the user first).
                    known = {s.update_id for s in queue}
                    handled: set[int] = set()
                    pending: list[StoredUpdate] = []
                    try:
                        pending = await self._inbox.unprocessed_of(key)
                        for stored in pending:
                            if self._stopping:
                                break
                            await self._process(stored)
                            # Recorded before the lease goes: the next holder must not handle it again.
                            await self._inbox.mark_processed({stored.update_id: self._done.pop(stored.update_id, None)})
                            handled.add(stored.update_id)
                    except Exception:  # the database failed us: keep the queue, try again shortly
                        log.exception("could not take user %d's updates from the shared inbox; trying again", key)
                        known = set()  # nothing may be dropped on the strength of a failed read
                        await asyncio.sleep(LEASE_RETRY_MAX)
                    finally:
                        await self._leases.release([lease], self._worker)
                    done = (known - {s.update_id for s in pending}) | handled
                    rest = [s for s in queue if s.update_id not in done]
                    queue.clear()
                    queue.extend(rest)
        finally:
            del self._queues[key]
            if not self._queues:
                self._idle.set()

    async def _hold(self, lease: str) -> bool:
        """Wait until this worker holds the lease (False: stopping meanwhile)."""
        assert self._leases is not None
        delay = LEASE_RETRY_FIRST
        while not self._stopping:
            if await self._leases.claim([lease], self._worker, USER_LEASE_SECONDS):
                return True
            await asyncio.sleep(delay)
            delay = min(delay * 2, LEASE_RETRY_MAX)
        return False

    async def adopt(self) -> None:
        """Queue updates left unprocessed for a while: their worker died before handling them
        (several workers). The user's lease keeps a live worker's from being handled twice."""
        for stored in await self._inbox.unprocessed(older_than=ADOPT_AFTER_SECONDS):
            if stored.user_key not in self._queues:
                self._enqueue(stored)

    async def _process(self, stored: StoredUpdate) -> None:
        error = None
        started = metrics.handling_started()
        try:
            # The journal makes the handling exactly once across a crash (storage/journal.py).
            journal = UpdateJournal(stored.update_id,
                                    await self._inbox.journal_rows(stored.update_id) if stored.replayed else [])
            # A tap the first run answered cannot be answered again: the rate limiter logs that
            # and the replay goes on to send the rest of its answer (runtime/limiter.py).
            update = Update.de_json(stored.payload, self._app.bot)
            with handling(journal):
                # Handler errors are caught by the Application and passed to our error handler.
                await self._app.process_update(update)
            if journal.replayed_calls:
                log.info("update %d replayed: %d store call(s) answered from its journal, none done twice",
                         stored.update_id, journal.replayed_calls)
        except asyncio.CancelledError:
            raise  # shutting down: leave it unprocessed, it is replayed on the next start
        except Exception as exc:  # a malformed update must not stop the user's queue
            error = "".join(traceback.format_exception_only(exc)).strip()
            log.exception("update %d could not be processed: %s", stored.update_id, stored.payload)
        metrics.update_handled(started, error)
        self._done[stored.update_id] = error

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            await self.flush()

    async def flush(self) -> None:
        done, self._done = self._done, {}
        try:
            await self._inbox.mark_processed(done)
        except Exception:
            log.exception("could not record %d processed update(s); will retry", len(done))
            done.update(self._done)
            self._done = done

    async def idle(self) -> None:
        """Wait until every queued update has been handled and recorded."""
        while True:
            await self._idle.wait()
            await self.flush()
            if self._idle.is_set() and not self._done:
                return

    @property
    def busy(self) -> bool:
        return not self._idle.is_set()

    async def stop(self, grace: float = 5.0, *, record: bool = True) -> None:
        """Start no other update; give the handlers in flight `grace` seconds to finish; record them.

        Updates not started stay unprocessed in the inbox and are handled after the next start, once:
        a graceful stop cuts no handler short unless one outlasts `grace`. `record=False` records
        nothing more, as a crash would leave it (the crash tests).
        """
        self._stopping = True
        if not record:
            self._done.clear()
            grace = 0.0
        waiting = sum(len(q) for q in self._queues.values())
        running = list(self._workers)
        if running and grace > 0:
            await asyncio.wait(running, timeout=grace)
        cut_short = [w for w in self._workers if not w.done()]
        for worker in cut_short:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        if cut_short:
            log.warning("stopped with %d handler(s) cut short after %.0fs; their updates are handled again after "
                        "the restart", len(cut_short), grace)
        if waiting:
            log.info("stopping: %d stored update(s) were waiting; those not started are handled after the restart",
                     waiting)
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
        if not record:
            self._done.clear()
        await self.flush()

