"""Buyers order in chat: from a link to an order number in a few taps."""

from __future__ import annotations

import asyncio
import time

from tests.stories import (
    add_product, current_shop, merchant_with_shop, save_delivery, shop_with_product_on_link, stock_of, to_confirmation,
)


def sends_and_edits(world, chat_id: int) -> int:
    methods = ("sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption",
               "editMessageReplyMarkup", "editMessageMedia")
    return sum(world.tg.count(method=m, chat_id=chat_id, ok=True) for m in methods)


async def test_opening_a_link_shows_the_product_card(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    card = bob.last
    assert "Oranges" in card.text and "CN¥39.90" in card.text and "In stock: 50" in card.text
    assert card.buttons == [["−", "1", "+"], ["⚡ Buy now · CN¥39.90", "🛒 Add to cart"], ["🏪 Shop catalog", "☆ Follow shop"]]


async def test_changing_the_quantity_edits_the_same_card(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    card_id = bob.last.message_id
    before = len(bob.chat.bot_messages)
    await bob.tap("+")
    await bob.tap("+")
    await bob.tap("−")
    assert bob.last.message_id == card_id and len(bob.chat.bot_messages) == before
    assert bob.last.buttons[0] == ["−", "2", "+"] and "CN¥79.80" in bob.last.buttons[1][0]


async def test_quantity_is_bounded_by_stock(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Tea, 88, 2")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    query = await bob.tap("+")
    assert "Only 2 left" in query.answer_text
    assert bob.last.buttons[0] == ["−", "2", "+"]


async def test_quantity_is_bounded_by_the_per_buyer_limit(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Flash tea, 9.90, 100")
    await world.store.products.update(product_id, per_buyer_limit=2)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Limit 2 per buyer" in bob.last.text
    await bob.tap("+")
    query = await bob.tap("+")
    assert "limit is 2 per buyer" in query.answer_text
    assert bob.last.buttons[0] == ["−", "2", "+"]


async def test_new_buyer_full_journey_ends_with_a_receipt_and_the_merchant_hears(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("Buy now")
    assert "phone number" in bob.last.text
    assert bob.chat.reply_keyboard_buttons == [["📱 Share my phone number"]]
    await bob.press("📱 Share my phone number")
    assert "delivery address" in bob.last.text  # the recipient's name came with the shared contact
    await bob.share_location(30.7, 111.3)
    assert "Location noted" in bob.last.text
    await bob.send("8 Orchard Lane, Yichang")
    confirm = bob.last
    assert "Please check your order" in confirm.text and "Oranges × 2 = CN¥79.80" in confirm.text
    assert "cash on delivery" in confirm.text
    await bob.tap("Confirm order")
    receipt = bob.chat.get(confirm.message_id)
    assert "Order #1001 placed" in receipt.text and "8 Orchard Lane" in receipt.text
    assert "What happens next" in receipt.text
    notice = ann.last
    assert "New order #1001" in notice.text and "Oranges × 2" in notice.text and "From link 1" in notice.text
    assert "138 0001 0002" in notice.text  # the shared +8613800010002, the way a Chinese shop writes it
    assert await stock_of(world, product_id) == 48
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.latitude, order.longitude) == (30.7, 111.3) and order.slot == 1


async def test_returning_buyer_orders_in_two_taps_and_at_most_three_messages(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    before = sends_and_edits(world, bob.id)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    assert "Ship to Bob" in bob.last.text and "8 Orchard Lane" in bob.last.text
    assert "✏️ Change address" in bob.last.buttons[1]
    await bob.tap("Confirm order")
    assert "Order #1001 placed" in bob.last.text
    assert sends_and_edits(world, bob.id) - before == 3  # the card and two edits of it
    assert all(q.answered for q in world.tg.callback_queries.values())


async def test_typed_phone_is_validated_with_a_way_forward(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("call me maybe")
    assert "doesn't look like a phone number" in bob.last.text and "/cancel" in bob.last.text
    await bob.send("12")
    assert "doesn't look like a phone number" in bob.last.text
    await bob.send("+86 138-0013-8000")
    assert "delivery address" in bob.last.text


async def test_empty_or_tiny_address_is_refused_with_the_reason(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("13800138000")
    await bob.send("abc")
    assert "too short for a courier" in bob.last.text
    await bob.send_photo()
    assert "too short for a courier" in bob.last.text
    await bob.send("8 Orchard Lane, Yichang")
    assert "Please check your order" in bob.last.text


async def test_note_to_the_seller_appears_on_the_order(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    summary = await to_confirmation(world, bob, shop)
    await bob.tap("Add a note")
    await bob.send("Please ring twice <b>")
    assert "Note: Please ring twice <b>" in bob.chat.get(summary.message_id).text  # the summary, edited
    await bob.tap("Confirm order")
    assert "Please ring twice <b>" in ann.last.text


async def test_double_tap_on_confirm_makes_one_order(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    confirm = bob.last
    first, second = await asyncio.gather(bob.tap("Confirm order", message=confirm),
                                         bob.tap("Confirm order", message=confirm))
    assert len(await world.store.orders.of_buyer(bob.id)) == 1
    assert await stock_of(world, product_id) == 49
    assert first.answered and second.answered
    assert "Already placed: order #1001" in (first.answer_text + second.answer_text)


async def test_the_same_update_delivered_twice_makes_one_order(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    raw = world.tg.updates.log[-1]
    await world.bot.pipeline.accept([raw])  # Telegram redelivers the same update_id
    await world.settle()
    assert len(await world.store.orders.of_buyer(bob.id)) == 1
    assert await stock_of(world, product_id) == 49


async def test_a_cart_of_three_products_is_placed_together(world):
    ann = await merchant_with_shop(world)
    ids = [await add_product(ann, line) for line in ("Oranges, 39.90, 10", "Kiwifruit, 25, 10", "Tea, 88, 10")]
    shop = await current_shop(world, ann)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    for product_id in ids:
        await bob.send(f"/start p_{shop.slug}_{product_id}")
        if product_id == ids[0]:
            await bob.tap("+")
        await bob.tap("Add to cart")
    await bob.send("/cart")
    cart = bob.last
    assert "Oranges × 2 = CN¥79.80" in cart.text and "Kiwifruit × 1" in cart.text and "Tea × 1" in cart.text
    assert "Total: CN¥192.80" in cart.text
    await bob.tap("🗑", message=cart)  # removes the first line (Oranges)
    assert "Oranges ×" not in bob.last.text
    await bob.tap("+")  # Kiwifruit to 2
    assert "Kiwifruit × 2" in bob.last.text
    await bob.tap("Check out")
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert [(i.name, i.quantity) for i in order.items] == [("Kiwifruit", 2), ("Tea", 1)]
    assert order.total == 2 * 2500 + 8800
    assert [await stock_of(world, i) for i in ids] == [10, 8, 9]
    await bob.send("/cart")
    assert "empty" in bob.last.text


async def test_a_cart_is_all_or_nothing_when_one_item_runs_short(world):
    ann = await merchant_with_shop(world)
    plenty = await add_product(ann, "Oranges, 39.90, 10")
    scarce = await add_product(ann, "Truffle, 500, 1")
    shop = await current_shop(world, ann)
    bob, eve = world.user("Bob"), world.user("Eve")
    for buyer in (bob, eve):
        await save_delivery(world, buyer)
    for product_id in (plenty, scarce):
        await bob.send(f"/start p_{shop.slug}_{product_id}")
        await bob.tap("Add to cart")
    await bob.send("/cart")
    await bob.tap("Check out")
    # Bob's hold runs out while he looks at his confirmation, and Eve buys the last truffle.
    await world.store.holds.expire(at=time.time() + 3600)
    await eve.send(f"/start p_{shop.slug}_{scarce}")
    await eve.tap("Buy now")
    await eve.tap("Confirm order")
    await bob.tap("Confirm order")
    assert "Truffle" in bob.last.text and "just sold out" in bob.last.text and "Nothing was ordered" in bob.last.text
    assert await world.store.orders.of_buyer(bob.id) == []
    assert await stock_of(world, plenty) == 10 and await stock_of(world, scarce) == 0


async def test_myorders_lists_orders_and_buyer_cancels_before_shipping_stock_returns(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    assert await stock_of(world, product_id) == 48
    await bob.send("/myorders")
    assert "#1001" in bob.last.text and "placed" in bob.last.text
    await bob.tap("Cancel #1001")
    await bob.tap("Yes, cancel it")
    assert "cancelled" in bob.last.text
    assert await stock_of(world, product_id) == 50
    assert "cancelled by the buyer" in ann.last.text
    assert "Cancel #1001" not in str(bob.last.buttons)


async def test_a_buyer_cannot_cancel_someone_elses_order(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob, eve = world.user("Bob"), world.user("Eve")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await eve.send("/myorders")
    query = await eve.send_callback(f"o.cancelok:{order.id}", eve.last)
    assert "can't do that" in query.answer_text
    assert (await world.store.orders.get(order.id)).status == "placed"


async def test_sold_out_buyer_is_told_once_when_it_is_back(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Tea, 88, 0")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Sold out" in bob.last.text
    query = await bob.tap("Tell me when it's back")
    assert "I'll tell you" in query.answer_text
    await bob.tap("Tell me when it's back")  # twice: still one note
    await ann.send("/products")
    await ann.tap("Tea")
    await ann.tap("✏️ Stock")
    await ann.send("+5")
    notes = [m for m in bob.chat.bot_messages if "back in stock" in (m.text or "")]
    assert len(notes) == 1 and "Tea" in notes[0].text
    await ann.tap("✏️ Stock")
    await ann.send("=0")
    await ann.tap("✏️ Stock")
    await ann.send("+5")
    assert len([m for m in bob.chat.bot_messages if "back in stock" in (m.text or "")]) == 1


async def test_200_buyers_at_once_on_stock_50_give_exactly_50_orders_and_150_learn_at_buy_now(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Flash oranges, 9.90, 50")
    buyers = [world.user(f"Buyer{i}") for i in range(200)]
    for buyer in buyers:
        await save_delivery(world, buyer)
    await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
    await asyncio.gather(*(b.tap("Buy now") for b in buyers))
    holding = [b for b in buyers if "Please check your order" in (b.last.text or "")]
    sold_out = [b for b in buyers if "Sold out" in (b.last.caption or b.last.text or "")]
    assert len(holding) == 50 and len(sold_out) == 150
    assert all(b.last.buttons[0] == ["🔔 Tell me when it's back"] for b in sold_out)
    assert await stock_of(world, product_id) == 0
    queries = await asyncio.gather(*(b.tap("Confirm order") for b in holding))
    assert all(q.answered for q in queries)
    orders = await world.store.db.fetch_value("SELECT count(*) FROM orders WHERE shop_id = ?", (shop.id,))
    units = await world.store.db.fetch_value("SELECT coalesce(sum(units), 0) FROM orders WHERE shop_id = ?", (shop.id,))
    assert orders == 50 and units == 50
    assert all("placed" in b.last.text for b in holding)
    assert await stock_of(world, product_id) == 0
    numbers = await world.store.db.fetch_all("SELECT number FROM orders WHERE shop_id = ? ORDER BY number", (shop.id,))
    assert [r[0] for r in numbers] == list(range(1001, 1051))


async def test_hidden_product_cannot_be_bought_from_an_old_card(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await world.store.products.update(product_id, hidden=1)
    query = await bob.tap("Buy now")
    assert "no longer for sale" in query.answer_text
    assert await world.store.orders.of_buyer(bob.id) == []


async def test_checkout_survives_a_restart(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await world.restart()
    await bob.send("13800138000")
    assert "delivery address" in bob.last.text
    await bob.send("8 Orchard Lane, Yichang")
    await bob.tap("Confirm order")
    assert "Order #1001 placed" in bob.last.text


async def test_the_whole_buying_journey_in_chinese(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    await li.send("/addproduct 夏橙5斤装，39.9，100")
    await li.tap("放到下一个空链接")
    shop = await current_shop(world, li)
    wang = world.user("王", language_code="zh-hans")
    await wang.send(f"/start l_{shop.slug}_1")
    assert "夏橙5斤装" in wang.last.text and "¥39.90" in wang.last.text and "库存：100" in wang.last.text
    await wang.tap("+")
    await wang.tap("立即购买")
    assert "快递员应拨打哪个电话" in wang.last.text
    await wang.press("📱 发送我的手机号")
    await wang.send("湖北省宜昌市秭归县橙乡路8号")
    assert "请核对订单" in wang.last.text and "¥79.80" in wang.last.text and "货到付款" in wang.last.text
    await wang.tap("确认下单")
    assert "订单 #1001 已提交" in wang.last.text
    assert "新订单 #1001" in li.last.text
    await wang.send("/myorders")
    assert "我的订单" in wang.last.text and "已下单" in wang.last.text
