"""/deletemydata: a buyer erases their personal data; the shops keep their orders without them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from core.orders import Status
from tests.stories import place_order, save_delivery, shop_with_product_on_link

PHONE_TYPED, PHONE_SHOWN, ADDRESS, NAME = "13912345678", "139 1234 5678", "12 Secret Lane, Yichang", "Roberta"
CORRECTED_PHONE = "13700001111"


async def new_buyer_orders(world, shop):
    """Roberta orders as a new buyer, typing her phone and address (so her updates hold them too)."""
    buyer = world.user(NAME)
    await buyer.send(f"/start l_{shop.slug}_1")
    await buyer.tap("Buy now")
    await buyer.send(PHONE_TYPED)
    await buyer.send(ADDRESS)
    await buyer.tap("Confirm order")
    await world.settle()
    return buyer, (await world.store.orders.of_buyer(buyer.id))[0]


async def deliver(world, order, owner_id):
    for status in (Status.CONFIRMED, Status.SHIPPED, Status.DELIVERED):
        await world.store.orders.transition(order.id, status, owner_id)


def store_files(world) -> list[Path]:
    folder = Path(world.store.db.path).parent
    return sorted(p for p in folder.iterdir() if ".sqlite3" in p.name)


async def stored(world) -> dict[str, bytes]:
    """Everything the database holds, by where: SQLite's files byte for byte (free pages and the
    log included); on PostgreSQL, whose files the test cannot read, every row of every table."""
    if world.store.db.engine == "sqlite":
        return {p.name: p.read_bytes() for p in store_files(world)}
    tables = [r[0] for r in await world.store.db.fetch_all(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    return {t: "\n".join(r[0] for r in await world.store.db.fetch_all(f"SELECT {t}::text FROM {t}")).encode()
            for t in tables}


async def test_a_buyer_erases_their_data_and_no_phone_address_or_name_of_theirs_remains(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    roberta, order = await new_buyer_orders(world, shop)
    await ann.tap("✏️ Correct details")  # a correction records the phone before and after
    await ann.tap("📱 Phone")
    await ann.send(CORRECTED_PHONE)
    await deliver(world, order, ann.id)
    await world.settle()
    everything = b"".join((await stored(world)).values())
    assert PHONE_TYPED.encode() in everything and ADDRESS.encode() in everything  # the test can see them
    assert CORRECTED_PHONE.encode() in everything

    await roberta.send("/deletemydata")
    assert "Erase your personal data?" in roberta.last.text and "cannot be undone" in roberta.last.text
    await roberta.tap("🗑 Erase my data")
    assert "your personal data is erased" in roberta.last.text and ": 1." in roberta.last.text
    await world.settle()

    for where, data in (await stored(world)).items():
        for secret in (PHONE_TYPED, PHONE_SHOWN, ADDRESS, NAME, CORRECTED_PHONE, "+86" + CORRECTED_PHONE):
            assert secret.encode() not in data, f"{secret!r} still in {where}"
    kept = await world.store.orders.get(order.id)
    assert (kept.number, kept.total, kept.units, kept.items) == (order.number, order.total, order.units, order.items)
    assert (kept.phone, kept.address, kept.recipient) == ("", "", "")
    await ann.send("/export today")
    rows = list(csv.DictReader(io.StringIO(ann.last.document.data.decode("utf-8-sig"))))
    assert len(rows) == 1 and not any(PHONE_TYPED in v or ADDRESS in v or NAME in v for v in rows[0].values())
    await roberta.send("/myorders")
    assert "#1001" not in roberta.last.text  # the orders are no longer hers


async def test_erasing_is_refused_while_an_order_is_on_its_way_and_nothing_changes(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await bob.send("/deletemydata")
    assert "#1001 are still on their way" in bob.last.text and "/deletemydata again" in bob.last.text
    assert not bob.last.buttons
    assert (await world.store.orders.get(order.id)).phone == "+8613800138000"


async def test_an_order_placed_after_the_question_stops_the_erasure(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send("/deletemydata")
    question = bob.last
    order = await place_order(world, bob, shop)
    query = await bob.tap("🗑 Erase my data", message=question)
    assert query.show_alert and "still on their way" in query.answer_text
    assert (await world.store.orders.get(order.id)).phone == "+8613800138000"


async def test_keep_it_erases_nothing(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await deliver(world, order, ann.id)
    await bob.send("/deletemydata")
    await bob.tap("Keep it")
    assert bob.last.text == "Nothing was erased."
    assert (await world.store.orders.get(order.id)).buyer_id == bob.id
    assert (await world.store.users.get(bob.id)).phone == "+8613800138000"


async def test_a_shop_owner_is_told_why_their_data_cannot_be_erased_here(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/deletemydata")
    assert "help run a shop" in ann.last.text and not ann.last.buttons


async def test_deleting_my_data_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王", language_code="zh")
    await save_delivery(world, wang)
    await wang.send(f"/start l_{shop.slug}_1")
    await wang.tap("立即购买")
    await wang.tap("确认下单")
    order = (await world.store.orders.of_buyer(wang.id))[0]
    await wang.send("/deletemydata")
    assert "还在途中" in wang.last.text
    await deliver(world, order, ann.id)
    await wang.send("/deletemydata")
    assert "删除你的个人数据" in wang.last.text
    await wang.tap("🗑 删除我的数据")
    assert "已删除你的个人数据" in wang.last.text
    assert await world.store.users.get(wang.id) is None
