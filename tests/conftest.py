"""Shared fixtures: `world` is the bot running against a fresh fake Telegram and database."""

from __future__ import annotations

import pytest

from tests.harness import World, start_world


@pytest.fixture
async def world(tmp_path) -> World:
    w = await start_world(tmp_path)
    try:
        yield w
    finally:
        await w.stop()
