"""PostgreSQL's migrations give the same schema as SQLite's: tables, columns, keys, indexes.

Runs in the PostgreSQL pass of `./run tests` (LIVECART_TEST_POSTGRES); the SQLite pass has
nothing to compare against.
"""

from __future__ import annotations

import re
import sqlite3

import pytest

from storage.db import LATEST_VERSION, Database
from storage.pg import PgDatabase, pg_migration_files
from tests import harness, pg_databases

pytestmark = pytest.mark.skipif(pg_databases.server_url() is None, reason="needs LIVECART_TEST_POSTGRES")

# SQLite's declared type -> what PostgreSQL's baseline declares for it.
TYPES = {"INTEGER": "bigint", "REAL": "double precision", "TEXT": "text", "BLOB": "bytea"}


def sqlite_schema(path) -> dict[str, object]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        columns, keys, indexes = {}, set(), {}
        for table in tables:
            columns[table] = {(r[1], TYPES[r[2]], bool(r[3]) or bool(r[5]), r[5] > 0)
                              for r in conn.execute(f'PRAGMA table_info("{table}")')}
            for r in conn.execute(f'PRAGMA foreign_key_list("{table}")'):
                keys.add((table, r[3], r[2], r[4], r[6]))
            for r in conn.execute(f'PRAGMA index_list("{table}")'):
                if r[3] == "c":  # created by CREATE INDEX (not a primary key's or UNIQUE's own)
                    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (r[1],)).fetchone()[0]
                    indexes[r[1]] = _index_shape(sql)
        return {"columns": columns, "keys": keys, "indexes": indexes}
    finally:
        conn.close()


def _index_shape(sql: str) -> tuple[bool, str, str]:
    """(unique, the indexed expressions, the WHERE clause), spelled the same for both engines."""
    unique = sql.upper().startswith("CREATE UNIQUE")
    body = sql[sql.index("(", sql.upper().index(" ON ")) + 1:]
    where = ""
    if " WHERE " in body.upper():
        at = body.upper().index(" WHERE ")
        body, where = body[:at], body[at + 7:]
    return unique, _spelled_alike(body.rstrip(")")), _spelled_alike(where)


def _spelled_alike(sql: str) -> str:
    """PostgreSQL prints an index back with parentheses, casts, quotes and `= ANY (ARRAY[...])` for IN."""
    return re.sub(r"[\s()\"]|::\w+", "", sql).lower().replace("=anyarray[", "in").replace("]", "")


async def postgres_schema(url: str) -> dict[str, object]:
    db = await PgDatabase(url, pool_size=2).open()
    try:
        columns: dict[str, set] = {}
        for r in await db.fetch_all(
                """SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'NO',
                          coalesce(k.constraint_type = 'PRIMARY KEY', false)
                   FROM information_schema.columns c
                   LEFT JOIN (SELECT u.table_name, u.column_name, t.constraint_type
                              FROM information_schema.key_column_usage u
                              JOIN information_schema.table_constraints t USING (constraint_name, table_name)
                              WHERE t.constraint_type = 'PRIMARY KEY') k USING (table_name, column_name)
                   WHERE c.table_schema = 'public' AND c.table_name != 'schema_version'"""):
            if r[1] == "rowid":  # SQLite gives every table one; PostgreSQL's baseline spells it out
                continue
            columns.setdefault(r[0], set()).add((r[1], r[2], r[3], r[4]))
        keys = {(r[0], r[1], r[2], r[3], r[4]) for r in await db.fetch_all(
            """SELECT src.relname, a.attname, dst.relname, b.attname,
                      CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'NO ACTION' END
               FROM pg_constraint c JOIN pg_class src ON src.oid = c.conrelid JOIN pg_class dst ON dst.oid = c.confrelid
               JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
               JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1]
               WHERE c.contype = 'f'""")}
        indexes = {r[0]: _index_shape(r[1]) for r in await db.fetch_all(
            """SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
               AND indexname NOT LIKE '%_pkey' AND indexname NOT LIKE '%_key'""")}
        return {"columns": columns, "keys": keys, "indexes": indexes}
    finally:
        await db.close()


async def test_postgres_and_sqlite_migrations_end_at_the_same_schema(tmp_path):
    path = tmp_path / "s.sqlite3"
    await (await Database(path).open()).close()
    lite = sqlite_schema(path)
    assert harness.postgres_database is not None
    pg = await postgres_schema(harness.postgres_database)
    assert sorted(pg["columns"]) == sorted(lite["columns"]), "the same tables"
    for table, cols in lite["columns"].items():
        assert pg["columns"][table] == cols, f"columns of {table}"
    assert pg["keys"] == lite["keys"], "the same foreign keys"
    assert pg["indexes"] == lite["indexes"], "the same indexes"


async def test_postgres_migrations_reach_the_version_sqlite_does():
    assert pg_migration_files()[-1][0] == LATEST_VERSION
    db = await PgDatabase(harness.postgres_database or "", pool_size=2).open()
    try:
        assert await db.schema_version() == LATEST_VERSION
    finally:
        await db.close()


async def test_workers_starting_together_on_a_new_database_migrate_it_once():
    import asyncio
    import uuid

    server = pg_databases.server_url()
    assert server is not None
    name = f"livecart_new_{uuid.uuid4().hex[:8]}"
    admin = await pg_databases._connect(server)  # noqa: SLF001 - the test's own server connection
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        url = pg_databases.database_url(server, name)
        workers = await asyncio.gather(*(PgDatabase(url, pool_size=2).open() for _ in range(3)))
        try:
            assert [await w.schema_version() for w in workers] == [LATEST_VERSION] * 3
            assert await workers[0].fetch_value("SELECT count(*) FROM schema_version") == 1
        finally:
            for w in workers:
                await w.close()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
