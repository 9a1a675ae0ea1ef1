"""Abuse: caps on shops per account and on unpaid cash-on-delivery units per buyer per shop;
stale link opens and spent staff invites are pruned by the hourly housekeeping."""

from __future__ import annotations

import time
from dataclasses import replace

from core.config import LimitsConfig, parse_config
from core.orders import Status
from tests.harness import TEST_TOKEN
from tests.stories import place_order, save_delivery, shop_with_product_on_link, to_confirmation

DAY = 24 * 3600


def set_limits(world, **limits) -> None:
    services = world.bot.app.bot_data["services"]
    services.config = replace(services.config, limits=replace(services.config.limits, **limits))


def test_the_caps_have_sensible_defaults_and_are_read_from_the_config():
    defaults = LimitsConfig()
    assert defaults.shops_per_account == 5 and defaults.open_cod_units_per_buyer_per_shop == 50
    assert defaults.keep_link_opens_days == 90
    config = parse_config({"bot": {"token": TEST_TOKEN}, "limits": {
        "shops_per_account": 2, "open_cod_units_per_buyer_per_shop": 9, "keep_link_opens_days": 30}}, env={})
    assert (config.limits.shops_per_account, config.limits.open_cod_units_per_buyer_per_shop,
            config.limits.keep_link_opens_days) == (2, 9, 30)


# ---------------------------------------------------------------- shops per account

async def test_an_account_cannot_open_more_shops_than_the_cap(world):
    set_limits(world, shops_per_account=2)
    ann = world.user("Ann")
    for name in ("Oranges", "Tea"):
        await ann.send("/newshop")
        await ann.send(name)
    await ann.send("/newshop")
    assert "You already own 2 shops" in ann.last.text
    assert await world.store.flows.get(ann.id) is None
    assert len(await world.store.shops.memberships(ann.id)) == 2


async def test_the_shop_cap_holds_when_two_names_were_asked_for_at_once(world):
    set_limits(world, shops_per_account=1)
    ann = world.user("Ann")
    await ann.send("/newshop")
    await world.store.shops.create(ann.id, "Opened elsewhere", "CNY", "Asia/Shanghai")  # e.g. a second device
    await ann.send("Oranges")
    assert "You already own 1 shops" in ann.last.text
    assert [m.shop.name for m in await world.store.shops.memberships(ann.id)] == ["Opened elsewhere"]


async def test_the_shop_cap_refusal_speaks_the_users_language(world):
    set_limits(world, shops_per_account=1)
    li = world.user("Li", language_code="zh")
    await li.send("/newshop")
    await li.send("茶园")
    await li.send("/newshop")
    assert "你已拥有 1 家店" in li.last.text


async def test_being_staff_of_other_shops_does_not_count_towards_the_cap(world):
    set_limits(world, shops_per_account=1)
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = world.user("Pat")
    token = await world.store.staff.invite(shop.id, ann.id)
    await pat.send(f"/start j_{token}")
    await pat.send("/newshop")
    await pat.send("Pat's Tea")
    assert len([m for m in await world.store.shops.memberships(pat.id) if m.is_owner]) == 1


# ---------------------------------------------------------------- unpaid cash-on-delivery units

async def test_a_buyer_cannot_hold_more_unpaid_cash_on_delivery_units_than_the_cap(world):
    assert world.store.orders.max_open_cod_units == world.config.limits.open_cod_units_per_buyer_per_shop
    world.store.orders.max_open_cod_units = 5
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 39.90, 50")
    bob = world.user("Bob")
    first = await place_order(world, bob, shop, taps_plus=2)
    assert first.units == 3
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("+")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    assert "3 units waiting for cash on delivery" in bob.last.text and "the limit is 5" in bob.last.text
    assert len(await world.store.orders.of_buyer(bob.id)) == 1
    assert (await world.store.products.get(product_id)).stock == 47

    # Two more still fit; another buyer has a cap of their own.
    await place_order(world, bob, shop, taps_plus=1)
    assert len(await world.store.orders.of_buyer(bob.id)) == 2
    eve = world.user("Eve")
    assert (await place_order(world, eve, shop, taps_plus=4)).units == 5


