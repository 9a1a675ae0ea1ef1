"""/admin, the operator's hand: find a shop or an order, suspend and resume a shop or a user."""

from __future__ import annotations

import pytest

from tests.harness import start_world
from tests.stories import place_order, shop_with_product_on_link


@pytest.fixture
async def run(tmp_path):
    """A world whose first user (Olga) is the operator; (world, olga)."""
    world = await start_world(tmp_path, admins=frozenset({10001}))
    olga = world.user("Olga")
    assert olga.id == 10001
    await olga.send("/start")
    try:
        yield world, olga
    finally:
        await world.stop()


async def test_a_suspended_shops_links_take_no_orders_and_its_buyers_still_see_theirs(run):
    world, olga = run
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    carol = world.user("Carol")
    await carol.send(f"/start l_{shop.slug}_1")
    card = carol.last  # opened before the suspension: its Buy now must not work after it

    await olga.send(f"/admin suspend shop {shop.slug} counterfeit goods reported")
    assert "is suspended" in olga.last.text
    await world.settle()
    assert "suspended by the bot's operator: counterfeit goods reported" in ann.last.text

    await bob.send(f"/start l_{shop.slug}_1")
    assert "paused for now and takes no orders" in bob.last.text
    await bob.send("/myorders")
    assert f"#{order.number}" in bob.last.text
    query = await carol.tap("Buy now", message=card)
    assert query.show_alert and "paused" in query.answer_text
    assert len(await world.store.orders.of_buyer(carol.id)) == 0

    await olga.send(f"/admin resume shop {shop.slug}")
    assert "takes orders again" in olga.last.text
    await carol.send(f"/start l_{shop.slug}_1")
    assert "Buy now" in " ".join(b for row in carol.last.buttons for b in row)
    actions = [(a.action, a.reason) for a in await world.store.operator.log()]
    assert actions == [("resume_shop", None), ("suspend_shop", "counterfeit goods reported")]


async def test_a_suspended_user_gets_the_reason_and_nothing_else(run):
    world, olga = run
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send("/start")
    await olga.send(f"/admin suspend user {bob.id} spam in the group")
    assert f"User {bob.id} is suspended" in olga.last.text
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.text == "Your account is suspended by the bot's operator: spam in the group"
    await olga.send(f"/admin resume user {bob.id}")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Oranges" in bob.last.text


async def test_operators_find_a_shop_and_an_order_by_number(run):
    world, olga = run
    ann, shop, _ = await shop_with_product_on_link(world)
    order = await place_order(world, world.user("Bob"), shop)
    await olga.send(f"/admin shop {shop.slug}")
    assert shop.name in olga.last.text and "Orders: 1" in olga.last.text and "Open" in olga.last.text
    await olga.send(f"/admin order {shop.slug} {order.number}")
    assert f"#{order.number}" in olga.last.text and "Oranges" in olga.last.text
    await olga.send(f"/admin order {shop.slug} 9999")
    assert "has no order #9999" in olga.last.text
    await olga.send("/admin shop nosuchshop")
    assert "No shop is called nosuchshop" in olga.last.text


async def test_suspending_needs_a_reason_and_an_operator_cannot_be_suspended(run):
    world, olga = run
    ann, shop, _ = await shop_with_product_on_link(world)
    await olga.send(f"/admin suspend shop {shop.slug}")
    assert "Say why" in olga.last.text
    assert await world.store.operator.shop_suspension(shop.id) is None
    await olga.send(f"/admin suspend user {olga.id} testing")
    assert "cannot be suspended" in olga.last.text
    await olga.send("/admin frobnicate")
    assert "I don't know the period “frobnicate”" in olga.last.text
    await olga.send("/admin suspend")
    assert olga.last.text.startswith("Operator commands:")


async def test_to_a_shop_owner_or_a_buyer_the_operators_commands_do_not_exist(run):
    world, olga = run
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send(f"/admin suspend shop {shop.slug} mine")
    assert ann.last.text == "I don't know that command. Send /help to see what I can do."
    assert await world.store.operator.shop_suspension(shop.id) is None


async def test_suspending_a_shop_in_chinese(run):
    world, olga = run
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王", language_code="zh")
    await olga.send(f"/admin suspend shop {shop.slug} 假货")
    await wang.send(f"/start l_{shop.slug}_1")
    assert "暂停营业" in wang.last.text
