"""Flash deals on a live link: the card, the hold that keeps the deal's price, the units cap."""

from __future__ import annotations

import asyncio
import time

from core.deals import GRACE_SECONDS, DealTermsError, parse_deal_terms
from tests.stories import place_order, save_delivery, shop_with_product_on_link, to_confirmation


async def deal_on_link_1(world, terms: str = "29.90 15m 2", line: str = "Oranges, 39.90, 50"):
    ann, shop, product_id = await shop_with_product_on_link(world, line)
    await ann.send(f"/deal 1 {terms}")
    assert "Flash deal on link 1" in ann.last.text, ann.last.text
    return ann, shop, product_id


async def end_deal_seconds_ago(world, product_id: int, seconds: float) -> None:
    """As if the deal's time ran out `seconds` ago."""
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE deals SET ends_at = ? WHERE product_id = ?", (time.time() - seconds, product_id))


async def deal_taken(world, product_id: int) -> int:
    return await world.store.db.fetch_value("SELECT taken FROM deals WHERE product_id = ?", (product_id,))


def test_deal_terms_read_minutes_units_and_a_cap():
    terms = parse_deal_terms(["15m", "2"])
    assert (terms.minutes, terms.units, terms.per_buyer) == (15, None, 2)
    terms = parse_deal_terms(["30分钟", "50件", "每人3"])
    assert (terms.minutes, terms.units, terms.per_buyer) == (30, 50, 3)
    assert parse_deal_terms(["100u"]).units == 100 and parse_deal_terms(["100u"]).minutes is None
    for bad, problem in [([], "no_end"), (["2"], "no_end"), (["soon"], "unreadable"), (["0m"], "out_of_range")]:
        try:
            parse_deal_terms(bad)
        except DealTermsError as exc:
            assert exc.problem == problem
        else:
            raise AssertionError(f"{bad} was accepted")


async def test_the_card_shows_the_deal_price_the_regular_one_struck_through_units_left_and_the_end(world):
    _ann, shop, _ = await deal_on_link_1(world, "29.90 15m 20u 2")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    card = bob.last
    assert "⚡ Flash deal: CN¥29.90 CN¥39.90" in card.text
    assert card.entities_of("strikethrough") == ["CN¥39.90"]
    assert "Left at this price: 20" in card.text and "Deal ends at" in card.text
    assert "At most 2 per buyer at this price" in card.text
    assert card.buttons[1][0] == "⚡ Buy now · CN¥29.90"


async def test_an_order_during_the_deal_is_at_the_deal_price(world):
    _ann, shop, _ = await deal_on_link_1(world)
    order = await place_order(world, world.user("Bob"), shop)
    assert order.total == 2990 and "CN¥29.90" in world.tg.sent_to(order.buyer_id)[-1].text


async def test_after_the_end_the_card_shows_the_regular_price(world):
    _ann, shop, product_id = await deal_on_link_1(world)
    await end_deal_seconds_ago(world, product_id, 60)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Flash deal" not in bob.last.text and "💰 CN¥39.90" in bob.last.text
    assert bob.last.buttons[1][0] == "⚡ Buy now · CN¥39.90"


async def test_a_hold_taken_during_the_deal_keeps_its_price_past_the_end(world):
    _ann, shop, product_id = await deal_on_link_1(world)
    bob = world.user("Bob")
    confirm = await to_confirmation(world, bob, shop)
    assert "CN¥29.90" in confirm.text
    await end_deal_seconds_ago(world, product_id, 60)  # the deal ends while Bob checks his order
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.total == 2990 and order.items[0].unit_price == 2990


async def test_a_buy_now_within_the_grace_after_the_end_keeps_the_deal_price_and_after_it_does_not(world):
    _ann, shop, product_id = await deal_on_link_1(world)
    bob, cy = world.user("Bob"), world.user("Cy")
    for buyer in (bob, cy):
        await save_delivery(world, buyer)
        await buyer.send(f"/start l_{shop.slug}_1")  # both see the deal's card
    await end_deal_seconds_ago(world, product_id, GRACE_SECONDS - 1.5)
    await bob.tap("Buy now")
    assert "CN¥29.90" in bob.last.text and "The price of Oranges is now" not in bob.last.text
    await end_deal_seconds_ago(world, product_id, GRACE_SECONDS + 1.5)
    await cy.tap("Buy now")
    assert "The price of Oranges is now CN¥39.90 (it was CN¥29.90 when you tapped)" in cy.last.text
    await bob.tap("Confirm order")
    await cy.tap("Confirm order")
    totals = {o.buyer_id: o.total for o in [*(await world.store.orders.of_buyer(bob.id)),
                                              *(await world.store.orders.of_buyer(cy.id))]}
    assert totals == {bob.id: 2990, cy.id: 3990}