async def test_units_shipped_no_longer_count_towards_the_cap(world):
    world.store.orders.max_open_cod_units = 3
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop, taps_plus=2)
    await world.store.orders.transition(order.id, Status.CONFIRMED, ann.id)
    await world.store.orders.transition(order.id, Status.SHIPPED, ann.id)
    second = await place_order(world, bob, shop, taps_plus=2)
    assert second.id != order.id and second.units == 3


async def test_the_unpaid_units_refusal_speaks_the_buyers_language(world):
    world.store.orders.max_open_cod_units = 1
    ann, shop, _ = await shop_with_product_on_link(world)
    li = world.user("Li", language_code="zh")
    await save_delivery(world, li)
    await li.send(f"/start l_{shop.slug}_1")
    await li.tap("+")
    await li.tap("立即购买")
    await li.tap("确认下单")
    assert "送达前最多 1 件" in li.last.text


# ---------------------------------------------------------------- pruning on the hourly schedule

async def test_stale_link_opens_and_spent_or_expired_invites_are_pruned_by_the_housekeeping(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    for _ in range(3):
        await bob.send(f"/start l_{shop.slug}_1")
    old = time.time() - 91 * DAY
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE link_opens SET opened_at = ? WHERE id IN (SELECT id FROM link_opens LIMIT 2)",
                           (old,))
    spent = await world.store.staff.invite(shop.id, ann.id)
    expired = await world.store.staff.invite(shop.id, ann.id)
    recent_spent = await world.store.staff.invite(shop.id, ann.id)
    fresh = await world.store.staff.invite(shop.id, ann.id)
    pat, sam = world.user("Pat"), world.user("Sam")
    await pat.send(f"/start j_{spent}")
    await sam.send(f"/start j_{recent_spent}")
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE staff_invites SET used_at = ? WHERE token = ?", (time.time() - 8 * DAY, spent))
        await conn.execute("UPDATE staff_invites SET created_at = ?, expires_at = ? WHERE token = ?",
                           (time.time() - 10 * DAY, time.time() - 9 * DAY, expired))

    pruned = await world.bot.keep_house_once()

    assert pruned["link_opens"] == 2 and pruned["staff_invites"] == 2
    assert await world.store.db.fetch_value("SELECT count(*) FROM link_opens") == 1
    left = {r[0] for r in await world.store.db.fetch_all("SELECT token FROM staff_invites")}
    assert left == {recent_spent, fresh}
    # Membership stays; the fresh invite still works.
    assert await world.store.shops.membership(pat.id, shop.id) is not None
    kim = world.user("Kim")
    await kim.send(f"/start j_{fresh}")
    assert await world.store.shops.membership(kim.id, shop.id) is not None
    assert (await world.bot.keep_house_once())["link_opens"] == 0


async def test_link_opens_are_kept_as_long_as_the_config_says(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    world.bot.config = replace(world.bot.config, limits=replace(world.bot.config.limits, keep_link_opens_days=10))
    assert (await world.bot.keep_house_once(now=time.time() + 9 * DAY))["link_opens"] == 0
    assert (await world.bot.keep_house_once(now=time.time() + 11 * DAY))["link_opens"] == 1


async def test_card_copies_of_orders_that_ended_over_a_month_ago_are_forgotten_by_the_housekeeping(world):
    # Every new-order notice is a remembered card copy: without pruning the table grows with every
    # order for ever. An open order's copies stay (they are edited when it moves on).
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    for _ in range(2):
        confirm = await to_confirmation(world, bob, shop)
        await bob.tap("Confirm order", message=confirm)
    await world.settle()
    first, second = [o.id for o in sorted(await world.store.orders.of_buyer(bob.id), key=lambda o: o.number)]
    assert await world.store.orders.cards(first) and await world.store.orders.cards(second)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE orders SET status = 'delivered', updated_at = ? WHERE id = ?",
                           (time.time() - 31 * DAY, first))
    assert (await world.bot.keep_house_once())["order_cards"] == 1
    assert await world.store.orders.cards(first) == []
    assert await world.store.orders.cards(second) != []
