"""Changing the details on the confirmation, as a buyer in the sandbox would (found trying it out)."""

from __future__ import annotations

from tests.stories import (
    current_shop, merchant_with_shop, place_order, save_delivery, shop_with_product_on_link, to_confirmation,
)


def summaries(buyer) -> list:
    """The confirmations in the chat that still offer Confirm (the live ones)."""
    return [m for m in buyer.chat.bot_messages
            if "Please check your order" in (m.text or "") and any("Confirm" in b for row in m.buttons for b in row)]


async def test_change_address_asks_for_the_address_and_the_new_one_is_ordered(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    summary = await to_confirmation(world, bob, shop)
    await bob.tap("Change address")
    assert "delivery address" in bob.last.text, "the address is asked, not the phone again"
    await bob.send("12 New Street, Yichang")
    assert "Please check your order" in bob.last.text and "12 New Street" in bob.last.text
    assert summaries(bob) == [bob.last], "the old summary no longer offers Confirm under the old address"
    assert any("Cancel" in b for row in bob.chat.get(summary.message_id).buttons for b in row), "but still Cancel"
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.address == "12 New Street, Yichang" and order.phone == "+8613800138000"


async def test_after_a_note_a_changed_address_shows_its_summary_at_the_bottom(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Add a note")
    await bob.send("Ring twice")
    await bob.tap("Change address")
    await bob.send("12 New Street, Yichang")
    assert "12 New Street" in bob.last.text and "Ring twice" in bob.last.text
    assert summaries(bob) == [bob.last]


async def test_a_shared_location_then_a_typed_address_when_changing_it(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Change address")
    await bob.share_location(30.7, 111.3)
    assert "type the address" in bob.last.text
    await bob.send("12 New Street, Yichang")
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.latitude, order.longitude) == (30.7, 111.3) and order.address == "12 New Street, Yichang"


async def test_a_typed_recipient_edits_the_summary_it_belongs_to(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    summary = await to_confirmation(world, bob, shop)
    await bob.tap("Recipient")
    await bob.send("Emma Li")
    assert "Ship to Emma Li" in bob.chat.get(summary.message_id).text
    assert summaries(bob) == [bob.chat.get(summary.message_id)], "one live summary, not a second copy"
    await bob.tap("Confirm order")
    assert (await world.store.orders.of_buyer(bob.id))[0].recipient == "Emma Li"


async def test_changing_the_address_in_chinese_asks_for_the_address_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王", language_code="zh")
    await save_delivery(world, wang)
    await wang.send(f"/start l_{shop.slug}_1")
    await wang.tap("立即购买")
    await wang.tap("修改地址")
    assert "收货地址" in wang.last.text
    await wang.send("上海市黄浦区南京东路88号1203室")
    assert "请核对订单" in wang.last.text and "南京东路88号" in wang.last.text


async def test_a_new_buyer_is_told_at_buy_now_until_when_the_units_are_held(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, wang = world.user("Bob"), world.user("小王", language_code="zh")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    assert "phone number" in bob.last.text and "Held for you until" in bob.last.text
    await wang.send(f"/start l_{shop.slug}_1")
    await wang.tap("立即购买")
    assert "电话" in wang.last.text and "已为您保留到" in wang.last.text


async def test_a_buyer_who_leaves_a_checkout_for_another_link_reads_that_nothing_was_ordered(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob, wang = world.user("Bob"), world.user("小王", language_code="zh")
    for buyer, buy in ((bob, "Buy now"), (wang, "立即购买")):
        await buyer.send(f"/start l_{shop.slug}_1")
        await buyer.tap(buy)
        await buyer.send(f"/start l_{shop.slug}_1")
    notices = [m.text for m in bob.chat.bot_messages if "cancelled" in (m.text or "") or "step" in (m.text or "")]
    assert notices == ["Checkout cancelled. Nothing was ordered."], notices
    assert any("已取消结账" in (m.text or "") for m in wang.chat.bot_messages)
    assert not any("步骤" in (m.text or "") for m in wang.chat.bot_messages)
    assert await world.store.db.fetch_value("SELECT count(*) FROM holds") == 0


async def test_a_chinese_shops_order_notice_does_not_say_cash_on_delivery_twice(world):
    ann = await merchant_with_shop(world, language_code="zh")
    await ann.send("/addproduct 夏橙, 39.90, 50")
    await ann.tap("🔴 放到下一个空链接")
    shop = await current_shop(world, ann)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    notice = next(m.text for m in reversed(ann.chat.bot_messages) if "#1001" in (m.text or ""))
    assert "货到付款 · 货到付款" not in notice and "货到付款" in notice


async def test_a_buyer_who_gets_fewer_units_than_asked_is_told_on_the_confirmation(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 3")
    bob, eve = world.user("Bob"), world.user("Eve")
    for buyer in (bob, eve):
        await save_delivery(world, buyer)
        await buyer.send(f"/start l_{shop.slug}_1")
    await eve.tap("+")  # eve's card says 2 while 3 are left; then bob holds 2
    await bob.tap("+")
    await bob.tap("Buy now")
    query = await eve.tap("Buy now")
    assert "Only 1 of Oranges left (you asked for 2)" in query.answer_text
    assert "Oranges × 1" in eve.last.text and "Only 1 of Oranges left (you asked for 2): 1 held for you" in eve.last.text
    await eve.tap("Confirm order")
    assert (await world.store.orders.of_buyer(eve.id))[0].items[0].quantity == 1


async def test_a_new_chinese_buyer_who_gets_fewer_units_reads_it_in_chinese(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 9.90, 3")
    bob, wang = world.user("Bob"), world.user("小王", language_code="zh")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await wang.send(f"/start l_{shop.slug}_1")
    await wang.tap("+")
    await bob.tap("+")
    await bob.tap("Buy now")
    query = await wang.tap("立即购买")
    assert "只剩 1 件（你要了 2 件）" in query.answer_text
    await wang.send("13800138000")
    await wang.send("上海市黄浦区南京东路88号1203室")
    assert "只剩 1 件（你要了 2 件），已为你保留 1 件" in wang.last.text and "Only" not in wang.last.text


async def test_a_returning_buyer_changes_only_the_phone_and_the_new_number_is_ordered(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    summary = await to_confirmation(world, bob, shop)
    await bob.tap("📱 Phone")
    assert "phone number" in bob.last.text, "the phone is asked, not the address"
    assert bob.chat.reply_keyboard_buttons == [["📱 Share my phone number"]]
    await bob.send("13912345678")
    assert bob.last.text == "📱 Phone noted."
    assert not bob.chat.reply_keyboard_buttons, "the share-phone keyboard goes with its step"
    assert "Ship to Bob, 139 1234 5678" in bob.chat.get(summary.message_id).text
    assert summaries(bob) == [bob.chat.get(summary.message_id)], "one live summary, not a second copy"
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.phone == "+8613912345678" and order.address  # the saved address kept


async def test_changing_the_phone_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王", language_code="zh")
    await save_delivery(world, wang)
    await wang.send(f"/start l_{shop.slug}_1")
    await wang.tap("立即购买")
    await wang.tap("📱 电话")
    assert "电话" in wang.last.text
    await wang.send("bad number")
    assert "不像是电话号码" in wang.last.text  # refused with the reason, in Chinese, asked again
    await wang.send("13912345678")
    assert wang.last.text == "📱 电话已记下。"
