"""Catalog: merchants publish and manage products from chat."""

from __future__ import annotations

from tests.stories import add_product, current_shop, merchant_with_shop

TRICKY = '<b>&"x</b>'


async def test_addproduct_step_by_step_publishes_the_card(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    assert "What is the product called?" in ann.last.text
    await ann.send("Xiacheng oranges 5kg")
    assert "What does Xiacheng oranges 5kg cost?" in ann.last.text
    await ann.send("¥39.9")
    assert "How many" in ann.last.text
    await ann.send("200")
    assert "Send a photo" in ann.last.text and ann.last.buttons == [["Skip ⏭"]]
    await ann.send_photo()
    assert "short description" in ann.last.text
    await ann.send("Sweet, juicy, picked this morning.")
    card = ann.last
    assert card.photo is not None
    assert "Published" in card.text and "Xiacheng oranges 5kg" in card.text
    assert "CN¥39.90" in card.text and "In stock: 200" in card.text and "picked this morning" in card.text
    assert ["🔴 Put on next free link"] in card.buttons and "✏️ Price" in card.buttons[0]
    shop = await current_shop(world, ann)
    products, total = await world.store.products.page(shop.id, 0, 10)
    assert total == 1 and products[0].price == 3990 and products[0].stock == 200


async def test_photo_is_kept_as_the_largest_size_file_id(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    await ann.send("Tea")
    await ann.send("88")
    await ann.send("10")
    sent = await ann.send_photo()
    await ann.tap("Skip")
    shop = await current_shop(world, ann)
    product = (await world.store.products.page(shop.id, 0, 1))[0][0]
    assert product.photo_file_id == sent.photo.file_id  # the largest size
    assert product.photo_file_id != sent.photo_sizes[0].file_id


async def test_skipping_photo_and_description_publishes_a_text_card(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    for answer in ("Kiwifruit", "25", "40"):
        await ann.send(answer)
    await ann.tap("Skip")
    await ann.tap("Skip")
    assert ann.last.photo is None and "Kiwifruit" in ann.last.text and "Published" in ann.last.text


async def test_bad_input_at_every_step_gets_the_reason_and_keeps_the_step(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    await ann.send("x" * 81)
    assert "too long: 80 characters at most" in ann.last.text
    await ann.send("Oranges")
    for bad, reason in [("free", "should be a number"), ("0", "more than zero"), ("-3", "more than zero"),
                        ("39.999", "at most two decimals"), ("1000001", "at most 1,000,000"),
                        ("$5", "not this shop's (CNY)")]:
        await ann.send(bad)
        assert reason in ann.last.text, (bad, ann.last.text)
    await ann.send("39,90")
    for bad, reason in [("lots", "whole number"), ("-1", "cannot be negative"), ("2.5", "whole number")]:
        await ann.send(bad)
        assert reason in ann.last.text, (bad, ann.last.text)
    await ann.send("200")
    await ann.send("not a photo")
    assert "send a photo" in ann.last.text
    await ann.tap("Skip")
    await ann.send("d" * 701)
    assert "700 characters at most" in ann.last.text
    await ann.tap("Skip")
    assert "Published" in ann.last.text and "CN¥39.90" in ann.last.text


async def test_quick_add_with_a_captioned_photo(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Xiacheng oranges 5kg, 39.90, 200")
    card = ann.last
    assert "Published" in card.text and card.photo is not None and "In stock: 200" in card.text


async def test_quick_add_in_one_command_without_photo(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct Cured pork, ￥６８.５, ５０")
    assert "Published" in ann.last.text and "CN¥68.50" in ann.last.text and "In stock: 50" in ann.last.text


async def test_quick_add_with_a_wrong_price_asks_only_for_the_price_and_keeps_the_rest(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Oranges, cheap, 200")
    assert "should be a number" in ann.last.text and "What does Oranges cost?" in ann.last.text
    await ann.send("39.9")
    card = ann.last
    assert "Published" in card.text and "Oranges" in card.text and "In stock: 200" in card.text
    assert card.photo is not None


async def test_quick_add_missing_stock_asks_for_just_the_stock(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct Tea, 88")
    assert "stock is missing" in ann.last.text and "How many of Tea" in ann.last.text
    await ann.send("30")
    assert "Published" in ann.last.text and "In stock: 30" in ann.last.text


async def test_chinese_quick_add_with_full_width_commas(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    await li.send("/addproduct 夏橙5斤装，39.9元，200")
    assert "已发布" in li.last.text and "¥39.90" in li.last.text and "库存：200" in li.last.text


async def test_products_lists_pages_and_opens_a_product(world):
    ann = await merchant_with_shop(world)
    for i in range(1, 11):
        await add_product(ann, f"Product {i}, {i}, {i}")
    await ann.send("/products")
    assert "10 products (page 1 of 2)" in ann.last.text
    assert ann.last.buttons[0] == ["Product 10 · CN¥10.00 · 10 left"]
    await ann.tap("▶")
    assert "page 2 of 2" in ann.last.text and ann.last.edited
    await ann.tap("Product 1 · CN¥1.00 · 1 left")
    assert "<b>" not in ann.last.text and "Product 1" in ann.last.text and "✏️ Name" in ann.last.buttons[0]


async def test_editing_price_stock_name_and_description(world):
    ann = await merchant_with_shop(world)
    await add_product(ann, "Oranges, 39.90, 200")
    await ann.tap("✏️ Price")
    assert "Now: CN¥39.90" in ann.last.text
    await ann.send("35")
    assert "Saved" in ann.last.text and "CN¥35.00" in ann.last.text
    await ann.tap("✏️ Stock")
    await ann.send("+50")
    assert "In stock: 250" in ann.last.text
    await ann.tap("✏️ Stock")
    await ann.send("-5")
    assert "In stock: 245" in ann.last.text
    await ann.tap("✏️ Stock")
    await ann.send("=120")
    assert "In stock: 120" in ann.last.text
    await ann.tap("✏️ Stock")
    await ann.send("-500")
    assert "below zero" in ann.last.text
    await ann.send("/cancel")
    await ann.tap("✏️ Name")
    await ann.send("Navel oranges")
    assert "Navel oranges" in ann.last.text
    await ann.tap("📝 Description")
    await ann.send("Sweet.")
    assert "Sweet." in ann.last.text
    await ann.tap("🔢 Limit")
    await ann.send("2")
    assert "Limit per buyer: 2" in ann.last.text


async def test_stock_never_goes_negative_through_edits(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Oranges, 39.90, 3")
    await ann.tap("✏️ Stock")
    await ann.send("-4")
    assert "below zero" in ann.last.text
    assert (await world.store.products.get(product_id)).stock == 3


async def test_editing_a_product_never_changes_past_orders(world):
    # Orders record name and unit price; the Buying journey tests this end to end.
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Oranges, 39.90, 3")
    shop = await current_shop(world, ann)
    async with world.store.db.write() as conn:
        await conn.execute(
            "INSERT INTO orders (shop_id, number, buyer_id, status, currency, total, units, phone, recipient, address,"
            " checkout_token, created_at, updated_at) VALUES (?, 1001, ?, 'placed', 'CNY', 3990, 1, '1', 'A', 'B',"
            " 't', 0, 0)", (shop.id, ann.id))
        await conn.execute("INSERT INTO order_items (order_id, product_id, name, unit_price, quantity) "
                           "VALUES (1, ?, 'Oranges', 3990, 1)", (product_id,))
    await ann.tap("✏️ Price")
    await ann.send("10")
    await ann.tap("✏️ Name")
    await ann.send("Lemons")
    row = await world.store.db.fetch_one("SELECT name, unit_price FROM order_items WHERE order_id = 1")
    assert tuple(row) == ("Oranges", 3990)


async def test_hide_and_show_a_product(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann)
    await ann.tap("🙈 Hide")
    assert "Hidden from buyers" in ann.last.text
    assert (await world.store.products.get(product_id)).hidden
    await ann.tap("👁 Show")
    assert not (await world.store.products.get(product_id)).hidden


async def test_delete_asks_first_then_deletes_softly(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Oranges, 39.90, 3")
    await ann.tap("🗑 Delete")
    assert "Delete Oranges?" in ann.last.text
    await ann.tap("No, keep it")
    assert not (await world.store.products.get(product_id)).deleted
    await ann.tap("🗑 Delete")
    await ann.tap("Yes, delete")
    assert "was deleted" in ann.last.text
    product = await world.store.products.get(product_id)
    assert product.deleted and product.name == "Oranges"  # kept for past orders
    await ann.send("/products")
    assert "no products yet" in ann.last.text


async def test_a_stranger_cannot_manage_someone_elses_product(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Oranges, 39.90, 3")
    eve = world.user("Eve")
    await eve.send("/start")
    for data in (f"cat.edit:{product_id}:price", f"cat.vis:{product_id}:1", f"cat.delok:{product_id}",
                 f"cat.view:{product_id}", f"cat.nodesc:{product_id}", f"live.next:{product_id}"):
        query = await eve.send_callback(data, eve.last)
        assert query.answered and "can't do that" in query.answer_text, data
    product = await world.store.products.get(product_id)
    assert not product.hidden and not product.deleted and product.price == 3990


async def test_addproduct_without_a_shop_offers_to_open_one(world):
    bob = world.user("Bob")
    await bob.send("/addproduct")
    assert "don't have a shop yet" in bob.last.text and bob.last.buttons == [["🏪 Open a shop"]]


async def test_a_product_named_with_markup_shows_intact_and_unformatted_everywhere(world):
    ann = await merchant_with_shop(world)
    await ann.send(f"/addproduct {TRICKY}, 9.90, 5")
    card = ann.last
    assert TRICKY in card.text
    assert card.entities_of("bold") == [TRICKY] or TRICKY not in "".join(card.entities_of("bold"))
    await ann.send("/products")
    assert ann.last.buttons[0][0].startswith(TRICKY)
    await ann.tap(TRICKY)
    assert TRICKY in ann.last.text
    await ann.tap("✏️ Name")
    assert TRICKY in ann.last.text


async def test_catalog_in_chinese(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    await li.send("/addproduct")
    assert "商品叫什么名字" in li.last.text
    await li.send("夏橙")
    await li.send("abc")
    assert "价格应该是数字" in li.last.text


async def test_the_product_view_shows_its_permanent_link_which_opens_the_product(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Tea, 88, 10")
    shop = await current_shop(world, ann)
    link = f"https://t.me/livecart_test_bot?start=p_{shop.slug}_{product_id}"
    assert link in ann.last.text
    bob = world.user("Bob")
    await bob.send(f"/start p_{shop.slug}_{product_id}")
    assert "Tea" in bob.last.text and "Buy now" in str(bob.last.buttons)
