"""Periodic work, run and stopped one way: the outbox sender, the daily summaries, the payment
clock, the hold clock, housekeeping and backups are each a `Job`, and `Livecart` keeps them in one
`Jobs` set that starts them together and stops them in a stated order.

A job is a coroutine function run again and again: it returns how long to wait before its next
run (or None for its usual interval). A failure is logged and the job runs again after its
`after_failure` pause; it never ends the loop. `wake()` runs a job now (the outbox after a commit
that queued messages); a wake that comes while the job runs is kept, so the run that follows sees
the new work.

We run our own small loop rather than PTB's JobQueue: it would add APScheduler to the update
path's process for six loops, and a job here needs "run again in exactly the delay I computed"
(the hold clock, the outbox's next due message), which JobQueue expresses only by rescheduling.

Several workers on PostgreSQL (runtime/workers.py) run the scheduled jobs on one of them, the
holder of the `jobs` lease, which another takes over when that worker dies; the outbox is the
exception, drained by every worker, each sending the chats whose `chat:<id>` lease it holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Work = Callable[[], Awaitable[float | None]]


class Job:
    """One piece of periodic work."""

    def __init__(self, name: str, work: Work, *, every: float, after_failure: float | None = None,
                 first_in: float = 0.0) -> None:
        self.name = name
        self._work = work
        self.every = every
        self.after_failure = every if after_failure is None else after_failure
        self.first_in = first_in  # the first run waits this long (0: at once, e.g. a missed summary)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.runs = 0  # completed runs, failed ones included (tests wait on it)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if not self.running:
            self._task = asyncio.create_task(self._loop(), name=self.name)

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _loop(self) -> None:
        delay = self.first_in
        while True:
            if delay > 0:
                # asyncio.timeout, not wait_for: on Python 3.11 a cancel (stop()) arriving as the
                # wake fires was swallowed by wait_for, the loop ran on and stop() waited for ever
                # (tests/test_exactly_once.py hung about one run in five).
                try:
                    async with asyncio.timeout(delay):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            self._wake.clear()  # before the run: a wake during it means new work for the next one
            try:
                wanted = await self._work()
                delay = self.every if wanted is None else max(0.0, wanted)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s failed; trying again in %.0fs", self.name, self.after_failure)
                delay = self.after_failure
            self.runs += 1
            if delay <= 0:
                await asyncio.sleep(0)  # let the rest of the loop run between back-to-back runs

    async def wait_for_run(self, after: int, timeout: float = 30.0) -> None:
        """Wait until more than `after` runs have completed (tests)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.runs <= after:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the job {self.name!r} did not run")
            await asyncio.sleep(0.005)


class Jobs:
    """The bot's jobs: started together, stopped in the order asked."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, job: Job) -> Job:
        if job.name in self._jobs:
            raise ValueError(f"a job named {job.name!r} exists already")
        self._jobs[job.name] = job
        return job

    def __getitem__(self, name: str) -> Job:
        return self._jobs[name]

    def __contains__(self, name: str) -> bool:
        return name in self._jobs

    @property
    def names(self) -> list[str]:
        return list(self._jobs)

    def start(self) -> None:
        for job in self._jobs.values():
            job.start()

    async def stop(self, *names: str) -> None:
        """Stop the named jobs (all, without names), in the order given; a name not added (the
        bot stopped before its start finished) is skipped."""
        for name in names or tuple(self._jobs):
            if name in self._jobs:
                await self._jobs[name].stop()
