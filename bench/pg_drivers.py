"""Which async PostgreSQL driver for Livecart (issue 27): psycopg 3 with psycopg-pool, or asyncpg.

The workload is the flash sale's hottest transaction, as storage/orders.py place() runs it: the
buyer's open-order count, a conditional stock update (what makes overselling impossible), the
shop's order number, the order and its line, two outbox rows, in one transaction; plus the two
product reads of a card. `--buyers` run at once (the bot's `limits.concurrent_updates`) through a
pool of `--pool` connections, until `--orders` are placed. It prints orders/s, the transaction's
p50/p99 and the process's CPU per order for each driver, side by side, alternating rounds.

Needs a PostgreSQL server and the two drivers (not in the bot's dependencies yet):

    .venv/bin/python -m pip install "psycopg[binary]==3.3.9" "psycopg-pool==3.3.3" "asyncpg==0.32.0"
    .venv/bin/python bench/pg_drivers.py --dsn "postgresql://livecart@/livecart?host=/tmp/pgsock"
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time
from collections.abc import Awaitable, Callable

SCHEMA = """
DROP TABLE IF EXISTS bench_outbox, bench_items, bench_orders, bench_products, bench_shops;
CREATE TABLE bench_shops (id BIGINT PRIMARY KEY, next_number BIGINT NOT NULL);
CREATE TABLE bench_products (id BIGINT PRIMARY KEY, shop_id BIGINT NOT NULL, name TEXT NOT NULL, price BIGINT NOT NULL,
                             stock BIGINT NOT NULL);
