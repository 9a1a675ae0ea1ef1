"""The flash sale through the Mini App: N returning buyers open the live bag, tap Buy now and Place
order through the Mini App's API (runtime/miniapp.py, in-process, init data signed per buyer),
with the config's real sending limits against faketg's flood model. bench/flash_sale.py runs it
beside the chat flow's sale and prints both; alone:

    .venv/bin/python bench/miniapp_sale.py --buyers 1000 --stock 500 --telegram-limits both

What it measures: orders/s, messages per order (the receipt only: target 1), each action's wait
(the API call's round trip: what the page shows the buyer), and the time until the last buyer
holds a receipt in the chat.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import collections  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import httpx  # noqa: E402

from bench.figures import percentile  # noqa: E402
from faketg import FakeTelegram  # noqa: E402
from tests.harness import World, fresh_config  # noqa: E402
from tests.miniapp_client import BASE, Page, server_of  # noqa: E402
from tests.stories import save_delivery, shop_with_product_on_link  # noqa: E402

SEND_OR_EDIT = {"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
                "sendDocument", "sendMediaGroup"}
TARGET_MESSAGES_PER_ORDER = 1  # the receipt


@dataclass
class MiniAppRun:
    model: str
    buyers: int = 0
    stock: int = 0
    orders: int = 0
    units: int = 0
    left: int = 0
    held: int = 0
    sold_out_told: int = 0
    waits: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))
    sale_seconds: float = float("nan")  # first call -> the last Place order answered
    last_receipt: float = float("nan")  # first call -> the last receipt in a buyer's chat
    messages_per_order: list[int] = field(default_factory=list)
    flood_refused: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def oversold(self) -> int:
        return self.units + self.left + self.held - self.stock

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.sale_seconds if self.sale_seconds > 0 else float("nan")


async def _timed(waits: list[float], call):
    start = time.perf_counter()
    try:
        return await call
    finally:
        waits.append((time.perf_counter() - start) * 1000)


async def app_buyer(page: Page, slug: str, product_id: int, delay: float, think: float, rng: random.Random,
                    run: MiniAppRun) -> None:
    """One returning buyer: the bag, Buy now, Place order (the saved details, as the page fills them)."""
    await asyncio.sleep(delay)
    bag = await _timed(run.waits["open bag"], page.get("bag", shop=slug))
    bag.raise_for_status()
    link = bag.json()["links"][0]
    me = bag.json()["me"]
    asyncio.ensure_future(page.post("open", {"shop": slug, "slot": 1}))  # the page does not wait for it
    if link["left"] <= 0:
        run.sold_out_told += 1
        return
    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
    token = f"bench-{page.user.id}"
    items = [{"product": product_id, "quantity": 1, "slot": 1, "variant": None}]
    held = await _timed(run.waits["Buy now"], page.post("hold", {"shop": slug, "token": token, "items": items}))
    if held.status_code == 409:
        run.sold_out_told += 1
        return
    held.raise_for_status()
    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)
    placed = await _timed(run.waits["Place order"], page.post("place", {
        "shop": slug, "token": token, "items": held.json()["items"], "address": me["address"],
        "recipient": me["recipient"], "phone": me["phone"]}))
    placed.raise_for_status()


async def miniapp_run(buyers: int, stock: int, model: str, ramp: float, think: float, seed: int) -> MiniAppRun:
    from core.config import LimitsConfig
    from runtime.pacing import Pacer

    run = MiniAppRun(model=model, buyers=buyers, stock=stock)
    with tempfile.TemporaryDirectory(prefix="livecart-bench-app-") as tmp:
        tg = FakeTelegram()
        world = World(tg, await fresh_config(Path(tmp)), None)  # type: ignore[arg-type]
        try:
            await world.start()
            ann, shop, product_id = await shop_with_product_on_link(world, f"Flash oranges, 9.90, {stock}")
            people = [world.user(f"AppBuyer{i}") for i in range(buyers)]
            for person in people:
                await save_delivery(world, person)
                await world.store.users.seen(person.id, person.first_name, None, "en")  # has started the bot
            await world.settle()
            tg.set_settle_hook(None)
            pacer = Pacer(LimitsConfig())  # the config's real limits from here on
            world.bot.outbox.pacer = pacer
            world.bot.app.bot.rate_limiter.pacer = pacer
            tg.limit_flood(model)
            calls_before = len(tg.calls)
            rng = random.Random(seed)
            delays = sorted(rng.uniform(0, ramp) for _ in people)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server_of(world)), base_url=BASE,
                                         limits=limits, timeout=300) as client:
                t0 = time.time()
                outcomes = await asyncio.gather(*(
                    app_buyer(Page(client, p), shop.slug, product_id, d, think, random.Random(seed * 7919 + i), run)
                    for i, (p, d) in enumerate(zip(people, delays))), return_exceptions=True)
                run.sale_seconds = time.time() - t0
            await world.bot.settle()
            run.errors = [f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException)]
            sale_calls = tg.calls[calls_before:]
            ids = {p.id for p in people}
            per_chat = collections.Counter(c.chat_id for c in sale_calls if c.ok and c.method in SEND_OR_EDIT
                                           and c.chat_id in ids)
            receipts = [c.time for c in sale_calls if c.ok and c.method == "sendMessage" and c.chat_id in ids]
            run.last_receipt = max(receipts) - t0 if receipts else float("nan")
            run.flood_refused = sum(1 for c in sale_calls if c.error_code == 429)
            db = world.store.db
            ordered = [r[0] for r in await db.fetch_all(
                "SELECT DISTINCT o.buyer_id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE i.product_id = ?",
                (product_id,))]
            run.orders = len(ordered)
            run.messages_per_order = [per_chat[b] for b in ordered]
            run.units = await db.fetch_value("SELECT coalesce(sum(quantity), 0) FROM order_items WHERE product_id = ?",
                                             (product_id,))
            run.left = (await world.store.products.get(product_id)).stock
            run.held = await db.fetch_value("SELECT coalesce(sum(quantity), 0) FROM holds WHERE product_id = ?",
                                            (product_id,))
        finally:
            await world.stop()
    return run


def report_miniapp(run: MiniAppRun) -> None:
    print(f"-- the same sale through the Mini App, model {run.model!r}: {run.buyers} returning buyers open the bag, "
          "Buy now, Place order (API round trips)")
    print(f"  {run.orders} orders in {run.sale_seconds:.1f} s ({run.orders_per_second:.0f} orders/s); the last buyer "
          f"held a receipt in the chat {run.last_receipt:.1f} s after the first call; 429s {run.flood_refused}")
    for step, waits in run.waits.items():
        print(f"    {step:14s} p50 {percentile(waits, .5):7.0f} ms  p95 {percentile(waits, .95):7.0f} ms  "
              f"p99 {percentile(waits, .99):7.0f} ms  ({len(waits)})")
    worst = max(run.messages_per_order, default=0)
    print(f"  messages per order max {worst}; sold out told at the bag or Buy now {run.sold_out_told}; units "
          f"{run.units}, stock left {run.left}, held {run.held}, oversold {run.oversold}; errors {len(run.errors)}")
    if run.errors:
        print(f"  first error: {run.errors[0]}")


def report_miniapp_targets(run: MiniAppRun) -> None:
    ok = run.oversold == 0 and run.orders == min(run.buyers, run.stock) and not run.errors
    print(f"  [{'PASS' if ok else 'FAIL'}] Mini App, {run.model} model: oversold {run.oversold} == 0, orders "
          f"{run.orders} == {min(run.buyers, run.stock)}, errors {len(run.errors)}")
    worst = max(run.messages_per_order, default=0)
    print(f"  [{'PASS' if 0 < worst <= TARGET_MESSAGES_PER_ORDER else 'FAIL'}] Mini App, {run.model} model: "
          f"messages per order {worst} <= {TARGET_MESSAGES_PER_ORDER} (the receipt)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=1000)
    parser.add_argument("--stock", type=int, default=500)
    parser.add_argument("--ramp", type=float, default=10.0, help="buyers arrive within this many seconds")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a buyer reads before the next tap (x0.5-1.5)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--telegram-limits", choices=("documented", "strict", "both"), default="both")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    models = ["documented", "strict"] if args.telegram_limits == "both" else [args.telegram_limits]
    runs = [asyncio.run(miniapp_run(args.buyers, args.stock, m, args.ramp, args.think, args.seed)) for m in models]
    for run in runs:
        report_miniapp(run)
    print("targets:")
    for run in runs:
        report_miniapp_targets(run)
    return 1 if any(r.errors for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
