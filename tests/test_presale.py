"""Pre-sale (预售): selling a harvest before it is picked, and the ship date that moves."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_skeleton

from core.shipping import Rules
from tests.stories import add_product, current_shop, merchant_with_shop, save_delivery, stock_of


def _today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def _en(day: date) -> str:
    return format_skeleton("MMMd" if day.year == date.today().year else "yMMMd", day, fuzzy=True, locale="en")


HARVEST = _today() + timedelta(days=17)


async def _presale_shop(world, line: str = "Navel oranges, 59, 100", when: date = HARVEST):
    """A merchant whose product is on pre-sale from `when`; returns (merchant, shop, product id)."""
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, line)
    await ann.tap("🌱 Pre-sale…")
    await ann.send(when.isoformat())
    return ann, await current_shop(world, ann), product_id


async def test_merchant_puts_a_product_on_presale_with_a_date(world):
    ann, shop, product_id = await _presale_shop(world)
    assert f"Navel oranges: pre-sale, ships from {_en(HARVEST)}" in ann.last.text
    assert f"🌱 Pre-sale · ships from {_en(HARVEST)}" in ann.last.text
    labels = [b for row in ann.last.buttons for b in row]
    assert "📅 Move ship date" in labels and "⏹ Close pre-sale" in labels and "✅ In stock now" in labels
    product = await world.store.products.get(product_id)
    assert product.ships_from == HARVEST.isoformat()


async def test_a_ship_range_and_chinese_dates_are_understood(world):
    ann = await merchant_with_shop(world, language_code="zh")
    await ann.send("/addproduct 脐橙, 59, 100")
    await ann.tap("🌱 设为预售…")
    start, end = HARVEST, HARVEST + timedelta(days=7)
    await ann.send(f"{start.month}月{start.day}日~{end.month}-{end.day}")
    assert "🌱 预售 · " in ann.last.text and "发货" in ann.last.text
    shop = await current_shop(world, ann)
    product = (await world.store.products.page(shop.id, 0, 10))[0][0]
    assert (product.ships_from, product.ships_until) == (start.isoformat(), end.isoformat())


async def test_a_past_or_unreadable_date_is_refused_with_the_reason_in_both_languages(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann)
    await ann.tap("🌱 Pre-sale…")
    await ann.send((_today() - timedelta(days=3)).isoformat())
    assert "has already passed" in ann.last.text and "Send the ship date again" in ann.last.text
    await ann.send("next harvest")
    assert "“next harvest” is not a date I can read" in ann.last.text
    assert (await world.store.products.get(product_id)).ships_from is None
    zoe = await merchant_with_shop(world, name="Zoe", shop="茶园", language_code="zh")
    await zoe.send("/addproduct 茶叶, 88, 10")
    await zoe.tap("🌱 设为预售…")
    await zoe.send("明年")
    assert "不是能识别的日期" in zoe.last.text


async def test_buyer_sees_when_it_ships_on_card_confirmation_receipt_and_myorders(world):
    ann, shop, product_id = await _presale_shop(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start p_{shop.slug}_{product_id}")
    ships = f"ships from {_en(HARVEST)}"
    assert f"🌱 Pre-sale · {ships}" in bob.last.text
    await bob.tap("Buy now")
    assert f"🌱 Navel oranges: {ships}" in bob.last.text
    confirm = bob.last
    await bob.tap("Confirm order")
    assert f"🌱 Pre-sale · {ships}" in bob.chat.get(confirm.message_id).text
    assert f"🌱 Pre-sale · {ships}" in ann.last.text  # the owner's notice
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.ships_from == HARVEST.isoformat()
    await bob.send("/myorders")
    assert ships in bob.last.text


async def test_presale_and_in_stock_items_in_one_cart_are_placed_as_separate_orders(world):
    ann, shop, presale_id = await _presale_shop(world)
    stock_id = await add_product(ann, "Honey, 30, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    for product_id in (presale_id, stock_id):
        await bob.send(f"/start p_{shop.slug}_{product_id}")
        await bob.tap("Add to cart")
    await bob.send("/cart")
    await bob.tap("Check out")
    confirm = bob.last
    assert "placed as 2 orders, one per ship date" in confirm.text
    await bob.tap("Confirm order")
    orders = sorted(await world.store.orders.of_buyer(bob.id), key=lambda o: o.number)
    assert [(o.number, [i.name for i in o.items], o.ships_from) for o in orders] == [
        (1001, ["Honey"], None), (1002, ["Navel oranges"], HARVEST.isoformat())]
    assert "Order #1001 placed" in bob.chat.get(confirm.message_id).text
    assert any("Order #1002 placed" in (m.text or "") for m in bob.chat.bot_messages)
    assert [await stock_of(world, i) for i in (presale_id, stock_id)] == [99, 9]
    await bob.send("/cart")
    assert "empty" in bob.last.text


async def test_a_presale_order_is_a_parcel_of_its_own(world):
    ann, shop, presale_id = await _presale_shop(world)
    stock_id = await add_product(ann, "Honey, 30, 10")
    await world.store.shipping.save(shop.id, Rules(default_fee=800))
    bob = world.user("Bob")
    await save_delivery(world, bob, address="湖北省宜昌市夷陵区发展大道1号")
    await bob.send(f"/start p_{shop.slug}_{stock_id}")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    await bob.send(f"/start p_{shop.slug}_{presale_id}")
    await bob.tap("Buy now")
    assert "Shipping to Hubei: CN¥8.00" in bob.last.text and "Packed with" not in bob.last.text


async def test_moving_the_date_tells_every_buyer_who_can_keep_or_cancel(world):
    ann, shop, product_id = await _presale_shop(world)
    bob, eve = world.user("Bob"), world.user("Eve", language_code="zh")
    for buyer in (bob, eve):
        await save_delivery(world, buyer)
        await buyer.send(f"/start p_{shop.slug}_{product_id}")
        await buyer.tap("Buy now" if buyer is bob else "立即购买")
        await buyer.tap("Confirm order" if buyer is bob else "确认下单")
    later = HARVEST + timedelta(days=7)
    await ann.send("/start")
    await ann.send("/products")
    await ann.tap("Navel oranges")
    await ann.tap("📅 Move ship date")
    await ann.send(later.isoformat())
    assert "2 orders moved with it; their buyers were told" in ann.last.text
    told = bob.last
    assert f"Navel oranges now ships from {_en(later)} instead of {_en(HARVEST)}" in told.text
    assert told.buttons == [["👍 Keep my order", "✖ Cancel it"]]
    assert "发货日期改为" in eve.last.text and eve.last.buttons == [["👍 保留订单", "✖ 取消订单"]]
    query = await bob.tap("Keep my order")
    assert "kept" in query.answer_text and bob.chat.get(told.message_id).buttons == []
    await eve.tap("取消订单")
    await eve.tap(eve.last.buttons[0][0])  # yes, cancel
    orders = {o.buyer_id: o for o in [*(await world.store.orders.of_buyer(bob.id)),
                                      *(await world.store.orders.of_buyer(eve.id))]}
    assert orders[bob.id].ships_from == later.isoformat() and orders[bob.id].status == "placed"
    assert orders[eve.id].status == "cancelled"
    assert await stock_of(world, product_id) == 99


async def test_closing_a_presale_early_stops_orders_and_keeps_those_placed(world):
    ann, shop, product_id = await _presale_shop(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start p_{shop.slug}_{product_id}")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    await ann.send("/products")
    await ann.tap("Navel oranges")
    await ann.tap("⏹ Close pre-sale")
    assert "Pre-sale of Navel oranges closed" in ann.last.text
    carol = world.user("Carol")
    await carol.send(f"/start p_{shop.slug}_{product_id}")
    assert "Pre-sale closed: no more orders" in carol.last.text
    assert not any("Buy now" in b for row in carol.last.buttons for b in row)
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.status == "placed" and order.ships_from == HARVEST.isoformat()


async def test_a_variant_can_be_on_presale_on_its_own(world):
    ann = await merchant_with_shop(world)
    await add_product(ann, "秭归脐橙, 5斤 29.9 x200, 10斤 49.9 x100")
    await ann.tap("⚙️ 10斤")
    await ann.tap("🌱 Pre-sale…")
    await ann.send(HARVEST.isoformat())
    assert f"🌱 Pre-sale · ships from {_en(HARVEST)}" in ann.last.text
    shop = await current_shop(world, ann)
    product = (await world.store.products.page(shop.id, 0, 10))[0][0]
    bob = world.user("Bob")
    await bob.send(f"/start p_{shop.slug}_{product.id}")
    assert "Pre-sale" not in bob.last.text  # 5斤 is chosen: in stock
    await bob.tap("10斤 · CN¥49.90")
    assert f"ships from {_en(HARVEST)}" in bob.last.text


async def test_an_overdue_presale_heads_the_daily_summary(world):
    ann, shop, product_id = await _presale_shop(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start p_{shop.slug}_{product_id}")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    past = _today() - timedelta(days=2)
    async with world.store.db.write() as conn:  # the harvest day came and went
        await conn.execute("UPDATE orders SET ships_from = ?", (past.isoformat(),))
    await ann.send("/summary")
    lines = ann.last.text.splitlines()
    assert lines[1].startswith("⚠️ Pre-sale overdue: Navel oranges") and "1 not shipped" in lines[1]


async def test_packlist_and_orders_show_what_ships_this_week(world):
    ann, shop, presale_id = await _presale_shop(world, when=_today() + timedelta(days=30))
    stock_id = await add_product(ann, "Honey, 30, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    for product_id in (presale_id, stock_id):
        await bob.send(f"/start p_{shop.slug}_{product_id}")
        await bob.tap("Buy now")
        await bob.tap("Confirm order")
    await ann.send("/packlist week")
    assert "To pack this week" in ann.last.text and "Honey" in ann.last.text and "Navel" not in ann.last.text
    await ann.send("/packlist")
    assert "Honey" in ann.last.text and "Navel" in ann.last.text
    await ann.send("/orders")
    await ann.tap("📅 This week")
    labels = [b for row in ann.last.buttons for b in row]
    assert any(label.startswith("#1002") for label in labels) and not any(label.startswith("#1001") for label in labels)
