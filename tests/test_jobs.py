"""The one way periodic work runs and stops (runtime/jobs.py), and that the bot runs all of it."""

from __future__ import annotations

import asyncio

import pytest

from runtime.jobs import Job, Jobs


async def test_a_failing_run_is_logged_and_the_job_runs_again(caplog):
    calls = []

    async def flaky() -> float:
        calls.append(len(calls))
        if len(calls) == 1:
            raise RuntimeError("the database is busy")
        return 3600.0

    job = Job("flaky", flaky, every=3600.0, after_failure=0.0)
    job.start()
    await job.wait_for_run(1)
    await job.stop()
    assert calls == [0, 1]
    assert "flaky failed; trying again in 0s" in caplog.text


async def test_a_wake_during_a_run_is_kept_for_the_next_run():
    # The outbox's case: a commit queues a message while the sender is already looking.
    looking, seen = asyncio.Event(), []
    release = asyncio.Event()

    async def work() -> None:
        seen.append(len(seen))
        if len(seen) == 1:
            looking.set()
            await release.wait()
        return None  # then the job's interval: an hour

    job = Job("outbox-like", work, every=3600.0)
    job.start()
    await looking.wait()
    job.wake()  # comes while the first run is still at work
    release.set()
    await job.wait_for_run(1, timeout=5)
    await job.stop()
    assert seen == [0, 1]  # ran again at once, not an hour later


async def test_the_delay_a_run_returns_sets_the_next_run():
    runs = []

    async def work() -> float:
        runs.append(asyncio.get_running_loop().time())
        return 0.0 if len(runs) < 3 else 3600.0

    job = Job("clock", work, every=3600.0)
    job.start()
    await job.wait_for_run(2)
    await job.stop()
    assert len(runs) == 3


async def test_jobs_stop_in_the_order_asked_and_unknown_names_are_skipped():
    stopped: list[str] = []
    jobs = Jobs()
    for name in ("summaries", "outbox"):
        async def idle() -> float:
            return 3600.0
        job = jobs.add(Job(name, idle, every=3600.0))
        original = job.stop

        async def stop(name=name, original=original) -> None:
            stopped.append(name)
            await original()
        job.stop = stop  # type: ignore[method-assign]
    jobs.start()
    await jobs.stop("outbox", "never-added", "summaries")
    assert stopped == ["outbox", "summaries"]
    with pytest.raises(ValueError):
        jobs.add(Job("outbox", idle, every=1.0))


async def test_the_bot_runs_all_its_periodic_work_as_jobs(world):
    jobs = world.bot.jobs
    assert set(jobs.names) >= {"outbox", "summaries", "payment-clock", "hold-clock", "housekeeping"}
    for name in jobs.names:
        assert jobs[name].running, name


async def test_a_stop_arriving_as_the_job_is_woken_still_stops_it():
    """The outbox's job is woken by every commit; a stop landing on the same turn of the loop as a
    wake must not be lost (Python 3.11's wait_for swallowed such a cancel: the bot's stop hung)."""
    async def work():
        return None

    for _ in range(200):
        job = Job("outbox-like", work, every=3600.0, first_in=3600.0)
        job.start()
        await asyncio.sleep(0)  # the loop is waiting for a wake
        job.wake()
        await asyncio.wait_for(job.stop(), timeout=2)
        assert not job.running
