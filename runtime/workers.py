"""This process as one of several workers on one PostgreSQL database (webhook mode).

Each worker renews a `worker:<name>` lease every HEARTBEAT_SECONDS and counts the live ones: the
bot-wide Telegram budgets are split among them (Pacer.share), so N workers together keep one
bot's pace. The same beat claims the `jobs` lease: its holder runs the scheduled work (daily
summaries, the payment and hold clocks, house-keeping, channel posts), so each runs once across
workers; when the holder dies its lease runs out and another worker takes over within
JOBS_LEASE_SECONDS. On SQLite there is one process and none of this runs.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable

from runtime.jobs import Job, Work
from runtime.pacing import Pacer
from storage.leases import Leases

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 5.0
WORKER_LEASE_SECONDS = 15.0  # three missed beats and a worker counts as gone
JOBS_LEASE_SECONDS = 15.0


def worker_name() -> str:
    """Unique per process start: host, pid and a random tail (a pid can be reused after a crash)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Workers:
    def __init__(self, leases: Leases, pacer: Pacer, name: str | None = None) -> None:
        self._leases = leases
        self._pacer = pacer
        self.name = name or worker_name()
        self.leading = False  # holds the `jobs` lease: runs the scheduled work
        self.live = 1

    async def beat(self) -> float:
        """Renew this worker's leases and share the budget among the live workers."""
        await self._leases.claim([f"worker:{self.name}"], self.name, WORKER_LEASE_SECONDS)
        leading = bool(await self._leases.claim(["jobs"], self.name, JOBS_LEASE_SECONDS))
        if leading != self.leading:
            log.info("worker %s %s the scheduled jobs", self.name, "now runs" if leading else "no longer runs")
        self.leading = leading
        live = max(1, await self._leases.live("worker:"))
        if live != self.live:
            log.info("%d worker(s) live: each keeps 1/%d of the bot-wide Telegram budget", live, live)
        self.live = live
        self._pacer.share(live)
        return HEARTBEAT_SECONDS

    def job(self) -> Job:
        return Job("workers", self.beat, every=HEARTBEAT_SECONDS, after_failure=1.0)

    def only_leading(self, work: Work | Callable[[], Awaitable[None]]) -> Work:
        """`work` run only on the worker that holds the `jobs` lease (others look again shortly)."""

        async def run() -> float | None:
            if not self.leading:
                return HEARTBEAT_SECONDS
            return await work()

        return run

    async def leave(self) -> None:
        """A graceful stop: give back every lease at once, so others take over without waiting."""
        await self._leases.release_all(self.name)
        self.leading = False
