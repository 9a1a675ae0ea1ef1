#!/usr/bin/env python
"""How the summaries and the CSV export hold up at scale.

Builds one database with 1,000,000 orders across 2,000 shops, 180 days of history, in which one
busy shop has 100,000 orders (a flash-sale day of 5,000 yesterday, 1,500 today by 21:05, one
live session every evening with link opens), then times with the real store (aiosqlite, the
app's own queries and indexes; no ANALYZE):

- the busy shop's daily summary (all figures + the text; the chart drawing separately),
- the same for its flash-sale day and for 30 days,
- the operator's all-shops summary (today, and 30 days) over the 1,000,000 orders,
- the scheduler's "who is due" query over all shops,
- a day's CSV export of the busy shop (storage/orders.py export_rows + handlers/export.py render_csv),

and prints peak Python memory (tracemalloc) per step, the process's peak RSS, the query plans
of the summary's SQL and the machine it ran on. Targets: summary under 200 ms, a day's export
under 1 s.

    .venv/bin/python bench/summary_scale.py [--orders 1000000] [--big 100000] [--shops 2000]
                                            [--db /tmp/scale.sqlite3 [--reuse]]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.i18n import translator  # noqa: E402
from core.summary import period_for, local_clock  # noqa: E402
from handlers.export import render_csv  # noqa: E402
from handlers.summaries import (  # noqa: E402
    operator_report, render_operator_summary, render_shop_chart, render_shop_summary, shop_report,
)
from storage import Store  # noqa: E402
from storage.db import Database  # noqa: E402

ZONE = "Asia/Shanghai"
DAYS = 180
PRODUCTS_PER_SHOP = 20
USERS = 200_000
CHUNK = 50_000
BIG = 1  # the busy shop's id
SUMMARY_TARGET_MS = 200
EXPORT_TARGET_MS = 1000


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem_gb = float("nan")
    return (f"{platform.system()} {platform.release()} {platform.machine()}; CPU {cpu} x{os.cpu_count()}; "
            f"RAM {mem_gb:.1f} GiB; Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}")


def local(day: date, hour: int, minute: int = 0) -> float:
    return datetime.combine(day, dtime(hour, minute), ZoneInfo(ZONE)).timestamp()


# ---------------------------------------------------------------- building the database

def _evening_time(rng: random.Random, day: date, end: float | None) -> float:
    """A moment of `day`, most orders in the evening live hours."""
    start = local(day, 0)
    if rng.random() < 0.6:
        t = local(day, 19) + rng.random() * 4 * 3600
    else:
        t = start + rng.random() * 86400
    if end is not None and t >= end:
        t = start + rng.random() * (end - start)
    return t


def build(path: Path, orders_total: int, big_total: int, shops: int, now: float, today: date) -> dict[str, float]:
    """Fill a freshly migrated database; returns timings of the build steps."""
    rng = random.Random(20250314)
    timings: dict[str, float] = {}
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -200000")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO users (id, first_name, username, language_code, created_at, updated_at) "
        "VALUES (?, ?, ?, 'zh', 0, 0)",
        ((i, f"买家{i}", f"buyer{i}" if i % 3 else None) for i in range(1, USERS + 1)))
    history_start = local(today - timedelta(days=DAYS), 0)
    conn.executemany(
        "INSERT INTO shops (id, slug, name, owner_id, currency, timezone, created_at, next_order_number) "
        "VALUES (?, ?, ?, ?, 'CNY', ?, ?, 1001)",
        ((s, f"s{s:06d}", f"店铺 {s}" if s != BIG else "绿山橙园 Green Hill", s, ZONE, history_start - 86400)
         for s in range(1, shops + 1)))
    conn.executemany(
        "INSERT INTO shop_members (shop_id, user_id, role, added_at) VALUES (?, ?, 'owner', 0)",
        ((s, s) for s in range(1, shops + 1)))
    prices = {}
    product_rows = []
    for s in range(1, shops + 1):
        for k in range(PRODUCTS_PER_SHOP):
            pid = (s - 1) * PRODUCTS_PER_SHOP + k + 1
            prices[pid] = rng.choice((990, 1990, 2500, 3990, 5800, 8800, 12800))
            product_rows.append((pid, s, f"商品 {k + 1} 号 5kg", prices[pid], rng.randint(0, 60)))
    conn.executemany("INSERT INTO products (id, shop_id, name, price, stock, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, 0, 0)", product_rows)
    # The busy shop goes live every evening, 19:00 to 21:00.
    sessions = {}
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        sessions[day] = len(sessions) + 1
        conn.execute("INSERT INTO live_sessions (id, shop_id, title, started_at, ended_at) VALUES (?, ?, ?, ?, ?)",
                     (sessions[day], BIG, f"晚场 {day}", local(day, 19), local(day, 21)))
    conn.execute("COMMIT")
    timings["users, shops, products, sessions"] = time.perf_counter() - started

    # Orders per day: the busy shop's fixed plan, the rest spread over the other shops (a few are big).
    yesterday = today - timedelta(days=1)
    big_plan = {yesterday: 5000, today: 1500}
    rest_days = [today - timedelta(days=b) for b in range(DAYS, 1, -1)]
    per_day_big = (big_total - sum(big_plan.values())) // len(rest_days)
    for day in rest_days:
        big_plan[day] = per_day_big
    big_plan[rest_days[-1]] += big_total - sum(big_plan.values())
    others = orders_total - big_total
    weights = [1 / (rank ** 0.8) for rank in range(1, shops)]
    cumulative = list(_accumulate(weights))
    per_day_other = others // (DAYS + 1)
    numbers = {s: 1000 for s in range(1, shops + 1)}
    order_id = item_count = open_count = 0
    started = time.perf_counter()
    orders_buf, items_buf, opens_buf = [], [], []

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany(
            """INSERT INTO orders (id, shop_id, number, buyer_id, status, currency, total, units, phone, recipient,
                   address, slot, session_id, checkout_token, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, 'CNY', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", orders_buf)
        conn.executemany("INSERT INTO order_items (order_id, product_id, name, unit_price, quantity) "
                         "VALUES (?, ?, ?, ?, ?)", items_buf)
        conn.executemany("INSERT INTO link_opens (shop_id, kind, slot, product_id, session_id, user_id, opened_at) "
                         "VALUES (?, 'slot', ?, ?, ?, ?, ?)", opens_buf)
        conn.execute("COMMIT")
        orders_buf.clear()
        items_buf.clear()
        opens_buf.clear()

    all_days = [today - timedelta(days=b) for b in range(DAYS, -1, -1)]
    for day in all_days:
        end = now if day == today else None
        count_other = per_day_other if day != all_days[-1] else others - per_day_other * DAYS
        day_orders = [(_evening_time(rng, day, end), BIG) for _ in range(big_plan.get(day, 0))]
        shops_of_day = rng.choices(range(2, shops + 1), cum_weights=cumulative, k=count_other)
        day_orders += [(_evening_time(rng, day, end), s) for s in shops_of_day]
        day_orders.sort()
        recent = (today - day).days <= 2
        for created, shop in day_orders:
            order_id += 1
            numbers[shop] += 1
            lines = rng.choice((1, 1, 1, 2, 2, 3))
            first_product = (shop - 1) * PRODUCTS_PER_SHOP + 1
            chosen = rng.sample(range(first_product, first_product + PRODUCTS_PER_SHOP), lines)
            total = units = 0
            for pid in chosen:
                qty = rng.choice((1, 1, 1, 2, 3))
                items_buf.append((order_id, pid, f"商品 {pid - first_product + 1} 号 5kg", prices[pid], qty))
                total += prices[pid] * qty
                units += qty
            item_count += lines
            roll = rng.random()
            if roll < 0.05:
                status = "cancelled"
            elif recent:
                status = "placed" if roll < 0.6 else "confirmed"
            else:
                status = "delivered" if roll < 0.95 else "shipped"
            buyer = rng.randint(1, 30_000) if shop == BIG else rng.randint(1, USERS)
            in_session = shop == BIG and local(day, 19) <= created < local(day, 21)
            slot = rng.randint(1, 8) if in_session else (rng.randint(1, 5) if rng.random() < 0.3 else None)
            session = sessions[day] if in_session else None
            orders_buf.append((order_id, shop, numbers[shop], buyer, status, total, units, "+8613800138000",
                               f"收件人{buyer}", f"湖北省宜昌市夷陵区橘乡路{buyer % 500}号", slot, session,
                               f"bench-{order_id}", created, created))
            if slot is not None:
                for _ in range(3 if shop == BIG else 1):
                    opens_buf.append((shop, slot, chosen[0], session, rng.randint(1, USERS),
                                      created - rng.random() * 600))
                    open_count += 1
            if len(orders_buf) >= CHUNK:
                flush()
    flush()
    conn.execute("UPDATE shops SET next_order_number = ? WHERE id = ?", (numbers[BIG] + 1, BIG))
    conn.close()
    timings[f"{order_id:,} orders, {item_count:,} items, {open_count:,} link opens"] = time.perf_counter() - started
    return timings


def _accumulate(values):
    total = 0.0
    for v in values:
        total += v
        yield total


# ---------------------------------------------------------------- measuring

async def measure(work, runs: int = 5) -> tuple[float, float, float, float]:
    """A cold run, `runs` warm ones, then one under tracemalloc: (cold ms, median ms, max ms, peak
    Python MiB). Timed runs are not traced (tracing slows Python down several times)."""
    t = time.perf_counter()
    await work()
    cold = (time.perf_counter() - t) * 1000
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        await work()
        warm.append((time.perf_counter() - t) * 1000)
    tracemalloc.start()
    await work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return cold, statistics.median(warm), max(warm), peak / 2**20


def plans(path: Path, start: float, end: float) -> list[str]:
    """The query plans of the summary's SQL (from storage/summaries.py), one line each step."""
    conn = sqlite3.connect(path)
    queries = {
        "figures": ("SELECT count(*), sum(total) FROM orders WHERE shop_id = ? AND created_at >= ? AND created_at < ?",
                    (BIG, start, end)),
        "new buyers": ("SELECT 1 FROM orders p WHERE p.buyer_id = ? AND p.created_at < ? AND p.shop_id = ? "
                       "AND p.status != 'cancelled'", (1, start, BIG)),
        "pending": ("SELECT count(*), min(created_at) FROM orders WHERE shop_id = ? AND status IN (?, ?)",
                    (BIG, "placed", "confirmed")),
        "opens": ("SELECT count(*), count(DISTINCT user_id) FROM link_opens WHERE shop_id = ? AND opened_at >= ? "
                  "AND opened_at < ?", (BIG, start, end)),
        "sessions": ("SELECT id FROM live_sessions WHERE shop_id = ? AND started_at < ? AND "
                     "(ended_at IS NULL OR ended_at >= ?)", (BIG, end, start)),
        "all shops": ("SELECT currency, count(*) FROM orders WHERE created_at >= ? AND created_at < ? "
                      "AND status != 'cancelled' GROUP BY currency", (start, end)),
        "export": ("SELECT o.number FROM orders o JOIN users u ON u.id = o.buyer_id WHERE o.shop_id = ? "
                   "AND o.created_at >= ? AND o.created_at < ? ORDER BY o.number", (BIG, start, end)),
    }
    lines = []
    for name, (sql, params) in queries.items():
        steps = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        lines.append(f"  {name:<11} " + " | ".join(steps))
    conn.close()
    return lines


async def run(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    workdir = None
    if args.db:
        path = Path(args.db)
    else:
        workdir = tempfile.TemporaryDirectory(prefix="livecart-scale-")
        path = Path(workdir.name) / "scale.sqlite3"
    today = datetime.now(ZoneInfo(ZONE)).date()
    now = local(today, 21, 5)  # the summary moment: today at 21:05 in the shops' time zone
    if args.reuse and path.exists():
        print(f"\nreusing {path} (built on an earlier day, its 'today' may be empty)")
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        await (await Database(path).open()).close()  # the app's schema, every migration applied
        started = time.perf_counter()
        timings = build(path, args.orders, args.big, args.shops, now, today)
        print(f"\nbuilt {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s:")
        for step, seconds in timings.items():
            print(f"  {step}: {seconds:.1f} s")

    store = await Store.open(path)
    try:
        shop = await store.shops.get(BIG)
        orders_in_shop = await store.db.fetch_value("SELECT count(*) FROM orders WHERE shop_id = ?", (BIG,))
        print(f"\nbusy shop: {orders_in_shop:,} orders; all shops: "
              f"{await store.db.fetch_value('SELECT count(*) FROM orders'):,} orders")
        t = translator("zh")
        t("summary.title", shop="", period="")  # load the message catalog once, as a running bot has
        settings = await store.summaries.settings(BIG)
        results = []

        def shop_summary(kind: str):
            async def work():
                period = period_for(kind, now, ZONE)
                report = await shop_report(store, shop, period, settings.low_stock, now)
                render_shop_summary(t, report)
                work.report = report  # type: ignore[attr-defined]
            return work

        today_work = shop_summary("today")
        results.append(("daily summary, busy shop, today (figures + text)", await measure(today_work),
                        SUMMARY_TARGET_MS))
        results.append(("summary, busy shop, flash-sale day (yesterday)", await measure(shop_summary("yesterday")),
                        SUMMARY_TARGET_MS))
        results.append(("summary, busy shop, last 30 days", await measure(shop_summary("month")), None))

        async def chart():
            await asyncio.to_thread(render_shop_chart, t, today_work.report)
        results.append(("chart PNG of 14 days (in a thread)", await measure(chart, runs=3), None))

        def operator(kind: str):
            async def work():
                render_operator_summary(t, await operator_report(store, period_for(kind, now, ZONE)))
            return work
        results.append(("operator summary, all shops, today", await measure(operator("today")),
                        SUMMARY_TARGET_MS))
        results.append(("operator summary, all shops, last 30 days", await measure(operator("month"), runs=3),
                        None))

        async def due():
            clock = local_clock(now, ZONE)
            await store.summaries.due_shops(ZONE, clock.date, clock.minute, clock.midnight)
        results.append((f"who is due now ({args.shops:,} shops)", await measure(due), None))

        def export(day: date):
            async def work():
                rows = await store.orders.export_rows(BIG, local(day, 0), local(day + timedelta(days=1), 0))
                render_csv(t, rows, ZONE)
                work.count = len(rows)  # type: ignore[attr-defined]
            return work
        peak_day = export(today - timedelta(days=1))
        results.append(("export a day, busy shop, flash-sale day (CSV)", await measure(peak_day, runs=3),
                        EXPORT_TARGET_MS))
        results.append(("export a day, busy shop, today (CSV)", await measure(export(today), runs=3),
                        EXPORT_TARGET_MS))

        print(f"\n{'step':<52} {'cold':>8} {'median':>8} {'max':>8} {'py peak':>10}  target")
        for name, (cold, median, worst, peak), target in results:
            verdict = "" if target is None else (f"< {target} ms " + ("OK" if worst < target else "MISSED"))
            print(f"{name:<52} {cold:6.1f}ms {median:6.1f}ms {worst:6.1f}ms {peak:7.2f}MiB  {verdict}")
        print(f"(the flash-sale day's export has {peak_day.count:,} orders)")  # type: ignore[attr-defined]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\npeak RSS of the whole run (build included): {rss:.0f} MiB")
        period = period_for("today", now, ZONE)
        print("\nquery plans (no full scans of orders):")
        for line in plans(path, period.start, period.end):
            print(line)
    finally:
        await store.close()
        if workdir is not None and not args.keep:
            workdir.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000, help="orders across all shops")
    parser.add_argument("--big", type=int, default=100_000, help="orders of the busy shop (part of --orders)")
    parser.add_argument("--shops", type=int, default=2000)
    parser.add_argument("--db", help="where to build the database (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--reuse", action="store_true", help="with --db: time an existing database, don't rebuild")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
