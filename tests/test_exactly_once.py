"""Exactly once across a crash: a replayed update repeats its answer, never its writes.

Each story lets the bot commit what a tap or message changes, then holds the answer in the fake
Telegram and stops the bot as a crash would (nothing more recorded: the update is left
unprocessed). After the restart the inbox replays the update; the journal of what it wrote
(storage/journal.py) keeps it from writing again, and its answer is sent again.
tests/crash_drill.py does the same with SIGKILL on a real process.
"""

from __future__ import annotations

import asyncio

import pytest

from core.orders import Status
from storage.journal import decode, encode
from storage.models import Flow
from storage.orders import Order, OrderItem
from tests.stories import add_product, merchant_with_shop, place_order, save_delivery, shop_with_product_on_link


async def crash_while(world, method: str, act, before_restart=None) -> None:
    """Do `act` (a tap or a message) with every `method` call hanging, then crash the bot
    (`before_restart` runs on the database the crash left, before the restart replays it)."""
    calls_before = len(world.tg.calls_of(method))
    world.tg.delay_next(method, seconds=3600, times=100)
    world.tg.set_settle_hook(None)  # the act must not wait for the bot: it will not finish
    await act()
    for _ in range(5000):  # until the handler, past its writes, is stuck sending the answer
        if len(world.tg.calls_of(method)) > calls_before:
            break
        await asyncio.sleep(0.002)
    else:
        raise AssertionError(f"the bot never called {method}")
    await world.bot.pipeline.stop(record=False)  # SIGKILL: nothing after the last commit is recorded
    await world.stop()
    assert await unprocessed(world) == 1
    if before_restart is not None:
        await before_restart()
    world.tg.clear_faults()
    await world.start()  # replays the update
    await world.settle()


async def unprocessed(world) -> int:
    from storage import Store

    store = await Store.open(world.config.database)
    try:
        return await store.inbox.unprocessed_count()
    finally:
        await store.close()


async def test_add_to_cart_replayed_after_a_crash_adds_once_and_still_answers(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    card = bob.last
    queries = []

    async def add():
        queries.append(await bob.tap("Add to cart", message=card))

    journal: list[int] = []

    async def journal_left_by_the_crash() -> None:
        from storage import Store

        store = await Store.open(world.config.database)
        try:
            journal.append(await store.db.fetch_value("SELECT count(*) FROM update_steps"))
        finally:
            await store.close()

    await crash_while(world, "answerCallbackQuery", add, journal_left_by_the_crash)
    assert journal[0] > 0  # the add committed with its journal row before the crash
    lines = await world.store.carts.lines(bob.id, shop.id)
    assert [(line.product_id, line.quantity) for line in lines] == [(product_id, 2)]
    assert "2 in your cart" in queries[0].answer_text  # the replay answered the tap
    assert await unprocessed(world) == 0
    # The journal of a processed update is no longer needed: the housekeeping clears it (it may
    # have already, if its first run at the restart came after the replay).
    await world.bot.prune()
    assert await world.store.db.fetch_value("SELECT count(*) FROM update_steps") == 0


async def test_addproduct_replayed_after_a_crash_makes_one_product_and_shows_it(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    await ann.send("Kiwifruit")
    await ann.send("25")
    await ann.send("40")
    await ann.tap("Skip")  # no photo

    async def describe():
        await ann.send("Sweet and green")  # the last step: the product is made here

    await crash_while(world, "sendMessage", describe)
    shop = (await world.store.shops.memberships(ann.id))[0].shop
    products, total = await world.store.products.page(shop.id, 0, 10)
    assert total == 1 and products[0].name == "Kiwifruit" and products[0].description == "Sweet and green"
    assert "Kiwifruit" in ann.last.text and "Sweet and green" in ann.last.text  # the card, sent by the replay
    await ann.send("hello")  # the conversation ended with the product, replay or not
    assert "Kiwifruit" not in ann.last.text


async def test_stock_change_replayed_after_a_crash_is_applied_once(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Tea, 88, 10")
    await ann.tap("✏️ Stock")

    async def restock():
        await ann.send("+5")

    await crash_while(world, "sendMessage", restock)
    assert (await world.store.products.get(product_id)).stock == 15
    assert "15" in ann.last.text


async def test_order_desk_confirm_replayed_after_a_crash_confirms_once_and_shows_the_result(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await place_order(world, bob, shop)
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await ann.send("/orders")
    await ann.tap(f"#{order.number}")
    view = ann.last
    buyer_heard = len(bob.chat.bot_messages)

    async def confirm():
        await ann.tap("✅ Confirm", message=view)

    # The tap is answered; the edit that shows the confirmed order hangs when the bot dies.
    await crash_while(world, "editMessageText", confirm)
    events = await world.store.orders.events(order.id)
    assert [e[1] for e in events] == [Status.PLACED, Status.CONFIRMED]
    assert "Status: 👍 confirmed" in ann.chat.get(view.message_id).text  # the replay sent the edit again
    confirmed_notes = [m for m in bob.chat.bot_messages[buyer_heard:] if "confirmed" in (m.text or "").lower()]
    assert len(confirmed_notes) == 1  # the buyer heard of it once (outbox row written once)


async def test_buyer_cancel_replayed_after_a_crash_is_not_refused_as_too_late(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await place_order(world, bob, shop)
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await bob.send("/myorders")
    await bob.tap(f"Cancel #{order.number}")
    queries = []

    async def cancel():
        queries.append(await bob.tap("Yes, cancel it"))

    await crash_while(world, "answerCallbackQuery", cancel)
    assert "cancelled" in queries[0].answer_text.lower()  # not "too late": the replay saw what the first run saw
    assert (await world.store.products.get(product_id)).stock == 50  # returned once
    events = await world.store.orders.events(order.id)
    assert [e[1] for e in events] == [Status.PLACED, Status.CANCELLED]


def test_journaled_results_come_back_as_they_were():
    order = Order(1, 2, 1001, 3, "placed", "CNY", 3990, 1, "+86", "Bob", "Lane", None, None, None, "cod", 1, None,
                  None, None, None, 1.5, 1.5, items=(OrderItem(7, "Oranges", 3990, 1),))
    for value in (order, (order, True), Flow(3, "checkout", "confirm", {"items": [[7, 1, 1]], "note": None}),
                  Status.CONFIRMED, [1, 2], None, {"a": (1, 2)}):
        assert decode(encode(value)) == value
    assert type(decode(encode(Status.CONFIRMED))) is Status


def test_the_journal_rebuilds_only_our_own_classes():
    with pytest.raises(TypeError):
        decode({"$c": "subprocess:Popen", "f": {"args": ["true"]}})
    with pytest.raises(TypeError):
        encode(object())


async def test_a_variants_stock_change_replayed_after_a_crash_is_applied_once(world):
    from tests.test_variants import shop_with_variants_on_link

    ann, shop, product_id = await shop_with_variants_on_link(world, "Tea, small ¥25 x10, big ¥40 x5")
    await ann.send("/products")
    await ann.tap("Tea")
    await ann.tap("⚙️ small")
    await ann.tap("✏️ Stock")

    async def restock():
        await ann.send("+5")

    await crash_while(world, "sendMessage", restock)
    variants = {v.name: v.stock for v in await world.store.variants.of_product(product_id)}
    assert variants == {"small": 15, "big": 5}
    assert (await world.store.products.get(product_id)).stock == 20  # the product keeps their sum
