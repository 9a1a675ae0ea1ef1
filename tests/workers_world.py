"""Several bot workers on one PostgreSQL database, as behind a balancer, for story-like tests.

Each worker is a whole Livecart in webhook mode listening on a port of its own; the world plays
the balancer: every update the fake Telegram queues is POSTed to a worker chosen at random (so
one user's updates land on different workers), with the webhook's secret, over HTTP.
"""

from __future__ import annotations

import asyncio
import random
import socket
from dataclasses import dataclass, field, replace

import httpx

from core.config import Config, WebhookConfig
from faketg import FakeTelegram
from runtime.livecart import Livecart
from tests.harness import fake_request

SECRET = "w" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class WorkersWorld:
    tg: FakeTelegram
    config: Config
    workers: list[Livecart] = field(default_factory=list)
    ports: list[int] = field(default_factory=list)
    delivered: list[int] = field(default_factory=list)  # how many updates each worker was given
    rng: random.Random = field(default_factory=lambda: random.Random(27))

    def user(self, first_name: str, language_code: str | None = "en", **kwargs: object):
        return self.tg.user(first_name, language_code=language_code, **kwargs)

    @property
    def store(self):
        return self.workers[0].store

    async def add_worker(self) -> Livecart:
        port = free_port()
        config = replace(self.config, mode="webhook",
                         webhook=WebhookConfig(url="https://shop.example/hook", listen="127.0.0.1", port=port,
                                               secret_token=SECRET))
        bot = Livecart(config, request=fake_request(self.tg), updates_request=fake_request(self.tg, 4))
        await bot.start(polling=False)
        self.workers.append(bot)
        self.ports.append(port)
        self.delivered.append(0)
        return bot

    async def stop_worker(self, index: int) -> None:
        await self.workers[index].stop()
        del self.workers[index], self.ports[index], self.delivered[index]

    async def deliver(self) -> int:
        """POST every queued update to a worker chosen at random; how many were posted."""
        pending = list(self.tg.updates.pending)
        self.tg.updates.pending.clear()
        async with httpx.AsyncClient(timeout=30) as client:
            for update in pending:
                i = self.rng.randrange(len(self.workers))
                response = await client.post(f"http://127.0.0.1:{self.ports[i]}/hook", json=update,
                                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                assert response.status_code == 200, response.text
                self.delivered[i] += 1
        return len(pending)

    async def settle(self) -> None:
        """Return once every update is delivered and handled by some worker and the outboxes are idle."""
        deadline = asyncio.get_running_loop().time() + 120
        while asyncio.get_running_loop().time() < deadline:
            posted = await self.deliver()
            for bot in self.workers:
                await bot.pipeline.idle()
                await bot.outbox.idle()
            unprocessed = await self.store.inbox.unprocessed_count()
            if not posted and not self.tg.updates.pending and not unprocessed and \
                    not any(bot.pipeline.busy for bot in self.workers):
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the workers did not settle within 120 s")

    async def stop(self) -> None:
        for bot in self.workers:
            await bot.stop()
        self.workers.clear()


async def start_workers(config: Config, n: int) -> WorkersWorld:
    world = WorkersWorld(FakeTelegram(), config)
    for _ in range(n):
        await world.add_worker()
    world.tg.set_settle_hook(world.settle)
    return world
