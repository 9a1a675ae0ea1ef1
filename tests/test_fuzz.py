"""Fuzzing: random sequences of updates from random users never crash a handler, and the shop's
invariants hold afterwards (stock never negative, totals add up, only legal status steps)."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.orders import TRANSITIONS, Status
from tests.harness import start_world
from tests.stories import add_product, current_shop, merchant_with_shop

COMMANDS = ["/start", "/help", "/cancel", "/language", "/newshop", "/myshop", "/addproduct", "/products", "/live",
            "/live start", "/live end", "/cart", "/myorders", "/orders", "/export", "/packlist", "/staff",
            "/addproduct Tea, 9.9, 3", "/export all", "/start l_zzzz_1", "/start s_", "/start p_abcd_99"]
ACTIONS = ["b.q", "b.now", "b.ok", "b.use", "b.p", "b.shop", "c.set", "c.go", "cat.edit", "cat.vis", "cat.delok",
           "live.pin", "live.swap", "live.clear", "d.conf", "d.ship", "d.shipnow", "d.cancel", "d.done", "o.cancelok",
           "o.recv", "shop.use", "lang", "st.rm", "d.rng"]

step = st.one_of(
    st.tuples(st.just("text"), st.sampled_from([0, 1, 2, 3]), st.one_of(st.text(max_size=80), st.sampled_from(
        ["39.90", "+5", "-500", "=0", "SF 123", "13800138000", "Bob", "8 Orchard Lane, Yichang", "<b>&x</b>"]))),
    st.tuples(st.just("command"), st.sampled_from([0, 1, 2, 3]), st.sampled_from(COMMANDS)),
    st.tuples(st.just("tap"), st.sampled_from([0, 1, 2, 3]), st.integers(0, 20)),
    st.tuples(st.just("forge"), st.sampled_from([0, 1, 2, 3]),
              st.tuples(st.sampled_from(ACTIONS), st.lists(st.integers(-2, 1100), max_size=3))),
    st.tuples(st.just("junk"), st.sampled_from([0, 1, 2, 3]), st.text(min_size=1, max_size=64)),
    st.tuples(st.just("contact"), st.sampled_from([0, 1, 2, 3]), st.none()),
    st.tuples(st.just("photo"), st.sampled_from([0, 1, 2, 3]), st.sampled_from([None, "Kiwi, 25, 4", "x"])),
    st.tuples(st.just("location"), st.sampled_from([0, 1, 2, 3]), st.none()),
)


class ErrorCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def run_story(steps) -> None:
    errors = ErrorCounter()
    watched = [logging.getLogger(name) for name in ("livecart.errors", "runtime.updates", "runtime.outbox_sender")]
    for logger in watched:
        logger.addHandler(errors)
    world = await start_world(Path(tempfile.mkdtemp()))
    try:
        ann = await merchant_with_shop(world)
        await add_product(ann, "Oranges, 39.90, 5")
        await ann.tap("🔴 Put on next free link")
        await add_product(ann, "Tea, 88, 1")
        shop = await current_shop(world, ann)
        people = [ann, world.user("Bob"), world.user("李", language_code="zh"), world.user("Eve")]
        for person in people[1:]:
            await person.send(f"/start l_{shop.slug}_1")
        for kind, who, arg in steps:
            person = people[who]
            if kind == "text":
                await person.send(arg if arg.strip() else "x")
            elif kind == "command":
                await person.send(arg)
            elif kind == "tap":
                buttons = [(m, b) for m in person.chat.bot_messages[-3:] for row in m.buttons for b in row]
                taps = [(m, b) for m, b in buttons if "callback_data" in m.button(b)]
                if taps:
                    message, text = taps[arg % len(taps)]
                    await person.tap(text, message=message)
            elif kind == "forge":
                action, numbers = arg
                data = ":".join([action, *map(str, numbers)])[:64]
                if person.chat.bot_messages:
                    await person.send_callback(data, person.chat.bot_messages[-1])
            elif kind == "junk":
                if person.chat.bot_messages and arg.encode("utf-8", "replace") and len(arg.encode()) <= 64:
                    await person.send_callback(arg, person.chat.bot_messages[-1])
            elif kind == "contact":
                await person.share_contact()
            elif kind == "photo":
                await person.send_photo(caption=arg)
            elif kind == "location":
                await person.share_location(30.7, 111.3)
        # Only the merchant typing (an answer to "new stock?") can change stock other than by orders.
        merchant_typed = any(who == 0 and kind in ("text", "command", "photo") for kind, who, _ in steps)
        await check_invariants(world, stock_conserved=not merchant_typed)
    finally:
        await world.stop()
        for logger in watched:
            logger.removeHandler(errors)
    assert not errors.records, [r.getMessage()[:300] for r in errors.records]


async def check_invariants(world, stock_conserved: bool) -> None:
    db = world.store.db
    assert await db.fetch_value("SELECT count(*) FROM products WHERE stock < 0") == 0
    bad_totals = await db.fetch_all(
        """SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id GROUP BY o.id
           HAVING o.total != sum(i.unit_price * i.quantity) OR o.units != sum(i.quantity)""")
    assert bad_totals == []
    for from_status, to_status in await db.fetch_all("SELECT from_status, to_status FROM order_events"):
        if from_status is None:
            assert to_status == "placed"
        else:
            assert Status(to_status) in TRANSITIONS[Status(from_status)]
    if not stock_conserved:
        return
    # Units in orders not cancelled, held by open checkouts and on the shelf are what the merchant
    # stocked: Oranges started at 5 and Tea at 1.
    for name, start in (("Oranges", 5), ("Tea", 1)):
        row = await db.fetch_one(
            """SELECT p.stock, coalesce((SELECT sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id
                                         WHERE i.product_id = p.id AND o.status != 'cancelled'), 0),
                      coalesce((SELECT sum(h.quantity) FROM holds h WHERE h.product_id = p.id), 0)
               FROM products p WHERE p.name = ? ORDER BY p.id LIMIT 1""", (name,))
        assert row[0] + row[1] + row[2] == start, (name, tuple(row))


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(step, min_size=5, max_size=30))
def test_random_updates_never_crash_and_keep_the_invariants(steps):
    asyncio.run(run_story(steps))