CREATE TABLE bench_orders (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, shop_id BIGINT NOT NULL,
                           number BIGINT NOT NULL, buyer_id BIGINT NOT NULL, status TEXT NOT NULL, total BIGINT NOT NULL,
                           created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX bench_orders_buyer ON bench_orders (buyer_id, shop_id, status);
CREATE TABLE bench_items (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id BIGINT NOT NULL,
                          product_id BIGINT NOT NULL, quantity BIGINT NOT NULL, unit_price BIGINT NOT NULL);
CREATE TABLE bench_outbox (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, chat_id BIGINT NOT NULL,
                           method TEXT NOT NULL, params TEXT NOT NULL, not_before DOUBLE PRECISION NOT NULL);
INSERT INTO bench_shops VALUES (1, 1001);
INSERT INTO bench_products VALUES (1, 1, 'Flash oranges', 990, 1000000000);
"""

# The statements of one order ($n placeholders: asyncpg's; psycopg's %s are made from them).
OPEN_ORDERS = "SELECT count(*) FROM bench_orders WHERE buyer_id = $1 AND shop_id = 1 AND status = 'placed'"
TAKE_STOCK = "UPDATE bench_products SET stock = stock - $1 WHERE id = 1 AND stock >= $1 RETURNING stock"
NUMBER = "UPDATE bench_shops SET next_number = next_number + 1 WHERE id = 1 RETURNING next_number - 1"
ORDER = ("INSERT INTO bench_orders (shop_id, number, buyer_id, status, total, created_at) "
         "VALUES (1, $1, $2, 'placed', $3, $4) RETURNING id")
ITEM = "INSERT INTO bench_items (order_id, product_id, quantity, unit_price) VALUES ($1, 1, $2, 990)"
OUTBOX = "INSERT INTO bench_outbox (chat_id, method, params, not_before) VALUES ($1, 'sendMessage', $2, $3)"
CARD = "SELECT id, shop_id, name, price, stock FROM bench_products WHERE id = 1"
RECEIPT = '{"text": "Order placed", "parse_mode": "HTML"}'


def percent_s(sql: str) -> str:
    for n in range(9, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


async def asyncpg_run(dsn: str, pool_size: int) -> tuple[Callable[[int], Awaitable[None]], Callable[[], Awaitable[None]]]:
    import asyncpg

    pool = await asyncpg.create_pool(dsn, min_size=pool_size, max_size=pool_size)

    async def order(buyer: int) -> None:
        async with pool.acquire() as conn:
            await conn.fetchrow(CARD)
            await conn.fetchrow(CARD)
            async with conn.transaction():
                await conn.fetchval(OPEN_ORDERS, buyer)
                if await conn.fetchval(TAKE_STOCK, 1) is None:
                    raise RuntimeError("sold out")
                number = await conn.fetchval(NUMBER)
                order_id = await conn.fetchval(ORDER, number, buyer, 990, time.time())
                await conn.execute(ITEM, order_id, 1)
                await conn.executemany(OUTBOX, [(buyer, RECEIPT, time.time()), (1, RECEIPT, time.time())])

    return order, pool.close


async def psycopg_run(dsn: str, pool_size: int) -> tuple[Callable[[int], Awaitable[None]], Callable[[], Awaitable[None]]]:
    from psycopg_pool import AsyncConnectionPool

    pool = AsyncConnectionPool(dsn, min_size=pool_size, max_size=pool_size, open=False)
    await pool.open(wait=True)
    card, open_orders, take, number_sql = percent_s(CARD), percent_s(OPEN_ORDERS), percent_s(TAKE_STOCK), percent_s(NUMBER)
    order_sql, item_sql, outbox_sql = percent_s(ORDER), percent_s(ITEM), percent_s(OUTBOX)

    async def order(buyer: int) -> None:
        async with pool.connection() as conn:
            await (await conn.execute(card)).fetchone()
            await (await conn.execute(card)).fetchone()
            await conn.commit()  # the reads' implicit transaction ends, as aiosqlite's reads do
            async with conn.transaction():
                await conn.execute(open_orders, (buyer,))
                if (await (await conn.execute(take, (1, 1))).fetchone()) is None:
                    raise RuntimeError("sold out")
                number = (await (await conn.execute(number_sql)).fetchone())[0]
                order_id = (await (await conn.execute(order_sql, (number, buyer, 990, time.time()))).fetchone())[0]
                await conn.execute(item_sql, (order_id, 1))
                async with conn.cursor() as cur:
                    await cur.executemany(outbox_sql, [(buyer, RECEIPT, time.time()), (1, RECEIPT, time.time())])

    return order, pool.close


async def prepare(dsn: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(SCHEMA)
    finally:
        await conn.close()


async def measure(name: str, make, dsn: str, args: argparse.Namespace) -> dict[str, float]:
    await prepare(dsn)
    order, close = await make(dsn, args.pool)
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(args.orders):
        queue.put_nowait(i)

    async def buyer() -> None:
        while not queue.empty():
            i = queue.get_nowait()
            start = time.perf_counter()
            await order(10_000 + i % 5000)
            latencies.append((time.perf_counter() - start) * 1000)

    for _ in range(50):  # warm the pool, the statement caches and the server's
        await order(1)
    cpu0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    await asyncio.gather(*(buyer() for _ in range(args.buyers)))
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    await close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    latencies.sort()
    return {"orders/s": args.orders / wall, "p50": latencies[len(latencies) // 2],
            "p99": latencies[int(len(latencies) * 0.99)], "cpu_ms": cpu / args.orders * 1000}


async def run(args: argparse.Namespace) -> None:
    drivers = {"psycopg 3 + psycopg-pool": psycopg_run, "asyncpg": asyncpg_run}
    results: dict[str, list[dict[str, float]]] = {name: [] for name in drivers}
    for round_ in range(args.rounds):
        order = list(drivers.items()) if round_ % 2 == 0 else list(reversed(drivers.items()))
        for name, make in order:
            figures = await measure(name, make, args.dsn, args)
            results[name].append(figures)
            print(f"round {round_ + 1}: {name:26s} {figures['orders/s']:7.0f} orders/s, transaction p50 "
                  f"{figures['p50']:5.1f} ms p99 {figures['p99']:5.1f} ms, {figures['cpu_ms']:.2f} ms CPU/order "
                  "(this process)", flush=True)
    print(f"\nmedian of {args.rounds} rounds, {args.orders} orders each, {args.buyers} at once, pool {args.pool}:")
    for name, runs in results.items():
        print(f"  {name:26s} {statistics.median(r['orders/s'] for r in runs):7.0f} orders/s, p50 "
              f"{statistics.median(r['p50'] for r in runs):5.1f} ms, p99 {statistics.median(r['p99'] for r in runs):5.1f} "
              f"ms, {statistics.median(r['cpu_ms'] for r in runs):.2f} ms CPU/order")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="e.g. postgresql://livecart@/livecart?host=/tmp/pgsock")
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--buyers", type=int, default=64, help="orders in flight at once (limits.concurrent_updates)")
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
