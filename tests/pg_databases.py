"""An empty PostgreSQL database for each test, when the suite runs on PostgreSQL.

`LIVECART_TEST_POSTGRES` names a server (`postgresql://user@/postgres?host=/tmp/pgsock`); `./run
tests` sets it when one is reachable, and then runs the suite a second time on it. Each pytest
process migrates one database of its own once, and empties it before every test: every table's
rows deleted and every identity restarted at 1, as in a new SQLite file (1 ms, where
CREATE DATABASE from a template took up to a second and TRUNCATE 60 ms).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

SERVER_ENV = "LIVECART_TEST_POSTGRES"
_ready: dict[str, str] = {}  # server -> (database url, the statement that empties it)


def server_url() -> str | None:
    return os.environ.get(SERVER_ENV) or None


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _connect(url: str):
    import asyncpg

    return await asyncpg.connect(url)


async def _create(server: str) -> str:
    from storage.pg import PgDatabase

    name = f"livecart_test_{os.getpid()}"
    conn = await _connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    finally:
        await conn.close()
    url = database_url(server, name)
    await (await PgDatabase(url, pool_size=2).open()).close()
    conn = await _connect(url)
    try:
        tables = [r[0] for r in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename != 'schema_version'")]
        identities = await conn.fetch("SELECT table_name, column_name FROM information_schema.columns"
                                      " WHERE table_schema = 'public' AND is_identity = 'YES'")
    finally:
        await conn.close()
    # Foreign keys are not checked while emptying (replica role), so the order of tables is free.
    _ready[server] = url
    _EMPTY[url] = "; ".join(["SET session_replication_role = replica", *(f"DELETE FROM {t}" for t in tables),
                             *(f"ALTER TABLE {r[0]} ALTER COLUMN {r[1]} RESTART" for r in identities),
                             "SET session_replication_role = DEFAULT"])
    return url


_EMPTY: dict[str, str] = {}


async def empty_test_database(server: str) -> str:
    """This process's test database, emptied: its URL."""
    url = _ready.get(server) or await _create(server)
    conn = await _connect(url)
    try:
        await conn.execute(_EMPTY[url])
    finally:
        await conn.close()
    return url


async def drop_test_database(server: str) -> None:
    url = _ready.pop(server, None)
    if url is None:
        return
    conn = await _connect(server)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')
    finally:
        await conn.close()


def find_server() -> str | None:
    """The server for the PostgreSQL pass: LIVECART_TEST_POSTGRES, else one on the local socket
    that lets this user in (Debian's default), else None."""
    import asyncio
    import getpass

    candidates = [server_url()] if server_url() else [
        f"postgresql://{getpass.getuser()}@/postgres?host=/var/run/postgresql"]

    async def reachable(url: str) -> bool:
        try:
            conn = await asyncio.wait_for(_connect(url), 3)
        except Exception:  # noqa: BLE001 - unreachable, refused, no such role: no PostgreSQL pass
            return False
        await conn.close()
        return True

    for url in candidates:
        if url and asyncio.run(reachable(url)):
            return url
    return None


if __name__ == "__main__":  # ./run tests: prints the server's URL when there is one to test on
    found = find_server()
    if found:
        print(found)
