"""Shared fixtures: `world` is the bot running against a fresh fake Telegram and database."""

from __future__ import annotations

import asyncio

import pytest

from tests import harness, pg_databases
from tests.harness import World, start_world


@pytest.fixture(autouse=True)
async def _database_of_the_test(request):
    """On PostgreSQL (LIVECART_TEST_POSTGRES), a fresh database for the test; tests that are about
    SQLite's file itself (backups, locks, its migrations) are marked sqlite_only and skipped."""
    server = pg_databases.server_url()
    if server is None:
        yield
        return
    if request.node.get_closest_marker("sqlite_only"):
        pytest.skip("about SQLite's file; the PostgreSQL run has its own tests for this")
    harness.postgres_database = await pg_databases.empty_test_database(server)
    harness.forget_postgres_paths()
    try:
        yield
    finally:
        harness.postgres_database = None


@pytest.fixture
async def world(tmp_path) -> World:
    w = await start_world(tmp_path)
    try:
        yield w
    finally:
        await w.stop()


# Modules that never open a database: the PostgreSQL pass leaves them to the SQLite pass (the
# linters alone take a minute, and CI runs both passes within its 15).
ENGINE_FREE = frozenset({
    "test_lint", "test_deploy", "test_run_script", "test_database_target", "test_catalogs", "test_config_operations",
    "test_faketg_flood", "test_link_codec", "test_money", "test_qr", "test_quantity", "test_regions", "test_stock",
    "test_tracking", "test_waybills",
})


def pytest_collection_modifyitems(config, items):
    if pg_databases.server_url() is None:
        return
    skip = pytest.mark.skip(reason="no database in this module: the SQLite pass runs it")
    for item in items:
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in ENGINE_FREE:
            item.add_marker(skip)


def pytest_sessionfinish(session):
    server = pg_databases.server_url()
    if server is not None:
        asyncio.run(pg_databases.drop_test_database(server))


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: about SQLite's file itself; skipped on PostgreSQL")
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
