"""Conversations about an order, relayed by the bot between the buyer and the shop."""

from __future__ import annotations

from tests.stories import place_order, shop_with_product_on_link
from tests.test_desk import add_staff
from tests.test_summaries import local, tomorrow


async def test_the_buyer_asks_about_an_order_and_the_shop_answers_through_the_bot(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob", username="bob88")
    await place_order(world, bob, shop)
    await bob.send("/myorders")
    await bob.tap("💬 Ask about #1001")
    await bob.send("Can you pack the <b>big</b> ones?")
    assert "Sent to Green Hill Oranges about order #1001" in bob.last.text
    await world.settle()
    relayed = ann.last
    assert relayed.text == "💬 Order #1001, the buyer writes:\nCan you pack the <b>big</b> ones?"
    assert "bob88" not in relayed.text and not relayed.text.startswith("Bob")  # no account shown
    await ann.tap("↩ Answer", message=relayed)
    await ann.send("Yes, the biggest we have.")
    assert "Sent to the buyer of order #1001" in ann.last.text
    await world.settle()
    assert bob.last.text == "💬 Green Hill Oranges about your order #1001:\nYes, the biggest we have."
    assert bob.last.buttons == [["💬 Reply"]]


async def test_a_photo_goes_through_with_its_caption(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann, "Pat")
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    await bob.send("/myorders")
    await bob.tap("💬 Ask about #1001")
    await bob.send_photo(caption="Box arrived like this")
    await world.settle()
    for member in (ann, pat):  # owner and staff both get it
        assert member.last.photo is not None and "Box arrived like this" in member.last.text


async def test_unanswered_buyer_messages_are_listed_in_the_daily_summary(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    await bob.send("/myorders")
    await bob.tap("💬 Ask about #1001")
    await bob.send("Where is my box?")
    assert await world.store.conversations.unanswered_orders(shop.id) == [1001]
    await world.settle()
    await ann.tap("↩ Answer")
    await ann.send("It ships tomorrow.")
    assert await world.store.conversations.unanswered_orders(shop.id) == []
    await bob.tap("💬 Reply")
    await bob.send("Thanks! One more thing…")
    assert await world.bot.summaries.tick(now=local(shop, tomorrow(shop), 21, 5)) == 1
    await world.settle()
    assert any("Buyers waiting for an answer: #1001" in (m.text or "") for m in ann.chat.bot_messages[-3:])


async def test_only_the_buyer_asks_and_only_the_shop_answers(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, eve = world.user("Bob"), world.user("Eve")
    order = await place_order(world, bob, shop)
    await eve.send("/start")
    for data in (f"o.ask:{order.id}", f"d.ans:{order.id}"):
        query = await eve.send_callback(data, eve.last)
        assert query.show_alert and "can't do that" in query.answer_text
    query = await bob.send_callback(f"d.ans:{order.id}", bob.last)
    assert query.show_alert and "can't do that" in query.answer_text
    assert await world.store.conversations.unanswered_orders(shop.id) == []


async def test_asking_the_shop_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王")
    await place_order(world, wang, shop)
    await world.store.users.set_language(wang.id, "zh")
    await wang.send("/myorders")
    await wang.tap("💬 咨询 #1001")
    await wang.send("请问什么时候发货？")
    assert "已发给 Green Hill Oranges" in wang.last.text


async def test_the_receipt_and_the_order_card_open_the_conversation_too(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    receipt = next(m for m in reversed(bob.chat.bot_messages) if "placed" in (m.text or ""))
    await bob.tap("💬 Ask about #1001", message=receipt)
    await bob.send("Is it sweet?")
    await world.settle()
    await ann.send("/orders")
    await ann.tap("#1001")
    await ann.tap("💬 Write to buyer")
    await ann.send("Very sweet.")
    await world.settle()
    assert bob.last.text.endswith("Very sweet.")
    assert await world.store.conversations.unanswered_orders(shop.id) == []


async def test_another_shops_owner_cannot_answer_for_this_shop(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    order = await place_order(world, world.user("Bob"), shop)
    olga = world.user("Olga")
    await olga.send("/newshop")
    await olga.send("Other shop")
    query = await olga.send_callback(f"d.ans:{order.id}", olga.last)
    assert query.show_alert and "can't do that" in query.answer_text
