"""A buyer types the quantity on a product card instead of tapping + (issue 17.5)."""

from __future__ import annotations

import pytest

from tests.stories import save_delivery, shop_with_product_on_link


@pytest.mark.parametrize("typed", ["3", "３", "3 boxes", "3份"])
async def test_a_number_typed_on_the_card_sets_the_quantity(world, typed):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send(typed)
    card = bob.last
    assert "Quantity: 3" in card.text and "Oranges" in card.text
    assert card.buttons[0] == ["−", "3", "+"] and "CN¥119.70" in card.buttons[1][0]


async def test_the_typed_quantity_is_what_buy_now_orders(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("4")
    await bob.tap("Buy now")
    assert "Oranges × 4" in bob.last.text
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.items[0].quantity == 4


async def test_a_typed_quantity_above_stock_is_capped_with_a_clear_answer(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Tea, 88, 2")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("5")
    assert "Only 2 left, so the quantity is 2 (not 5)" in bob.last.text
    assert bob.last.buttons[0] == ["−", "2", "+"]


async def test_a_typed_quantity_above_the_per_buyer_limit_is_capped_with_a_clear_answer(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Flash tea, 9.90, 100")
    await world.store.products.update(product_id, per_buyer_limit=2)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("10")
    assert "The limit is 2 per buyer and you can buy 2 more, so the quantity is 2 (not 10)" in bob.last.text
    assert bob.last.buttons[0] == ["−", "2", "+"]


async def test_a_typed_zero_asks_for_at_least_one(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("0")
    assert "at least 1" in bob.last.text and bob.last.buttons[0] == ["−", "1", "+"]


async def test_text_that_is_not_a_quantity_gets_the_usual_answer_on_a_card(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("are these sweet?")
    assert "Quantity" not in bob.last.text and "/help" in bob.last.text


async def test_a_typed_quantity_in_chinese_answers_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob", language_code="zh")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("两份")
    assert "数量：2" in bob.last.text and bob.last.buttons[0] == ["−", "2", "+"]


async def test_a_number_typed_after_a_command_is_not_a_quantity(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("/myorders")
    await bob.send("3")
    assert "Quantity" not in bob.last.text


async def test_a_number_typed_during_checkout_is_not_taken_as_a_quantity(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("3")
    assert "Quantity" not in bob.last.text and "phone" in bob.last.text.lower()


async def test_minus_at_one_says_what_it_does(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    query = await bob.tap("−")
    assert query.answer_text == "1 is the least. Tap + for more, or type a number."
    await bob.tap("+")
    query = await bob.tap("−")
    assert query.answer_text in (None, "") and bob.last.buttons[0] == ["−", "1", "+"]


async def test_a_tap_on_the_quantity_says_how_to_change_it(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    query = await bob.tap("1")
    assert "Tap − or + to change it, or type a number" in query.answer_text


async def test_a_merchant_photo_with_a_caption_still_adds_a_product_after_viewing_a_card(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send(f"/start l_{shop.slug}_1")
    await ann.send_photo(caption="Kiwifruit, 25, 80")
    assert "Kiwifruit" in ann.last.caption


async def test_cancel_while_looking_at_a_card_says_there_was_nothing_to_cancel(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send("/cancel")
    assert "nothing to cancel" in bob.last.text
    await bob.send("3")
    assert "Quantity" not in bob.last.text


async def test_a_command_while_looking_at_a_card_announces_nothing(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    before = len(bob.chat.bot_messages)
    await bob.send("/myorders")
    assert len(bob.chat.bot_messages) == before + 1 and "closed" not in bob.last.text
