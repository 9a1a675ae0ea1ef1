"""Conversations end cleanly: a command ends the one it interrupts, and reply keyboards (share
phone, share location) go away when their step ends, whichever way it ends."""

from __future__ import annotations

from tests.stories import merchant_with_shop, save_delivery, shop_with_product_on_link


async def test_a_command_ends_addproduct_so_typed_text_is_not_taken_as_a_product_name(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    assert "name" in ann.last.text.lower()
    await ann.send("/orders")
    assert any("closed" in m.text for m in ann.chat.bot_messages[-3:])
    await ann.send("Kiwifruit")
    assert "Kiwifruit" not in ann.last.text
    assert await world.store.products.page((await world.store.shops.memberships(ann.id))[0].shop.id, 0, 8) == ([], 0)
    assert await world.store.flows.get(ann.id) is None


async def test_cancel_during_checkout_removes_the_share_phone_keyboard(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    assert bob.chat.reply_keyboard_buttons == [["📱 Share my phone number"]]
    await bob.send("/cancel")
    assert "Cancelled" in bob.last.text
    assert bob.chat.reply_keyboard is None


async def test_another_command_during_checkout_removes_the_keyboard_and_says_the_checkout_was_cancelled(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("+8613800138000")
    assert bob.chat.reply_keyboard_buttons == [["📍 Share my location"]]
    await bob.send("/myorders")
    assert bob.chat.reply_keyboard is None
    assert any("Checkout cancelled" in m.text for m in bob.chat.bot_messages[-3:])
    await bob.send("8 Orchard Lane, Yichang")
    assert "Please check your order" not in bob.last.text


async def test_typed_address_removes_the_location_keyboard_before_the_order_is_placed(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("+8613800138000")
    await bob.send("8 Orchard Lane, Yichang")
    assert bob.chat.reply_keyboard is None
    await bob.tap("Confirm order")
    assert "Order #1001 placed" in bob.last.text
    assert bob.chat.reply_keyboard is None


async def test_shared_location_removes_the_location_keyboard(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("+8613800138000")
    await bob.share_location(30.7, 111.3)
    assert bob.chat.reply_keyboard is None


async def test_cancel_button_after_change_removes_the_share_phone_keyboard(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    ship_to = bob.last
    await bob.tap("Change address")
    assert bob.chat.reply_keyboard_buttons == [["📍 Share my location"]]
    await bob.tap("Cancel", ship_to)
    assert "Checkout cancelled" in bob.last.text
    assert bob.chat.reply_keyboard is None


async def test_cancel_with_nothing_to_cancel_still_says_so(world):
    bob = world.user("Bob")
    await bob.send("/cancel")
    assert "nothing to cancel" in bob.last.text
