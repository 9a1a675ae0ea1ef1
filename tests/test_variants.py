"""Variants (issue 20): one product in several weights or grades, each with its own price and stock."""

from __future__ import annotations

import asyncio

from tests.stories import add_product, current_shop, merchant_with_shop, save_delivery

ORANGES = "秭归脐橙, 5斤 29.9 x200, 10斤 49.9 x100"


async def shop_with_variants_on_link(world, line: str = ORANGES):
    """A merchant whose product with variants is on link 1; returns (merchant, shop, product id)."""
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, line)
    await ann.tap("🔴 Put on next free link")
    return ann, await current_shop(world, ann), product_id


async def variants_of(world, product_id):
    return {v.name: v for v in await world.store.variants.of_product(product_id)}


async def test_one_line_adds_a_product_with_its_variants(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, ORANGES)
    assert "5斤 · CN¥29.90 · stock 200" in ann.last.text and "10斤 · CN¥49.90 · stock 100" in ann.last.text
    product = await world.store.products.get(product_id)
    assert product.variant_count == 2 and product.stock == 300 and product.price == 2990


async def test_a_photo_captioned_with_variants_adds_them(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Tea, small ¥25 x10, big ¥40 x5")
    assert "small · CN¥25.00 · stock 10" in ann.last.caption and "big · CN¥40.00 · stock 5" in ann.last.caption


async def test_a_variant_part_that_cannot_be_read_is_named_and_nothing_is_saved(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct 秭归脐橙, 5斤 abc x2, 10斤 49.9 x100")
    assert "“5斤 abc x2”" in ann.last.text and "The price should be a number" in ann.last.text
    shop = await current_shop(world, ann)
    assert (await world.store.products.page(shop.id, 0, 10))[1] == 0


async def test_card_shows_the_price_range_and_the_variants_with_the_first_ticked(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "CN¥29.90 – CN¥49.90" in bob.last.text
    assert bob.last.buttons[0] == ["✅ 5斤 · CN¥29.90", "10斤 · CN¥49.90"]
    await bob.tap("10斤 · CN¥49.90")
    assert bob.last.buttons[0] == ["5斤 · CN¥29.90", "✅ 10斤 · CN¥49.90"]
    assert "Chosen: 10斤 · CN¥49.90" in bob.last.text and "In stock: 100" in bob.last.text
    assert any("Buy now · CN¥49.90" in label for label in bob.last.buttons[2])


async def test_buying_a_variant_takes_its_stock_and_every_place_names_it(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("10斤 · CN¥49.90")
    await bob.tap("+")
    await bob.tap("Buy now · CN¥99.80")
    assert "秭归脐橙 · 10斤" in bob.last.text  # the confirmation
    await bob.tap("Confirm order")
    assert "秭归脐橙 · 10斤" in bob.last.text  # the receipt
    assert "秭归脐橙 · 10斤" in ann.last.text  # the owner's notice
    variants = await variants_of(world, product_id)
    assert variants["10斤"].stock == 98 and variants["5斤"].stock == 200
    assert (await world.store.products.get(product_id)).stock == 298
    await bob.send("/myorders")
    assert "秭归脐橙 · 10斤" in bob.last.text
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.items[0].variant_name == "10斤" and order.total == 9980


async def test_a_sold_out_variant_is_marked_and_cannot_be_picked(world):
    ann, shop, product_id = await shop_with_variants_on_link(world, "Tea, small ¥25 x0, big ¥40 x5")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.buttons[0] == ["small · sold out", "✅ big · CN¥40.00"]
    query = await bob.tap("small · sold out")
    assert "small is sold out" in query.answer_text
    assert bob.last.buttons[0] == ["small · sold out", "✅ big · CN¥40.00"]


async def test_a_buyer_who_taps_a_sold_out_variant_is_told_once_when_that_variant_is_back(world):
    ann, shop, product_id = await shop_with_variants_on_link(world, "Tea, small ¥25 x0, big ¥40 x5")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    query = await bob.tap("small · sold out")
    assert "tell you when small is back" in query.answer_text
    await bob.tap("small · sold out")  # twice: still one note
    await ann.send("/products")
    await ann.tap("Tea")
    await ann.tap("⚙️ big")
    await ann.tap("✏️ Stock")
    await ann.send("+5")  # another variant: nothing for Bob
    assert not [m for m in bob.chat.bot_messages if "back in stock" in (m.text or "")]
    await ann.tap("◀ Back")
    await ann.tap("⚙️ small")
    await ann.tap("✏️ Stock")
    await ann.send("+3")
    notes = [m for m in bob.chat.bot_messages if "back in stock" in (m.text or "")]
    assert len(notes) == 1 and "Tea · small" in notes[0].text
    await bob.tap("See it", message=notes[0])
    assert bob.last.buttons[0] == ["✅ small · CN¥25.00", "big · CN¥40.00"]
    await ann.send("/products")
    await ann.tap("Tea")
    await ann.tap("⚙️ small")
    await ann.tap("✏️ Stock")
    await ann.send("=0")
    await ann.tap("✏️ Stock")
    await ann.send("+2")
    # told once: the note became the card when Bob tapped it, and no other note came
    assert not [m for m in bob.chat.bot_messages if "back in stock" in (m.text or "")]


async def test_a_cart_mixing_two_variants_places_one_order_with_both(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Add to cart")
    await bob.tap("10斤 · CN¥49.90")
    await bob.tap("Add to cart")
    await bob.send("/cart")
    assert "秭归脐橙 · 5斤" in bob.last.text and "秭归脐橙 · 10斤" in bob.last.text
    await bob.tap("Check out · CN¥79.80")
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert sorted(i.variant_name for i in order.items) == ["10斤", "5斤"] and order.total == 7980
    variants = await variants_of(world, product_id)
    assert variants["10斤"].stock == 99 and variants["5斤"].stock == 199


async def test_cancelling_an_order_returns_the_variants_units(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("10斤 · CN¥49.90")
    await bob.tap("Buy now · CN¥49.90")
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await world.store.orders.transition(order.id, "cancelled", bob.id, cancel_reason="changed my mind")
    variants = await variants_of(world, product_id)
    assert variants["10斤"].stock == 100 and (await world.store.products.get(product_id)).stock == 300


async def test_200_buyers_at_once_on_two_variants_never_oversell_either(world):
    ann, shop, product_id = await shop_with_variants_on_link(world, "Flash oranges, small 9.90 x30, big 19.90 x20")
    buyers = [world.user(f"Buyer{i}") for i in range(200)]
    for buyer in buyers:
        await save_delivery(world, buyer)
    await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
    big = buyers[::2]  # half of them pick the big one
    await asyncio.gather(*(b.tap("big · CN¥19.90") for b in big))
    await asyncio.gather(*(b.tap("Buy now") for b in buyers))
    holding = [b for b in buyers if "Please check your order" in (b.last.text or "")]
    assert len(holding) == 50
    await asyncio.gather(*(b.tap("Confirm order") for b in holding))
    sold = {"small": 0, "big": 0}
    for buyer in buyers:
        for order in await world.store.orders.of_buyer(buyer.id):
            for item in order.items:
                sold[item.variant_name] += item.quantity
    assert sold == {"small": 30, "big": 20}
    variants = await variants_of(world, product_id)
    assert variants["small"].stock == 0 and variants["big"].stock == 0
    assert (await world.store.products.get(product_id)).stock == 0


async def test_a_database_of_the_schema_before_variants_keeps_its_products_orders_holds_and_carts(tmp_path):
    from storage import Store
    from storage.db import Database, migration_files
    from storage.orders import Delivery

    before = next(v for v, path in migration_files() if path.name.endswith("_variants.sql")) - 1
    path = tmp_path / "old.sqlite3"
    old = await Database(path).open(migrate_to=before)
    async with old.write() as conn:
        await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (1, 'Ann', 0, 0)")
        await conn.execute("INSERT INTO users (id, first_name, created_at, updated_at) VALUES (2, 'Bob', 0, 0)")
        await conn.execute("INSERT INTO shops (id, slug, name, owner_id, currency, timezone, created_at, "
                           "next_order_number) VALUES (1, 'abc', 'Farm', 1, 'CNY', 'Asia/Shanghai', 0, 1002)")
        await conn.execute("INSERT INTO products (id, shop_id, name, price, stock, created_at, updated_at) "
                           "VALUES (1, 1, 'Oranges', 3990, 7, 0, 0)")
        await conn.execute(
            "INSERT INTO orders (id, shop_id, number, buyer_id, status, currency, total, units, phone, recipient, "
            "address, checkout_token, created_at, updated_at) VALUES (1, 1, 1001, 2, 'placed', 'CNY', 7980, 2, "
            "'+8613800138000', 'Bob', '8 Orchard Lane', 't1', 0, 0)")
        await conn.execute("INSERT INTO order_items (order_id, product_id, name, unit_price, quantity) "
                           "VALUES (1, 1, 'Oranges', 3990, 2)")
        await conn.execute("INSERT INTO holds (buyer_id, product_id, shop_id, token, quantity, expires_at, created_at)"
                           " VALUES (2, 1, 1, 'q9', 1, 1e12, 0)")
        await conn.execute("INSERT INTO cart_items (buyer_id, shop_id, product_id, quantity, slot, added_at) "
                           "VALUES (2, 1, 1, 3, NULL, 0)")
        await conn.execute("INSERT INTO restock_waiters (product_id, user_id, created_at) VALUES (1, 2, 0)")
    await old.close()

    store = await Store.open(path)
    try:
        product = await store.products.get(1)
        assert product.stock == 7 and not product.has_variants
        order = await store.orders.get(1)
        assert [(i.name, i.quantity, i.variant_id) for i in order.items] == [("Oranges", 2, None)]
        assert [(h.product_id, h.quantity, h.variant_id) for h in await store.holds.of_token("q9")] == [(1, 1, None)]
        assert [(c.product_id, c.quantity, c.variant_id) for c in await store.carts.lines(2, 1)] == [(1, 3, None)]
        waiters = await store.db.fetch_all("SELECT product_id, variant_id, user_id FROM restock_waiters")
        assert [tuple(w) for w in waiters] == [(1, None, 2)]
        # and the old product still sells, its old hold turning into the new order
        placed, _ = await store.orders.place(
            token="q9", shop_id=1, buyer_id=2, items=[(1, 1)], delivery=Delivery("+8613800138000", "Bob", "x 8"),
            note=None, slot=None, session_id=None)
        assert placed.number == 1002 and (await store.products.get(1)).stock == 7
        await store.orders.transition(1, "cancelled", 1, cancel_reason="test")
        assert (await store.products.get(1)).stock == 9
    finally:
        await store.close()


async def buy_variant(world, buyer, shop, label: str, plus: int = 0):
    await save_delivery(world, buyer)
    await buyer.send(f"/start l_{shop.slug}_1")
    if label != "5斤 · CN¥29.90":  # the first one is ticked already
        await buyer.tap(label)
    for _ in range(plus):
        await buyer.tap("+")
    await buyer.tap("Buy now")
    await buyer.tap("Confirm order")


async def test_pack_list_counts_units_per_variant(world):
    ann, shop, _ = await shop_with_variants_on_link(world)
    await buy_variant(world, world.user("Bob"), shop, "10斤 · CN¥49.90", plus=1)
    await buy_variant(world, world.user("Cai"), shop, "5斤 · CN¥29.90")
    await buy_variant(world, world.user("Dan"), shop, "10斤 · CN¥49.90")
    await ann.send("/packlist")
    text = ann.last.text
    assert "秭归脐橙 · 10斤: 3" in text and "秭归脐橙 · 5斤: 1" in text


async def test_orders_list_and_export_name_the_variant(world):
    import csv
    import io

    ann, shop, _ = await shop_with_variants_on_link(world)
    await buy_variant(world, world.user("Bob"), shop, "10斤 · CN¥49.90", plus=1)
    await ann.send("/orders")
    await ann.tap("#1001")
    assert "秭归脐橙 · 10斤" in ann.last.text
    await ann.send("/export today")
    rows = list(csv.DictReader(io.StringIO(ann.last.document.data.decode("utf-8-sig"))))
    assert rows[0]["Variants"] == "10斤 x2" and "秭归脐橙 · 10斤 x2" in rows[0]["Items"]


async def test_merchant_adds_edits_hides_and_deletes_a_variant_from_the_product_view(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Tea, 88, 10")
    await ann.tap("➕ Option")
    await ann.send("small ¥25 x10")
    await ann.tap("➕ Option")
    await ann.send("big abc x5")
    assert "“big abc x5”" in ann.last.text and "The price should be a number" in ann.last.text
    await ann.send("big ¥40 x5")
    assert "small · CN¥25.00 · stock 10" in ann.last.text and "big · CN¥40.00 · stock 5" in ann.last.text
    await ann.tap("⚙️ big")
    await ann.tap("✏️ Price")
    await ann.send("45")
    assert "CN¥45.00" in ann.last.text
    await ann.tap("✏️ Stock")
    await ann.send("+3")
    assert "8" in ann.last.text
    assert (await world.store.products.get(product_id)).stock == 18
    await ann.tap("Hide")
    bob = world.user("Bob")
    await bob.send(f"/start p_{(await current_shop(world, ann)).slug}_{product_id}")
    assert bob.last.buttons[0] == ["✅ small · CN¥25.00"]
    await ann.tap("Delete")
    await ann.tap("Yes")
    assert "Option big deleted" in ann.last.text and "big ·" not in ann.last.text.split("deleted")[1]


async def test_a_variants_own_link_opens_the_card_with_it_ticked(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    await ann.send("/products")
    await ann.tap("秭归脐橙")
    await ann.tap("⚙️ 10斤")
    link = next(w for w in ann.last.text.split() if "start=v_" in w)
    bob = world.user("Bob")
    await bob.send("/start " + link.split("start=")[1])
    assert bob.last.buttons[0] == ["5斤 · CN¥29.90", "✅ 10斤 · CN¥49.90"]
    await ann.tap("Hide")
    cai = world.user("Cai")
    await cai.send("/start " + link.split("start=")[1])
    assert "no longer" in cai.last.text.lower() or "catalog" in cai.last.text.lower()


async def test_deleting_a_variant_with_open_orders_is_refused_with_the_orders(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    await buy_variant(world, world.user("Bob"), shop, "10斤 · CN¥49.90")
    await ann.send("/products")
    await ann.tap("秭归脐橙")
    await ann.tap("⚙️ 10斤")
    await ann.tap("Delete")
    await ann.tap("Yes")
    assert "can't be deleted" in ann.last.text and "#1001" in ann.last.text
    assert "10斤" in {v.name for v in await world.store.variants.of_product(product_id)}


async def test_a_variants_own_limit_counts_that_variant_only(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    await ann.send("/products")
    await ann.tap("秭归脐橙")
    await ann.tap("⚙️ 10斤")
    await ann.tap("🔢 Limit")
    await ann.send("1")
    bob = world.user("Bob")
    await buy_variant(world, bob, shop, "10斤 · CN¥49.90")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("10斤 · CN¥49.90")
    query = await bob.tap("Buy now")
    assert "limited to 1 per buyer" in query.answer_text
    await buy_variant(world, bob, shop, "5斤 · CN¥29.90", plus=2)  # the other variant is not limited
    assert sum(o.units for o in await world.store.orders.of_buyer(bob.id)) == 4


async def test_the_products_limit_counts_all_its_variants_together(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    await world.store.products.update(product_id, per_buyer_limit=2)
    bob = world.user("Bob")
    await buy_variant(world, bob, shop, "10斤 · CN¥49.90")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    query = await bob.tap("+")
    assert "limit is 2 per buyer" in query.answer_text
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    query = None
    await bob.send(f"/start l_{shop.slug}_1")
    query = await bob.tap("Buy now")
    assert "limited to 2 per buyer" in query.answer_text


async def test_an_old_price_button_of_a_product_that_now_has_variants_points_to_the_options(world):
    ann = await merchant_with_shop(world)
    await add_product(ann, "Tea, 88, 10")
    old_card = ann.last
    await ann.tap("➕ Option")
    await ann.send("small ¥25 x10")
    query = await ann.tap("✏️ Stock", message=old_card)
    assert "sold in options" in query.answer_text


async def test_the_summary_splits_a_top_product_by_variant(world):
    from tests.test_summaries import after, summary_text

    ann, shop, _ = await shop_with_variants_on_link(world)
    await buy_variant(world, world.user("Bob"), shop, "10斤 · CN¥49.90", plus=1)
    await buy_variant(world, world.user("Cai"), shop, "5斤 · CN¥29.90")
    mark = len(ann.chat.bot_messages)
    await ann.send("/summary")
    text = summary_text(after(ann, mark))
    assert "1. 秭归脐橙: ×3" in text and "10斤 ×2; 5斤 ×1" in text


async def test_a_checkout_held_before_the_product_got_options_is_refused_and_the_stock_stays_their_sum(world):
    ann, shop, product_id = await shop_with_variants_on_link(world, "Tea, 88, 10")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await ann.send("/products")
    await ann.tap("Tea")
    await ann.tap("➕ Option")
    await ann.send("small ¥25 x4")
    await bob.tap("Confirm order")
    assert "no longer for sale" in bob.last.text
    assert await world.store.orders.of_buyer(bob.id) == []
    assert (await world.store.products.get(product_id)).stock == 4


async def test_a_live_link_can_show_one_variant_alone(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)  # link 1: the whole product
    await ann.tap("⚙️ 10斤")
    await ann.tap("🔴 This option alone on the next free link")
    assert "link 2" in ann.last.text.lower() and "秭归脐橙 · 10斤" in ann.last.text
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_2")
    assert bob.last.buttons[0] == ["✅ 10斤 · CN¥49.90"]  # 5斤 is not offered on this link
    await bob.tap("+")
    assert bob.last.buttons[0] == ["✅ 10斤 · CN¥49.90"]
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.buttons[0] == ["✅ 5斤 · CN¥29.90", "10斤 · CN¥49.90"]
    await ann.send("/live")
    assert "2 · 秭归脐橙 · 10斤 · CN¥49.90" in ann.last.text


async def test_a_variant_has_its_own_photo_shown_while_it_is_chosen(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="秭归脐橙, 5斤 29.9 x200, 10斤 49.9 x100")
    shop = await current_shop(world, ann)
    product = (await world.store.products.page(shop.id, 0, 10))[0][0]
    await ann.tap("⚙️ 10斤")
    await ann.tap("🖼 Photo")
    await ann.send_photo()
    variant = (await variants_of(world, product.id))["10斤"]
    assert variant.photo_file_id is not None
    bob = world.user("Bob")
    await bob.send(f"/start p_{shop.slug}_{product.id}")
    card = bob.last
    first_photo = card.photo.file_id
    await bob.tap("10斤 · CN¥49.90")
    changed = bob.chat.get(card.message_id)  # the same card, its picture changed
    assert changed.photo.file_id != first_photo and "Chosen: 10斤" in changed.caption


async def test_a_limit_refuses_what_is_not_a_whole_number_and_0_or_dash_clears_it_for_products_and_options(world):
    ann, shop, product_id = await shop_with_variants_on_link(world)
    await ann.send("/products")
    await ann.tap("秭归脐橙")
    await ann.tap("⚙️ 10斤")
    for where in ("option", "product"):
        await ann.tap("🔢 Limit")
        for bad in ("lots", "-3", "1.5"):
            await ann.send(bad)
            assert ann.last.text == "Send a whole number from 1 (or 0 for no limit).", (where, bad)
        await ann.send("3")
        assert "3" in ann.last.text and "Saved" in ann.last.text
        await ann.tap("🔢 Limit")
        await ann.send("-")
        if where == "option":
            assert (await world.store.variants.of_product(product_id))[1].per_buyer_limit is None
            await ann.send("/products")
            await ann.tap("秭归脐橙")
    assert (await world.store.products.get(product_id)).per_buyer_limit is None
