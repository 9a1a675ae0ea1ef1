"""Runs the real bot against the fake Telegram, in-process, for story-like tests.

    async def test_something(world):
        ann = world.user("Ann")
        await ann.send("/start")          # returns once the bot has handled it all
        assert "Livecart" in ann.last.text
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from telegram.request import HTTPXRequest

from core.config import Config, LimitsConfig, parse_config
from faketg import FakeTelegram
from runtime.livecart import Livecart
from runtime.telegram_request import TelegramRequest

TEST_TOKEN = "123456789:TEST-token-for-the-fake-telegram"


# The test's PostgreSQL database when the suite runs on PostgreSQL (tests/conftest.py sets it),
# else None: each test's database is a SQLite file in its tmp_path.
postgres_database: str | None = None
_postgres_paths: set[Path] = set()  # the tmp paths worlds started on in this test (PostgreSQL)


def test_database(tmp_path: Path) -> str:
    return postgres_database or str(tmp_path / "livecart.sqlite3")


def make_config(tmp_path: Path, **overrides: object) -> Config:
    config = parse_config({"bot": {"token": TEST_TOKEN}, "storage": {"database": test_database(tmp_path)},
                           "telegram": {"api_base_url": "http://faketg/bot", "file_base_url": "http://faketg/file/bot"}},
                          env={})
    # Tests must not wait on Telegram's real pace; the pacing itself has its own tests.
    fast = LimitsConfig(sends_per_second=100_000.0, sends_per_chat_per_second=100_000.0,
                        sends_per_group_per_minute=100_000.0, all_chats_per_second=100_000.0)
    return replace(config, limits=fast, **overrides)  # type: ignore[arg-type]


def fake_request(tg: FakeTelegram, pool: int = 512, kind: type[HTTPXRequest] = TelegramRequest) -> HTTPXRequest:
    """The bot's HTTP layer (or `kind`, e.g. PTB's own HTTPXRequest) wired to the fake in-process."""
    return kind(
        connection_pool_size=pool,
        httpx_kwargs={"transport": httpx.ASGITransport(app=tg)},
        read_timeout=60, write_timeout=60, connect_timeout=60, pool_timeout=60,
    )


@dataclass
class World:
    """A fake Telegram with the bot running against it."""

    tg: FakeTelegram
    config: Config
    bot: Livecart

    def user(self, first_name: str, language_code: str | None = "en", **kwargs: object):
        return self.tg.user(first_name, language_code=language_code, **kwargs)

    @property
    def store(self):
        assert self.bot.store is not None
        return self.bot.store

    async def start(self) -> None:
        self.bot = Livecart(self.config, request=fake_request(self.tg), updates_request=fake_request(self.tg, 4),
                            long_poll=1)
        await self.bot.start()
        self.tg.set_settle_hook(self.settle)

    async def stop(self) -> None:
        await self.bot.stop()

    async def restart(self) -> None:
        """Stop the bot and start it again on the same database (state must survive)."""
        await self.stop()
        await self.start()
        await self.settle()

    async def settle(self) -> None:
        """Return once every update sent so far is handled and the outbox has sent what is due."""
        deadline = asyncio.get_running_loop().time() + 120
        while asyncio.get_running_loop().time() < deadline:
            if self.tg.pending_updates() == 0 and not self.bot.pipeline.busy:
                await self.bot.settle()
                if self.tg.pending_updates() == 0 and not self.bot.pipeline.busy:
                    return
            await asyncio.sleep(0.002)
        raise AssertionError("the bot did not settle within 120 s: updates are still pending")


async def start_world(tmp_path: Path, **config_overrides: object) -> World:
    if postgres_database is not None:
        await _fresh_postgres_for(tmp_path)
    tg = FakeTelegram()
    world = World(tg, make_config(tmp_path, **config_overrides), None)  # type: ignore[arg-type]
    await world.start()
    return world


async def _fresh_postgres_for(tmp_path: Path) -> None:
    """A world started on a new path gets an empty database, as a new SQLite file would be (one
    test starting many worlds: the fuzz stories); the same path again keeps its data (a restart)."""
    from tests import pg_databases

    if _postgres_paths and tmp_path not in _postgres_paths:
        server = pg_databases.server_url()
        assert server is not None
        await pg_databases.empty_test_database(server)
    _postgres_paths.add(tmp_path)


def forget_postgres_paths() -> None:
    _postgres_paths.clear()


async def fresh_config(tmp_path: Path) -> Config:
    """The config of a bench run on a fresh database: a SQLite file in `tmp_path`, or, when a
    PostgreSQL server is given (bench/flash_sale.py --postgres), the bench's database there, emptied."""
    from tests import pg_databases

    global postgres_database
    server = pg_databases.server_url()
    if server is not None:
        postgres_database = await pg_databases.empty_test_database(server)
    return make_config(tmp_path)
