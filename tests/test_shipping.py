"""Shipping: the merchant's rules in /shipping, and the buyer's fee, region and parcel at checkout."""

from __future__ import annotations

from core.shipping import Rules, preset
from tests.stories import add_product, current_shop, merchant_with_shop, save_delivery, shop_with_product_on_link


async def _merchant(world, language_code: str = "en"):
    ann = await merchant_with_shop(world, language_code=language_code)
    return ann, await current_shop(world, ann)


async def _rules(world, shop) -> Rules:
    return await world.store.shipping.of_shop(shop.id, "CN")


async def _preset(world, shop, name: str) -> None:
    await world.store.shipping.save(shop.id, preset(name, "CNY"))


async def _buy(world, buyer, shop, address: str, slot: int = 1, plus: int = 0, buy: str = "Buy now"):
    """A returning buyer with `address` opens the link and taps Buy now: the next message."""
    await save_delivery(world, buyer, address=address)
    await buyer.send(f"/start l_{shop.slug}_{slot}")
    for _ in range(plus):
        await buyer.tap("+")
    await buyer.tap(buy)
    return buyer.last


# ---------------------------------------------------------------- the merchant sets the rules

async def test_shipping_without_rules_says_every_address_is_accepted(world):
    ann, shop = await _merchant(world)
    await ann.send("/shipping")
    assert "No shipping rules yet" in ann.last.text
    assert ["Preset: free, remote regions not served"] in ann.last.buttons
    assert not any("No shipping rules" == b for row in ann.last.buttons for b in row)


async def test_preset_free_remote_not_served_is_summarised_in_plain_words(world):
    ann, shop = await _merchant(world)
    await ann.send("/shipping")
    await ann.tap("Preset: free, remote regions not served")
    text = ann.last.text
    assert "Preset applied" in text and "Default: free shipping" in text
    assert "Not served: Inner Mongolia, Hainan, Tibet, Gansu, Qinghai, Ningxia, Xinjiang, Taiwan, Hong Kong, Macau" \
        in text and "other countries (unless named above)" in text
    rules = await _rules(world, shop)
    assert rules.regions["CN-65"] is None and rules.default_fee == 0


async def test_merchant_sets_default_fee_threshold_and_region_fees_by_typing(world):
    ann, shop = await _merchant(world)
    await ann.send("/shipping")
    await ann.tap("Default fee")
    await ann.send("8")
    assert "Default fee: CN¥8.00" in ann.last.text
    await ann.tap("Free over…")
    await ann.send("99")
    assert "Free shipping over CN¥99.00" in ann.last.text
    await ann.tap("Fees by region / not served")
    await ann.send("Xinjiang, Tibet 20")
    assert "Xinjiang, Tibet: CN¥20.00" in ann.last.text
    await ann.tap("Fees by region / not served")
    await ann.send("港澳台 不发货")
    assert "Not served: Taiwan, Hong Kong, Macau" in ann.last.text
    await ann.tap("Fees by region / not served")
    await ann.send("Tibet default")
    assert "Tibet: back to the default fee" in ann.last.text
    rules = await _rules(world, shop)
    assert rules.default_fee == 800 and rules.free_over == 9900
    assert dict(rules.regions) == {"CN-65": 2000, "CN-81": None, "CN-82": None, "CN-71": None}


async def test_an_unknown_region_or_amount_is_named_and_the_question_stays_open(world):
    ann, shop = await _merchant(world)
    await ann.send("/shipping")
    await ann.tap("Fees by region / not served")
    await ann.send("Atlantis 20")
    assert "I don't know the region “Atlantis”" in ann.last.text and "in one line" in ann.last.text
    await ann.send("Xinjiang")
    assert "needs regions and then an amount" in ann.last.text
    await ann.send("Xinjiang 20")
    assert "Xinjiang: CN¥20.00" in ann.last.text
    await ann.tap("Default fee")
    await ann.send("eight")
    assert "“eight” is not an amount" in ann.last.text
    assert (await _rules(world, shop)).default_fee == 0


async def test_only_the_owner_changes_shipping_rules_forged_taps_change_nothing(world):
    ann, shop = await _merchant(world)
    pat = world.user("Pat")
    await pat.send("/start")
    await pat.send(f"/start j_{await world.store.staff.invite(shop.id, ann.id)}")
    await pat.send("/shipping")
    assert "Only the shop's owner can change its shipping rules" in pat.last.text
    sam = world.user("Sam")
    await sam.send("/start")
    await ann.send("/shipping")
    for person in (pat, sam):
        for data in (f"sh.pre:{shop.id}:0", f"sh.ask:{shop.id}:default", f"sh.off:{shop.id}"):
            query = await person.send_callback(data, ann.last)
            assert query.answer_text
    assert not (await _rules(world, shop)).configured
    assert await world.store.flows.get(sam.id) is None


