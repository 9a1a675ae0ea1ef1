"""Several orders at once from /orders: tick, then "Confirm these" or "Ship these"."""

from __future__ import annotations

from tests.stories import place_order, shop_with_product_on_link
from tests.test_desk import add_staff, set_payment


async def test_tick_orders_and_confirm_these_tells_each_buyer(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, cai, dan = world.user("Bob"), world.user("Cai"), world.user("Dan")
    orders = [await place_order(world, b, shop) for b in (bob, cai, dan)]
    await world.store.users.set_language(cai.id, "zh")
    await ann.send("/orders")
    await ann.tap("☑ Select several")
    assert "0 ticked" in ann.last.text
    await ann.tap("#1001")
    await ann.tap("#1002")
    assert "2 ticked" in ann.last.text
    assert any(row[0].startswith("☑ #1001") for row in ann.last.buttons)
    assert any(row[0].startswith("☐ #1003") for row in ann.last.buttons)
    await ann.tap("✅ Confirm these (2)")
    assert "confirmed: 2 orders (#1001, #1002)" in ann.last.text.lower()
    assert [(await world.store.orders.get(o.id)).status for o in orders] == ["confirmed", "confirmed", "placed"]
    assert "confirmed your order #1001" in bob.last.text
    assert "#1002" in cai.last.text and "确认" in cai.last.text


async def test_ship_these_ships_what_may_ship_and_names_the_rest(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    orders = [await place_order(world, world.user(n), shop) for n in ("Bob", "Cai")]
    await set_payment(world, orders[1].id, "code", "awaiting")
    await ann.send("/orders")
    await ann.tap("☑ Select several")
    await ann.tap("#1001")
    await ann.tap("#1002")
    result = ann.last
    data = result.callback_data("🚚 Ship these (2)")
    await ann.tap("🚚 Ship these (2)")
    assert "1 order (#1001)" in result.text and "#1002" in result.text and "payment" in result.text
    assert [(await world.store.orders.get(o.id)).status for o in orders] == ["shipped", "placed"]
    query = await ann.send_callback(data, result)  # a second tap: nothing ticked any more
    assert query.show_alert
    assert len(await world.store.orders.events(orders[0].id)) == 3


async def test_untick_and_done_selecting_leave_orders_alone(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    order = await place_order(world, world.user("Bob"), shop)
    await ann.send("/orders")
    await ann.tap("☑ Select several")
    await ann.tap("#1001")
    await ann.tap("#1001")
    assert "0 ticked" in ann.last.text and "Confirm these" not in str(ann.last.buttons)
    await ann.tap("Done selecting")
    assert "Orders of" in ann.last.text and await world.store.flows.get(ann.id) is None
    assert (await world.store.orders.get(order.id)).status == "placed"


async def test_forged_ticks_from_a_buyer_or_another_shops_staff_do_nothing(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    carol_shop = await shop_with_product_on_link(world)  # a second shop, its own owner
    carol = carol_shop[0]
    pat = await add_staff(world, carol, "Pat")
    await pat.send("/orders")  # Pat's shop has no orders: select on its empty list
    await pat.send_callback("d.sel:new:0:1", pat.last)
    assert "0 ticked" in pat.last.text
    query = await pat.send_callback(f"d.tog:new:0:{order.id}", pat.last)
    assert query.show_alert and "can't do that here" in query.answer_text
    query = await pat.send_callback("d.selgo:new:ship", pat.last)
    assert (await world.store.orders.get(order.id)).status == "placed"
    query = await bob.send_callback(f"d.tog:new:0:{order.id}", bob.last)
    assert query.show_alert
    query = await bob.send_callback("d.selgo:new:ship", bob.last)
    assert query.show_alert
    assert (await world.store.orders.get(order.id)).status == "placed"


async def test_chinese_merchant_selects_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.users.set_language(ann.id, "zh")
    order = await place_order(world, world.user("Bob"), shop)
    await ann.send("/orders")
    await ann.tap("☑ 多选")
    await ann.tap("#1001")
    await ann.tap("🚚 发货所选（1）")
    assert "1 单（#1001）" in ann.last.text
    assert (await world.store.orders.get(order.id)).status == "shipped"
