"""The shop corrects an order's delivery details before it ships; the buyer is told."""

from __future__ import annotations

from core.orders import Status
from tests.stories import place_order, shop_with_product_on_link
from tests.test_desk import add_staff


async def test_the_owner_corrects_the_address_the_buyer_is_told_and_the_change_is_recorded(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    notice = ann.last
    await ann.tap("✏️ Correct details", message=notice)
    assert "which detail is wrong?" in ann.last.text
    await ann.tap("📍 Address")
    assert "now: 8 Orchard Lane, Yichang" in ann.last.text
    await ann.send("x")  # too short: refused with the reason, asked again
    assert "address" in ann.last.text.lower()
    await ann.send("16 Orchard Lane, Yichang")
    assert ann.last.text == ("✏️ Order #1001: address corrected: 8 Orchard Lane, Yichang → 16 Orchard Lane, Yichang. "
                             "The buyer was told.")
    await world.settle()
    assert "corrected your order #1001: address 8 Orchard Lane, Yichang → 16 Orchard Lane, Yichang" in bob.last.text
    assert "16 Orchard Lane" in ann.chat.get(notice.message_id).text  # the card follows
    assert (await world.store.orders.get(order.id)).address == "16 Orchard Lane, Yichang"
    [change] = await world.store.orders.changes(order.id)
    assert (change.field, change.before, change.after, change.by_user) == (
        "address", "8 Orchard Lane, Yichang", "16 Orchard Lane, Yichang", ann.id)


async def test_staff_correct_the_phone_in_the_buyers_notation(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann, "Pat")
    order = await place_order(world, world.user("Bob"), shop)
    await pat.send("/orders")
    await pat.tap("#1001")
    await pat.tap("✏️ Correct details")
    await pat.tap("📱 Phone")
    await pat.send("139 1234 5678")
    assert "138 0013 8000 → 139 1234 5678" in pat.last.text
    assert (await world.store.orders.get(order.id)).phone == "+8613912345678"


async def test_a_shipped_order_can_no_longer_be_corrected(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    order = await place_order(world, world.user("Bob"), shop)
    notice = ann.last
    for status in (Status.CONFIRMED, Status.SHIPPED):
        await world.store.orders.transition(order.id, status, ann.id)
    query = await ann.tap("✏️ Correct details", message=notice)  # a stale copy still shows it
    assert query.show_alert and "can no longer be corrected" in query.answer_text
    assert await world.store.orders.changes(order.id) == []


async def test_a_stranger_another_shops_owner_and_the_buyer_cannot_correct(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    other = world.user("Olga")
    await other.send("/newshop")
    await other.send("Other shop")
    stranger = world.user("Sam")
    await stranger.send("/start")
    for person in (other, stranger, bob):
        for data in (f"d.fix:{order.id}", f"d.fixf:{order.id}:2"):
            query = await person.send_callback(data, person.last)
            assert query.answered and "can't do that" in query.answer_text, (person.first_name, data)
        await person.send("99 Forged Road, Nowhere")  # no correction conversation was started
    assert (await world.store.orders.get(order.id)).address == "8 Orchard Lane, Yichang"
    assert await world.store.orders.changes(order.id) == []


async def test_correcting_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.users.set_language(ann.id, "zh")
    wang = world.user("小王")
    order = await place_order(world, wang, shop)
    await world.store.users.set_language(wang.id, "zh")
    await ann.send("/orders")
    await ann.tap("#1001")
    await ann.tap("✏️ 修改信息")
    await ann.tap("👤 收件人")
    await ann.send("王小明")
    assert "收件人已修改" in ann.last.text
    await world.settle()
    assert "修改了你的订单 #1001：收件人" in wang.last.text
    assert (await world.store.orders.get(order.id)).recipient == "王小明"


async def test_a_buyer_asks_for_a_correction_and_the_shop_applies_it(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await bob.send("/myorders")
    await bob.tap("✏️ Fix #1001")
    await bob.tap("📍 Address")
    assert "the shop confirms it" in bob.last.text
    await bob.send("20 River Road, Yichang")
    assert "Sent to Green Hill Oranges" in bob.last.text
    await world.settle()
    request = ann.last
    assert "asks to correct the address: 8 Orchard Lane, Yichang → 20 River Road, Yichang" in request.text
    assert (await world.store.orders.get(order.id)).address == "8 Orchard Lane, Yichang"  # not before the shop says
    await ann.tap("✅ Apply", message=request)
    assert "address is now 20 River Road, Yichang" in ann.last.text
    await world.settle()
    assert "corrected your order #1001 as you asked" in bob.last.text
    assert (await world.store.orders.get(order.id)).address == "20 River Road, Yichang"
    [change] = await world.store.orders.changes(order.id)
    assert change.by_user == ann.id
    again = await ann.send_callback(request.history[0]["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
                                    if request.history else "", request)
    assert again.show_alert and "decided already" in again.answer_text  # a second tap changes nothing
    assert len(await world.store.orders.changes(order.id)) == 1


async def test_the_shop_declines_a_requested_correction_and_the_buyer_is_told(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await bob.send("/myorders")
    await bob.tap("✏️ Fix #1001")
    await bob.tap("👤 Recipient")
    await bob.send("Robert Smith")
    await world.settle()
    await ann.tap("✖ Decline")
    await world.settle()
    assert "could not change the recipient of order #1001 to Robert Smith" in bob.last.text
    assert (await world.store.orders.get(order.id)).recipient == "Bob"


async def test_only_the_shop_decides_a_request_and_only_the_buyer_asks(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, eve = world.user("Bob"), world.user("Eve")
    order = await place_order(world, bob, shop)
    await eve.send("/start")
    query = await eve.send_callback(f"o.fix:{order.id}", eve.last)
    assert query.show_alert and "can't do that" in query.answer_text
    await bob.send("/myorders")
    await bob.tap("✏️ Fix #1001")
    await bob.tap("📍 Address")
    await bob.send("20 River Road, Yichang")
    await world.settle()
    request_id = (ann.last.callback_data("✅ Apply")).split(":")[1]
    for person in (eve, bob):
        query = await person.send_callback(f"d.rqok:{request_id}", person.last)
        assert query.show_alert and "can't do that" in query.answer_text
    assert (await world.store.orders.get(order.id)).address == "8 Orchard Lane, Yichang"


async def test_asking_for_a_correction_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王")
    await place_order(world, wang, shop)
    await world.store.users.set_language(wang.id, "zh")
    await wang.send("/myorders")
    await wang.tap("✏️ 修改 #1001")
    await wang.tap("📱 电话")
    await wang.send("13912345678")
    assert "已发给 Green Hill Oranges" in wang.last.text
