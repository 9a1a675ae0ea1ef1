"""Damaged-goods claims (坏果包赔): the shop's policy, the buyer's claim with photos, the decision."""

from __future__ import annotations

from core.claims import Policy
from core.shipping import Rules
from tests.stories import place_order, save_delivery, shop_with_product_on_link


async def _claims_on(world, shop, **policy) -> None:
    await world.store.claims.set_policy(shop.id, Policy(enabled=True, **policy))


async def _shipped(world, ann, bob, shop, plus: int = 2):
    """Bob's order of 1 + `plus` oranges, shipped by Ann; returns the order."""
    order = await place_order(world, bob, shop, taps_plus=plus)
    await ann.tap("🚚 Ship")
    await ann.send("SF1234567890")
    return order


async def _claim(bob, units: str = "2", photos: int = 2, note: str | None = "Bruised, see photos"):
    await bob.tap("Something arrived damaged")
    await bob.tap(units)
    for _ in range(photos):
        await bob.send_photo()
    if note:
        await bob.send(note)
    return await bob.tap("✅ Send claim")


async def test_owner_turns_claims_on_and_buyers_see_the_promise_on_card_and_receipt(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/claims")
    assert "Claims are off" in ann.last.text
    await ann.tap("✅ Take claims")
    assert "Window: 48 h after delivery, or 7 days after shipping" in ann.last.text
    await ann.tap("📝 Text for buyers")
    await ann.send("坏果包赔：签收48小时内拍照")
    assert "Shown to buyers: 坏果包赔：签收48小时内拍照" in ann.last.text
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "🛡 坏果包赔：签收48小时内拍照" in bob.last.text
    await place_order(world, bob, shop)
    assert "🛡 坏果包赔：签收48小时内拍照" in bob.last.text  # the receipt


async def test_buyer_claims_with_photos_and_the_shop_approves_into_the_refund_ledger(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    bob = world.user("Bob")
    order = await _shipped(world, ann, bob, shop)
    assert any("Something arrived damaged" in b for row in bob.last.buttons for b in row)  # the shipped notice
    await _claim(bob)
    assert "Your claim on order #1001 went to Green Hill Oranges: CN¥79.80" in bob.last.text
    notice = ann.last
    assert "Damage claim on order #1001" in notice.text and "Oranges: 2 damaged" in notice.text
    assert "CN¥79.80" in notice.text and "Bruised, see photos" in notice.text
    assert world.tg.count(method="sendMediaGroup", chat_id=ann.id, ok=True) == 1
    await ann.tap("✅ Approve CN¥79.80")
    assert "approved" in ann.last.text and "Refund sent" in str(ann.last.buttons)
    assert "approved your claim on order #1001: CN¥79.80 will be paid back" in bob.last.text
    refunds = await world.store.refunds.of_order(order.id)
    assert [(r.amount, r.reason) for r in refunds] == [(7980, "damage_claim")]
    assert (await world.store.orders.get(order.id)).total == 3 * 3990  # never an edit of the order
    await ann.tap("Refund sent")
    assert (await world.store.refunds.of_order(order.id))[0].settled


async def test_another_amount_and_a_rejection_with_a_reason_reach_the_buyer(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    bob, carol = world.user("Bob"), world.user("Carol")
    first = await _shipped(world, ann, bob, shop)
    await _claim(bob)
    await ann.tap("✏️ Another amount")
    await ann.send("20")
    assert "CN¥20.00 will be paid back" in bob.last.text
    assert [r.amount for r in await world.store.refunds.of_order(first.id)] == [2000]
    second = await _shipped(world, ann, carol, shop)
    await _claim(carol, units="1")
    await ann.tap("✖ Reject")
    await ann.send("The photo shows another brand's box")
    assert "did not approve your claim on order #1002: The photo shows another brand's box" in carol.last.text
    assert await world.store.refunds.of_order(second.id) == []


async def test_a_claim_needs_a_photo_and_at_most_five_and_units_bought(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    bob = world.user("Bob")
    order = await _shipped(world, ann, bob, shop, plus=0)
    await bob.tap("Something arrived damaged")
    assert bob.last.buttons[0] == ["1"]  # one was bought: one at most
    query = await bob.send_callback(f"cl.u:{order.id}:0:5", bob.last)  # forged: more than bought
    assert "more units than were bought" in query.answer_text
    await bob.tap("1")
    query = await bob.tap("✅ Send claim")
    assert "at least one photo" in query.answer_text
    for _ in range(6):
        await bob.send_photo()
    assert "at most 5 photos" in bob.last.text
    await bob.tap("✅ Send claim")
    claims = await world.store.claims.of_order(order.id)
    assert len(claims) == 1 and len(claims[0].photos) == 5


async def test_outside_the_window_a_claim_is_refused_with_the_reason(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop, hours_after_delivery=48)
    bob = world.user("Bob")
    order = await _shipped(world, ann, bob, shop)
    await bob.tap("I received #1001")
    async with world.store.db.write() as conn:  # delivered three days ago
        await conn.execute("UPDATE order_events SET at = at - 3 * 86400 WHERE order_id = ?", (order.id,))
    await bob.send("/myorders")
    query = await bob.tap("Something arrived damaged")
    assert "The time for a claim has passed: 48 h after delivery" in query.answer_text
    assert await world.store.claims.of_order(order.id) == []


async def test_one_open_claim_per_line(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    bob = world.user("Bob")
    order = await _shipped(world, ann, bob, shop)
    await _claim(bob)
    await bob.send("/myorders")
    query = await _claim(bob, units="1", note=None)
    assert "already has a claim waiting" in query.answer_text
    assert len(await world.store.claims.of_order(order.id)) == 1


async def test_only_the_buyer_claims_and_only_the_shop_decides_forged_and_replayed_taps_change_nothing(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    bob, eve = world.user("Bob"), world.user("Eve")
    order = await _shipped(world, ann, bob, shop)
    await eve.send("/start")
    for data in (f"o.dmg:{order.id}", f"cl.u:{order.id}:0:1", f"cl.send:{order.id}"):
        query = await eve.send_callback(data, eve.last)
        assert "can't do that" in query.answer_text
    await _claim(bob)
    claim = (await world.store.claims.of_order(order.id))[0]
    for person in (eve, bob):  # a stranger, and the buyer himself
        query = await person.send_callback(f"cl.ok:{claim.id}", person.last)
        assert "can't do that" in query.answer_text
    assert (await world.store.claims.get(claim.id)).status == "open"
    notice = ann.last
    await ann.tap("✅ Approve CN¥79.80", message=notice)
    query = await ann.tap("✅ Approve CN¥79.80", message=notice)  # a second tap, or a replay
    assert "decided already" in query.answer_text
    assert len(await world.store.refunds.of_order(order.id)) == 1


async def test_summary_shows_claims_damage_rate_and_those_waiting(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    bob = world.user("Bob")
    await _shipped(world, ann, bob, shop)
    await _claim(bob)
    await ann.send("/summary today")
    text = "\n".join(m.text or "" for m in ann.chat.bot_messages[-2:])
    assert "Damage claims: 1 (0 approved" in text
    assert "Damage rate: Oranges 2/3 (67%)" in text
    assert "Claims waiting for your decision: #1001" in text


async def test_percent_policy_and_claims_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/claims")
    await ann.tap("✅ Take claims")
    await ann.tap("💰 What is paid back")
    await ann.send("50% 2")
    assert "50% of the damaged units' value, from 2 damaged units" in ann.last.text
    bob = world.user("Bob", language_code="zh")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("+")
    await bob.tap("立即购买")
    await bob.tap("确认下单")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await ann.tap("🚚 Ship")
    await ann.send("SF1234567890")
    await bob.tap("收到坏果")
    query = await bob.tap("1")
    assert "坏果 2 个起赔" in query.answer_text
    await bob.tap("2")
    await bob.send_photo()
    await bob.tap("✅ 提交申请")
    assert "按店家政策可赔 ¥39.90" in bob.last.text
    await ann.tap("✅ Approve CN¥39.90")
    assert "同意了订单 #1001 的售后申请" in bob.last.text
    assert [r.amount for r in await world.store.refunds.of_order(order.id)] == [3990]


async def test_damage_rate_by_shipping_region_in_the_summary(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _claims_on(world, shop)
    await world.store.shipping.save(shop.id, Rules(default_fee=0))
    bob = world.user("Bob")
    await save_delivery(world, bob, address="湖北省宜昌市夷陵区发展大道1号")
    await _shipped(world, ann, bob, shop)
    await _claim(bob, units="1")
    await ann.send("/summary today")
    text = "\n".join(m.text or "" for m in ann.chat.bot_messages[-2:])
    assert "Damage rate by region: Hubei 1/3 (33%)" in text