async def test_merchant_shipping_in_chinese(world):
    ann, shop = await _merchant(world, "zh")
    await ann.send("/shipping")
    assert "还没有运费规则" in ann.last.text
    await ann.tap("模板：每单8元，满99包邮，偏远20元")
    text = ann.last.text
    assert "默认运费：每单 ¥8.00" in text and "满 ¥99.00 包邮" in text
    assert "内蒙古自治区, 海南省, 西藏自治区, 甘肃省, 青海省, 宁夏回族自治区, 新疆维吾尔自治区：¥20.00" in text
    assert "🚫 不发货：台湾省, 香港特别行政区, 澳门特别行政区" in text


async def test_turning_shipping_rules_off_accepts_every_address_again(world):
    ann, shop = await _merchant(world)
    await _preset(world, shop, "remote_not_served")
    await ann.send("/shipping")
    await ann.tap("No shipping rules")
    assert "Shipping rules removed" in ann.last.text
    assert not (await _rules(world, shop)).configured


# ---------------------------------------------------------------- the buyer at checkout

async def test_checkout_shows_the_fee_for_the_region_and_the_total_with_it(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    confirm = await _buy(world, bob, shop, "湖北省宜昌市夷陵区发展大道1号")
    assert "Oranges × 1 = CN¥39.90" in confirm.text
    assert "🚚 Shipping to Hubei: CN¥8.00" in confirm.text and "Total: CN¥47.90" in confirm.text
    await bob.tap("Confirm order")
    receipt = bob.chat.get(confirm.message_id)
    assert "🚚 Shipping to Hubei: CN¥8.00" in receipt.text and "Total: CN¥47.90" in receipt.text
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.shipping_fee, order.region, order.total, order.goods) == (800, "CN-42", 4790, 3990)
    notice = ann.last
    assert "🚚 Shipping to Hubei: CN¥8.00" in notice.text and "Total: CN¥47.90" in notice.text