async def test_the_per_buyer_cap_holds_at_the_deal_price(world):
    _ann, shop, _ = await deal_on_link_1(world, "29.90 15m 2")
    bob = world.user("Bob")
    first = await place_order(world, bob, shop, taps_plus=1)  # two units: the cap
    assert first.total == 2 * 2990
    second = await place_order(world, bob, shop)
    assert second.total == 3990  # past the cap: the regular price


async def test_a_deal_of_n_units_ends_when_they_are_taken(world):
    _ann, shop, product_id = await deal_on_link_1(world, "29.90 2u")
    bob, cy, dan = world.user("Bob"), world.user("Cy"), world.user("Dan")
    assert (await place_order(world, bob, shop)).total == 2990
    assert (await place_order(world, cy, shop)).total == 2990
    await save_delivery(world, dan)
    await dan.send(f"/start l_{shop.slug}_1")
    assert "Flash deal" not in dan.last.text and "💰 CN¥39.90" in dan.last.text
    assert await deal_taken(world, product_id) == 2


async def test_units_held_at_the_deal_price_go_back_to_the_deal_when_the_checkout_is_cancelled(world):
    _ann, shop, product_id = await deal_on_link_1(world, "29.90 2u")
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    assert await deal_taken(world, product_id) == 1
    await bob.send("/cancel")
    assert await deal_taken(world, product_id) == 0
    await to_confirmation(world, bob, shop)
    await world.store.holds.expire(at=time.time() + 3600)  # the hold runs out
    assert await deal_taken(world, product_id) == 0


async def test_200_buyers_at_once_never_get_more_deal_units_than_the_deal_allows(world):
    _ann, shop, product_id = await deal_on_link_1(world, "9.90 30u", line="Flash oranges, 19.90, 100")
    buyers = [world.user(f"Buyer{i}") for i in range(200)]
    for buyer in buyers:
        await save_delivery(world, buyer)
    await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
    await asyncio.gather(*(b.tap("Buy now") for b in buyers))
    holding = [b for b in buyers if "Please check your order" in (b.last.text or "")]
    assert len(holding) == 100  # the stock
    await asyncio.gather(*(b.tap("Confirm order") for b in holding))
    rows = await world.store.db.fetch_all(
        "SELECT i.unit_price, sum(i.quantity) FROM order_items i JOIN orders o ON o.id = i.order_id"
        " WHERE o.shop_id = ? GROUP BY i.unit_price", (shop.id,))
    sold = {price: units for price, units in rows}
    assert sold == {990: 30, 1990: 70}
    assert await deal_taken(world, product_id) == 30


async def test_the_deal_command_explains_itself_and_ends_a_deal(world):
    ann, shop, product_id = await deal_on_link_1(world)
    await ann.send("/deal")
    assert "/deal 1 29.90 15m 2" in ann.last.text
    await ann.send("/deal 1 49.90 15m")
    assert "must be lower than the regular price" in ann.last.text
    await ann.send("/deal 1 29.90 soon")
    assert "could not read" in ann.last.text
    await ann.send("/deal 7 29.90 15m")
    assert "Link 7 shows no product on sale" in ann.last.text
    await ann.send("/deal 1 off")
    assert "has ended: it sells at CN¥39.90 again" in ann.last.text
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Flash deal" not in bob.last.text


async def test_deals_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    li = world.user("李", language_code="zh-hans")
    await ann.send("/deal 1 29.90 15m 2")
    await li.send(f"/start l_{shop.slug}_1")
    assert "⚡ 限时特价：¥29.90 ¥39.90" in li.last.text and "特价每人限购 2 件" in li.last.text
    assert "特价截止" in li.last.text


async def test_a_deal_on_a_product_with_options_is_refused_with_the_reason(world):
    # One deal price cannot be right for 5斤 and 10斤 at once: refused, nothing started, the cards
    # keep each option's own price.
    from tests.test_variants import shop_with_variants_on_link

    ann, shop, product_id = await shop_with_variants_on_link(world)
    await ann.send("/deal 1 19.90 15m")
    assert "several options" in ann.last.text and "Flash deal" not in ann.last.text
    assert await world.store.deals.current(product_id) is None
