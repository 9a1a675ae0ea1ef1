"""/tell: the owner writes once to a group of buyers; it goes out as bulk sends."""

from __future__ import annotations

from core.orders import Status
from tests.stories import place_order, shop_with_product_on_link


async def test_the_owner_tells_the_buyers_waiting_for_their_orders_once_each_in_their_language(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, wang, dan = world.user("Bob"), world.user("小王"), world.user("Dan")
    for buyer in (bob, wang, dan):
        await place_order(world, buyer, shop)
    await world.store.users.set_language(wang.id, "zh")
    shipped = (await world.store.orders.of_buyer(dan.id))[0]
    for status in (Status.CONFIRMED, Status.SHIPPED):  # Dan's is on its way: not "waiting to ship"
        await world.store.orders.transition(shipped.id, status, ann.id)
    await ann.send("/tell")
    assert "Who should hear it?" in ann.last.text
    await ann.tap("📦 Orders waiting to ship (2)")
    assert "Write the message" in ann.last.text
    await ann.send("Rain today: everything ships on Thursday.\nSorry for the wait!")
    assert ann.last.text.startswith("Buyers it reaches: 2") and "ships on Thursday" in ann.last.text
    await ann.tap("📣 Send to 2")
    assert "Queued for 2 buyers" in ann.last.text
    await world.settle()
    assert bob.last.text == "📣 Green Hill Oranges:\nRain today: everything ships on Thursday.\nSorry for the wait!"
    assert wang.last.text.startswith("📣 Green Hill Oranges：")
    assert not any("Thursday" in (m.text or "") for m in dan.chat.bot_messages)
    sends = world.tg.calls_of("sendMessage", bob.id, ok=True)
    assert sum("Thursday" in str(c.params.get("text")) for c in sends) == 1


async def test_buyers_who_blocked_the_bot_are_left_out(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, cai = world.user("Bob"), world.user("Cai")
    await place_order(world, bob, shop)
    await place_order(world, cai, shop)
    await world.store.users.mark_blocked(cai.id)
    await ann.send("/tell")
    await ann.tap("📦 Orders waiting to ship (2)")
    await ann.send("Thanks for ordering!")
    await ann.tap("📣 Send to 2")
    assert "Queued for 1 buyer:" in ann.last.text
    await world.settle()
    assert "Thanks for ordering!" in bob.last.text


async def test_nothing_is_sent_when_the_owner_cancels_and_only_the_owner_may_tell(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    before = len(bob.chat.bot_messages)
    await ann.send("/tell")
    await ann.tap("📦 Orders waiting to ship (1)")
    await ann.send("Never mind")
    await ann.tap("✖ Cancel")
    assert ann.last.text == "Nothing was sent."
    await world.settle()
    assert len(bob.chat.bot_messages) == before
    await bob.send("/tell")
    assert bob.last.text == "You don't have a shop yet. Open one first:"


async def test_with_nobody_to_tell_the_owner_is_told_so(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/tell")
    assert "No buyers to message yet" in ann.last.text and not ann.last.buttons


async def test_staff_and_another_shops_owner_cannot_message_this_shops_buyers(world):
    from tests.test_desk import add_staff

    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann, "Pat")
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    await pat.send("/tell")
    assert pat.last.text == "Only the shop's owner can message its buyers."
    olga = world.user("Olga")
    await olga.send("/newshop")
    await olga.send("Other shop")
    query = await olga.send_callback(f"tl.to:{shop.id}:1", olga.last)
    assert query.show_alert and "can't do that" in query.answer_text
    query = await olga.send_callback(f"tl.go:{shop.id}", olga.last)
    assert query.show_alert
    await world.settle()
    assert not any("📣" in (m.text or "") for m in bob.chat.bot_messages)