async def test_remote_region_pays_its_own_fee_even_over_the_threshold(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 60, 50")
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    confirm = await _buy(world, bob, shop, "新疆乌鲁木齐市天山区解放南路5号", plus=1)
    assert "Shipping to Xinjiang: CN¥20.00" in confirm.text and "Total: CN¥140.00" in confirm.text


async def test_threshold_edge_98_99_pays_and_99_00_ships_free(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Pomelo, 98.99, 50")
    await add_product(ann, "Honey, 99.00, 50")
    await ann.tap("🔴 Put on next free link")
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    confirm = await _buy(world, bob, shop, "湖北省武汉市洪山区珞喻路1号")
    assert "Shipping to Hubei: CN¥8.00" in confirm.text and "Total: CN¥106.99" in confirm.text
    assert "Add CN¥0.01 more for free shipping" in confirm.text
    carol = world.user("Carol")
    confirm = await _buy(world, carol, shop, "湖北省武汉市洪山区珞喻路2号", slot=2)
    assert "Shipping to Hubei: CN¥0.00" in confirm.text and "Total: CN¥99.00" in confirm.text
    assert "more for free shipping" not in confirm.text


async def test_region_not_served_is_refused_before_confirm_naming_it_and_the_address_can_change(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    await _preset(world, shop, "remote_not_served")
    bob = world.user("Bob")
    refused = await _buy(world, bob, shop, "西藏拉萨市城关区北京中路1号")
    assert "does not ship to <b>Tibet</b>" in refused.html or "does not ship to Tibet" in refused.text
    labels = [b for row in refused.buttons for b in row]
    assert "✅ Confirm order" not in labels and any("Change address" in b for b in labels)
    await bob.tap("Change address")
    await bob.send("湖北省宜昌市夷陵区发展大道1号")
    confirm = bob.last
    assert "Shipping to Hubei: CN¥0.00" in confirm.text and "Total: CN¥39.90" in confirm.text
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.region == "CN-42" and order.address.startswith("湖北省")


async def test_an_ambiguous_district_makes_the_buyer_pick_the_region(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "flat_remote_more")
    await world.store.shipping.save(shop.id, (await _rules(world, shop)).with_region("CN-11", 1200))
    bob = world.user("Bob")
    picker = await _buy(world, bob, shop, "朝阳区建国路88号")
    assert "Which region is this address in?" in picker.text
    assert picker.buttons[0] == ["Beijing", "Jilin"]
    await bob.tap("Beijing")
    confirm = bob.last
    assert "Shipping to Beijing: CN¥12.00" in confirm.text
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.region == "CN-11" and order.shipping_fee == 1200
    # The pick is remembered with the address: the next checkout does not ask again (and, the
    # first order not shipped yet, goes in its parcel).
    assert (await world.store.users.get(bob.id)).region == "CN-11"
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    assert "Shipping to Beijing: CN¥0.00" in bob.last.text and "Packed with your order #1001" in bob.last.text


async def test_no_question_when_the_region_does_not_change_the_fee(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.shipping.save(shop.id, Rules(default_fee=600))
    bob = world.user("Bob")
    confirm = await _buy(world, bob, shop, "鼓楼区中山路3号")
    assert "🚚 Shipping: CN¥6.00" in confirm.text and "Total: CN¥45.90" in confirm.text


async def test_shop_without_rules_shows_no_shipping_line(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    confirm = await _buy(world, bob, shop, "Somewhere 1, Atlantis")
    assert "Shipping" not in confirm.text and "Total: CN¥39.90" in confirm.text


async def test_second_order_to_the_same_address_is_one_parcel(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 50, 50")
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    first = await _buy(world, bob, shop, "湖北省宜昌市夷陵区发展大道1号")
    assert "Shipping to Hubei: CN¥8.00" in first.text
    await bob.tap("Confirm order")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    second = bob.last
    # 50 + 50 = 100 is over the threshold as one parcel: the second pays nothing, and is told why.
    assert "Shipping to Hubei: CN¥0.00" in second.text
    assert "Packed with your order #1001 in one parcel" in second.text and "CN¥8.00 on its own" in second.text
    await bob.tap("Confirm order")
    orders = await world.store.orders.of_buyer(bob.id)
    newest = orders[0]
    assert newest.shipping_fee == 0 and newest.parcel_number == 1001
    assert "One parcel with #1001" in ann.last.text


async def test_changing_the_rules_never_changes_placed_orders(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    await _buy(world, bob, shop, "湖北省宜昌市夷陵区发展大道1号")
    await bob.tap("Confirm order")
    await world.store.shipping.save(shop.id, Rules(default_fee=2500))
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.shipping_fee, order.total) == (800, 4790)


async def test_buyer_checkout_shipping_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob", language_code="zh")
    confirm = await _buy(world, bob, shop, "宜昌夷陵区发展大道1号", buy="立即购买")
    assert "🚚 运费（湖北省）：¥8.00" in confirm.text and "合计：¥47.90" in confirm.text
    await bob.tap("取消")
    refused = await _buy(world, bob, shop, "香港九龍彌敦道100號", buy="立即购买")
    assert "不发货到" in refused.text and "香港特别行政区" in refused.text


# ---------------------------------------------------------------- after the order: every place that shows it

def _csv(user):
    import csv
    import io
    return list(csv.DictReader(io.StringIO(user.last.document.data.decode("utf-8-sig"))))


async def test_csv_pack_list_orders_and_summary_show_fee_region_and_parcel(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 50, 50")
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    await _buy(world, bob, shop, "湖北省宜昌市夷陵区发展大道1号")
    await bob.tap("Confirm order")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    await ann.send("/export today")
    rows = _csv(ann)
    first, second = sorted(rows, key=lambda r: r["Order"])
    assert (first["Shipping"], first["Region"], first["Same parcel as #"]) == ("8.00", "Hubei", "")
    assert (second["Shipping"], second["Region"], second["Same parcel as #"]) == ("0.00", "Hubei", "1001")
    await ann.send("/packlist")
    assert "#1001 + #1002 Bob" in ann.last.text  # one box to pack
    await ann.send("/orders")
    labels = [b for row in ann.last.buttons for b in row]
    assert any(label.startswith("#1002") and "📦 with #1001" in label for label in labels)
    await ann.send("/summary")
    assert "Revenue: CN¥108.00" in ann.last.text and "Of which goods CN¥100.00 · shipping CN¥8.00" in ann.last.text


async def test_telegram_payments_invoice_has_the_shipping_line_and_no_address_question(tmp_path):
    from core.payments import Method
    from tests.harness import start_world
    world = await start_world(tmp_path, payment_provider_token="284685063:TEST:livecart-fake-provider")
    try:
        ann, shop, _ = await shop_with_product_on_link(world)
        await world.store.payments.set_methods(shop.id, {Method.COD, Method.CARD})
        await _preset(world, shop, "flat_remote_more")
        bob = world.user("Bob")
        await _buy(world, bob, shop, "湖北省宜昌市夷陵区发展大道1号")
        await bob.tap("card (Telegram Payments)")
        await bob.tap("Confirm order")
        invoice = bob.last
        assert invoice.invoice["total_amount"] == 4790
        prices = invoice.invoice_details["prices"]
        assert {"label": "Shipping", "amount": 800} in prices
        assert not invoice.invoice_details.get("need_shipping_address")
        record = await bob.pre_checkout(invoice)
        assert record.answered and record.ok is True
    finally:
        await world.stop()


async def test_fee_per_extra_unit_and_per_kg_from_the_variant_weight_in_its_name(world):
    ann, shop = await _merchant(world)
    await ann.send("/addproduct 秭归脐橙, 5斤 29.9 x200, 10斤 49.9 x100")
    await ann.tap("🔴 Put on next free link")
    await world.store.shipping.save(shop.id, Rules(default_fee=600, per_extra_unit=100, per_kg=200))
    await ann.send("/shipping")
    assert "Each unit after the first: +CN¥1.00" in ann.last.text
    assert "Each kg after the first (items with a weight): +CN¥2.00" in ann.last.text
    bob = world.user("Bob")
    await save_delivery(world, bob, address="湖北省宜昌市夷陵区发展大道1号")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("10斤 · CN¥49.90")
    await bob.tap("+")
    await bob.tap("Buy now · CN¥99.80")
    # 2 units of 10斤 (5 kg) = 10 kg: 6.00 + 1 extra unit 1.00 + 9 kg over the first 18.00 = 25.00
    assert "Shipping to Hubei: CN¥25.00" in bob.last.text and "Total: CN¥124.80" in bob.last.text
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.weight_grams, order.shipping_fee) == (10000, 2500)


async def test_a_shared_location_settles_the_region_when_the_typed_address_does_not(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.press("📱 Share my phone number")
    await bob.share_location(30.70, 111.29)  # Yichang, Hubei
    await bob.send("8 Orchard Lane, house 3")
    assert "Shipping to Hubei: CN¥8.00" in bob.last.text


async def test_an_address_that_names_no_region_asks_among_all_regions(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "remote_not_served")
    bob = world.user("Bob")
    picker = await _buy(world, bob, shop, "8 Orchard Lane, house 3")
    assert "Which region is this address in?" in picker.text
    labels = [b for row in picker.buttons for b in row]
    assert "Hubei" in labels and "Xinjiang" in labels and "other countries" in labels
    await bob.tap("Xinjiang")
    assert "does not ship to Xinjiang" in bob.last.text
    await bob.tap("Change address")
    await bob.send("湖北省宜昌市夷陵区")
    assert "Shipping to Hubei: CN¥0.00" in bob.last.text


async def test_ambiguous_address_whose_candidates_price_alike_is_charged_their_fee_without_a_question(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.shipping.save(shop.id, Rules(default_fee=800, regions={"CN-11": 2000, "CN-22": 2000}))
    bob = world.user("Bob")
    confirm = await _buy(world, bob, shop, "朝阳区建国路88号")
    assert "🚚 Shipping: CN¥20.00" in confirm.text and "Total: CN¥59.90" in confirm.text
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.shipping_fee, order.region) == (2000, None)


async def test_ambiguous_address_whose_candidates_are_all_not_served_is_refused(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.shipping.save(shop.id, Rules(default_fee=800, regions={"CN-33": None, "CN-50": None}))
    bob = world.user("Bob")
    refused = await _buy(world, bob, shop, "江北区建新路1号")
    assert "does not ship to this address" in refused.text
    assert "Confirm order" not in str(refused.buttons)


async def test_a_corrected_address_moves_the_orders_region_and_keeps_its_fee(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await _preset(world, shop, "flat_remote_more")
    bob = world.user("Bob")
    await _buy(world, bob, shop, "湖北省宜昌市夷陵区发展大道1号")
    await bob.tap("Confirm order")
    notice = ann.last
    await ann.tap("✏️ Correct details", message=notice)
    await ann.tap("📍 Address")
    await ann.send("湖南省长沙市岳麓区麓山南路2号")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert (order.region, order.shipping_fee) == ("CN-43", 800)
    assert "Shipping to Hunan: CN¥8.00" in ann.chat.get(notice.message_id).text
