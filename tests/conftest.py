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


def pytest_configure(config):
    config.addinivalue_line("markers", "suspends_transactions: the test suspends a write transaction on "
                                       "purpose (to prove the writer gate serialises them)")


@pytest.fixture(autouse=True)
def _transactions_run_only_their_own_statements(request):
    """Every test fails if a write transaction waited on anything but its own statements (a Bot
    API call, a read through another connection, handler code that awaits): storage/db.py."""
    from storage import db

    before = len(db.suspensions)
    yield
    new = db.suspensions[before:]
    if request.node.get_closest_marker("suspends_transactions"):
        return
    assert not new, ("a write transaction did more than its own statements; gather what its messages "
                     "need before the storage call (handlers/notices.Reach):\n" + "\n".join(new))
