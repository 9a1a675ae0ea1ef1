"""Buy now holds the units: losers learn at the first tap, and held plus sold never exceeds stock."""

from __future__ import annotations

import asyncio
import time

from tests.stories import save_delivery, shop_with_product_on_link, stock_of


async def held_units(world, product_id) -> int:
    return await world.store.db.fetch_value(
        "SELECT coalesce(sum(quantity), 0) FROM holds WHERE product_id = ?", (product_id,))


async def test_buy_now_holds_the_units_and_the_confirmation_says_until_when(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 5")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("Buy now")
    assert "Held for you until" in bob.last.text
    assert await stock_of(world, product_id) == 3 and await held_units(world, product_id) == 2
    await bob.tap("Confirm order")
    assert "placed" in bob.last.text
    assert await stock_of(world, product_id) == 3 and await held_units(world, product_id) == 0


async def test_the_buyer_after_the_last_held_unit_learns_it_at_buy_now_by_one_edit(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 1")
    bob, eve = world.user("Bob"), world.user("Eve")
    for b in (bob, eve):
        await save_delivery(world, b)
        await b.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    calls = len(world.tg.calls_of(None, eve.id))
    query = await eve.tap("Buy now")
    assert "just sold out" in query.answer_text
    assert "Sold out" in eve.last.text and eve.last.buttons[0] == ["🔔 Tell me when it's back"]
    edits = [c for c in world.tg.calls_of(None, eve.id)[calls:] if c.method.startswith(("send", "edit"))]
    assert len(edits) == 1, "one edit of the card, no other message"


async def test_cancelling_the_checkout_gives_the_held_units_back(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 1")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    assert await stock_of(world, product_id) == 0
    await bob.tap("Cancel")
    assert "Nothing was ordered" in bob.last.text
    assert await stock_of(world, product_id) == 1 and await held_units(world, product_id) == 0


async def test_an_expired_hold_returns_its_units_and_tells_who_waits(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 1")
    bob, eve = world.user("Bob"), world.user("Eve")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await eve.send(f"/start l_{shop.slug}_1")
    await eve.tap("Tell me when it's back")
    assert await world.store.holds.expire(at=time.time() + 3 * 60 + 1) == 1
    await world.settle()
    assert await stock_of(world, product_id) == 1
    assert "back in stock" in eve.last.text


async def test_the_hold_clock_returns_expired_holds_by_itself(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 1")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await world.store.db.fetch_value("SELECT 1")
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE holds SET expires_at = ?", (time.time() - 1,))
    for _ in range(200):  # the clock looks every few seconds; a test waits for it, not for a time
        if await stock_of(world, product_id) == 1:
            break
        await asyncio.sleep(0.05)
    assert await stock_of(world, product_id) == 1 and await held_units(world, product_id) == 0


async def test_confirming_after_the_hold_expired_still_orders_while_stock_lasts(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 3")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await world.store.holds.expire(at=time.time() + 3600)
    await bob.tap("Confirm order")
    assert "placed" in bob.last.text and await stock_of(world, product_id) == 2


async def test_one_hold_per_buyer_a_second_buy_now_replaces_the_first(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 5")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("+")
    await bob.tap("Buy now")
    assert await held_units(world, product_id) == 3 and await stock_of(world, product_id) == 2


async def test_the_per_buyer_limit_applies_to_holds(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    await world.store.products.update(product_id, per_buyer_limit=1)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    await bob.send(f"/start l_{shop.slug}_1")
    query = await bob.tap("Buy now")
    assert "limit" in query.answer_text and await held_units(world, product_id) == 0


async def test_an_old_summarys_cancel_after_the_order_was_placed_says_the_order_exists(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    summary = bob.last
    cancel = next(b for row in summary.buttons for b in row if "Cancel" in b)
    data = summary.button(cancel)["callback_data"]
    await bob.tap("Confirm order")
    query = await bob.send_callback(data, summary)
    assert "#1001" in query.answer_text and "/myorders" in query.answer_text
    assert (await world.store.orders.of_buyer(bob.id))[0].status == "placed"


async def test_a_stale_checkout_button_leaves_the_open_checkout_untouched(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    first = bob.last
    cancel = first.button(next(b for row in first.buttons for b in row if "Cancel" in b))["callback_data"]
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    query = await bob.send_callback(cancel, first)
    assert "no longer open" in query.answer_text
    await bob.tap("Confirm order")
    assert "placed" in bob.last.text


async def test_the_confirmation_says_when_the_price_changed_since_the_tap(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 29.80, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await world.store.products.update(product_id, price=3500)
    await bob.tap("Buy now")
    assert "now CN¥35.00" in bob.last.text and "was CN¥29.80" in bob.last.text


async def test_a_replayed_buy_now_keeps_its_checkout(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    query = await bob.tap("Buy now")
    confirmation = bob.last
    await bob.send_callback(query.data, confirmation)  # the same tap again, as after a crash
    await bob.tap("Confirm order", message=confirmation)
    assert "placed" in bob.last.text and await held_units(world, product_id) == 0


async def test_cancel_or_another_command_during_checkout_gives_the_held_units_back(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 2")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("/cancel")
    assert await stock_of(world, product_id) == 2 and await held_units(world, product_id) == 0
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("/myorders")
    assert await stock_of(world, product_id) == 2 and await held_units(world, product_id) == 0


async def test_adding_a_note_edits_the_summary_in_place(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    summary = bob.last
    await bob.tap("Add a note")
    await bob.send("Please call before delivery")
    live = [m for m in bob.chat.bot_messages if any("Confirm order" in b for row in m.buttons for b in row)]
    assert [m.message_id for m in live] == [summary.message_id], "one summary, edited, not a second copy"
    assert "Please call before delivery" in bob.chat.get(summary.message_id).text
    await bob.tap("Confirm order", message=bob.chat.get(summary.message_id))
    assert "placed" in bob.chat.get(summary.message_id).text


async def test_the_owner_sets_how_long_buy_now_holds_in_settings(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    await ann.send("/settings")
    assert "holds the units for 3 min" in ann.last.text
    await ann.tap("⏳ Hold time")
    await ann.send("90")
    assert "not a number of minutes" in ann.last.text and "1 to 30" in ann.last.text
    await ann.send("10 min")
    assert "holds the units for 10 min" in ann.last.text
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    before = time.time()
    await bob.tap("Buy now")
    expires = await world.store.db.fetch_value("SELECT expires_at FROM holds")
    assert 9.5 * 60 <= expires - before <= 10.5 * 60


async def test_the_hold_time_setting_reads_in_chinese(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    await world.store.users.set_language(ann.id, "zh")
    await ann.send("/settings")
    assert "保留 3 分钟" in ann.last.text
    await ann.tap("⏳ 保留时长")
    await ann.send("5分钟")
    assert "保留 5 分钟" in ann.last.text


async def test_200_buyers_with_holds_expiring_midway_never_get_more_than_the_stock(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Flash oranges, 9.90, 50")
    buyers = [world.user(f"Buyer{i}") for i in range(200)]
    for buyer in buyers:
        await save_delivery(world, buyer)
    first, second = buyers[:100], buyers[100:]
    await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
    await asyncio.gather(*(b.tap("Buy now") for b in first))
    holding = [b for b in first if "Please check your order" in (b.last.text or "")]
    assert len(holding) == 50
    # Half of them walk away: their holds run out while the second wave taps Buy now and everyone confirms.
    walked_away, confirming = holding[:25], holding[25:]
    async with world.store.db.write() as conn:
        await conn.executemany("UPDATE holds SET expires_at = 0 WHERE buyer_id = ?", [(b.id,) for b in walked_away])
    await asyncio.gather(world.store.holds.expire(), *(b.tap("Buy now") for b in second),
                         *(b.tap("Confirm order") for b in confirming))
    second_holding = [b for b in second if "Please check your order" in (b.last.text or "")]
    await asyncio.gather(*(b.tap("Confirm order") for b in second_holding + walked_away))
    units = await world.store.db.fetch_value("SELECT coalesce(sum(units), 0) FROM orders WHERE shop_id = ?", (shop.id,))
    held = await held_units(world, product_id)
    assert units + held + await stock_of(world, product_id) == 50
    assert units <= 50 and await world.store.db.fetch_value("SELECT count(*) FROM products WHERE stock < 0") == 0


async def test_a_failed_answer_after_the_order_is_committed_leaves_the_receipt_standing(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    summary = bob.last
    # The toast after the commit fails (Telegram refuses the answer): the order stands.
    world.tg.fail_next("answerCallbackQuery", 400, "Bad Request: something went wrong")
    query = await bob.tap("Confirm order")
    assert not query.show_alert, f"the buyer was alerted: {query.answer_text!r}"
    assert "Order #1001 placed" in bob.chat.get(summary.message_id).text
    assert not any("went wrong" in (m.text or "") or "try again" in (m.text or "").lower()
                   for m in bob.chat.bot_messages)
    assert len(await world.store.orders.of_buyer(bob.id)) == 1
