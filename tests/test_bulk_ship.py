"""Bulk shipping (/ship): a waybill file or pasted lines, what the bot understood, one
confirmation, each buyer told in their language as a bulk send; who may do it."""

from __future__ import annotations

import io

from openpyxl import Workbook

from storage.orders import Delivery
from storage.outbox import Priority
from tests.stories import add_product, current_shop, merchant_with_shop, place_order, shop_with_product_on_link
from tests.test_desk import add_staff, set_payment


async def test_pasted_lines_show_the_plan_and_ship_on_one_confirmation(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, cai = world.user("Bob"), world.user("Cai")
    first = await place_order(world, bob, shop)
    second = await place_order(world, cai, shop)
    await world.store.users.set_language(cai.id, "zh")  # Cai reads Chinese
    await ann.send("/ship")
    assert "1001 SF1234567890" in ann.last.text
    await ann.send("1001 SF1234567890\n1002 顺丰 SF1234567891\n1003 SF1234567892\n1002 SF9999999999\nhello")
    plan = ann.last
    assert "2 to ship, 3 cannot be shipped" in plan.text
    assert "#1001  SF1234567890" in plan.text and "#1002 顺丰 SF1234567891" in plan.text
    assert "Row 3 (1003): no such order in this shop" in plan.text
    assert "Row 4 (1002): the same order twice" in plan.text
    assert "Row 5 (hello): not an order number" in plan.text
    assert (await world.store.orders.get(first.id)).status == "placed"  # nothing ships before the tap
    await ann.tap("🚚 Ship 2 orders")
    assert "Shipped 2 orders" in plan.text and plan.buttons == []
    shipped = await world.store.orders.get(second.id)
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == ("shipped", "顺丰", "SF1234567891")
    assert "on its way" in bob.last.text and "SF1234567890" in bob.last.text
    assert "发货" in cai.last.text and "顺丰 SF1234567891" in cai.last.text
    # The buyers' notices are bulk sends: after buyers' answers in the outbox.
    priorities = await world.store.db.fetch_all(
        "SELECT priority FROM outbox WHERE chat_id IN (?, ?) ORDER BY id DESC LIMIT 2", (bob.id, cai.id))
    assert [r[0] for r in priorities] == [Priority.BULK, Priority.BULK]
    # The order's card in the owner's chat follows: no Ship button left on it.
    card = next(m for m in ann.chat.messages if m.text.startswith("🚚 Order #1001"))
    assert card.buttons[0] == ["📬 Delivered"]


async def test_second_tap_on_ship_these_ships_nothing_twice(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.send("/ship 1001 SF1234567890")
    plan = ann.last
    data = plan.callback_data("🚚 Ship 1 orders")
    await ann.tap("🚚 Ship 1 orders")
    sent = len(bob.chat.messages)
    query = await ann.send_callback(data, plan)
    assert query.show_alert and "already shipped or dropped" in query.answer_text
    assert len(bob.chat.messages) == sent
    events = await world.store.orders.events(order.id)
    assert [e[1] for e in events] == ["placed", "confirmed", "shipped"]


async def test_dont_ship_drops_the_plan(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    order = await place_order(world, world.user("Bob"), shop)
    await ann.send("/ship 1001 SF1234567890")
    await ann.tap("Don't ship")
    assert "Nothing shipped" in ann.last.text
    assert (await world.store.orders.get(order.id)).status == "placed"


async def test_cancelled_shipped_and_unpaid_orders_are_named_and_not_shipped(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    orders = [await place_order(world, world.user(name), shop) for name in ("Bob", "Cai", "Dan")]
    await set_payment(world, orders[2].id, "code", "awaiting")
    await ann.send("/ship 1001 SF1234567890")
    await ann.tap("🚚 Ship 1 orders")
    await ann.send("/orders")
    await ann.tap("#1002")
    await ann.tap("✖ Cancel")
    await ann.send("no stock")
    await ann.send("/ship\n1001 SF1234567890\n1002 SF1234567891\n1003 SF1234567892")
    assert "0 to ship, 3 cannot be shipped" in ann.last.text
    assert "Row 1 (1001): already shipped" in ann.last.text
    assert "Row 2 (1002): cancelled" in ann.last.text
    assert "Row 3 (1003): waiting for payment" in ann.last.text
    assert "Nothing to ship" in ann.last.text and ann.last.buttons == []


def _xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_chinese_merchant_sends_an_xlsx_waybill_export(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.users.set_language(ann.id, "zh")  # Ann reads Chinese
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.send("/ship")
    assert "批量发货" in ann.last.text
    await ann.send_document(_xlsx([["运单号", "收件人", "订单号", "快递公司"],
                                   [758912345678, "Bob", 1001, "中通"],
                                   ['=HYPERLINK("http://evil","x")', "Eve", 1002, "中通"]]),
                            "运单.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert "可发货 1 单，无法发货 1 单" in ann.last.text
    assert "第 3 行（1002）：不是运单号" in ann.last.text
    await ann.tap("🚚 发货 1 单")
    assert "已发货 1 单" in ann.last.text
    shipped = await world.store.orders.get(order.id)
    assert (shipped.carrier, shipped.tracking_number) == ("中通", "758912345678")
    assert "on its way" in bob.last.text and "中通 758912345678" in bob.last.text


async def test_a_file_without_the_columns_or_not_a_sheet_gets_a_clear_answer(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/ship")
    await ann.send_document(b"name,phone\nBob,138\n", "orders.csv", "text/csv")
    assert "could not find the columns" in ann.last.text
    await ann.send_document(b"PK\x03\x04garbage", "w.xlsx")
    assert "could not read that file" in ann.last.text
    await ann.send_document(b"\xd0\xcf\x11\xe0old", "w.xls")
    assert "old Excel file" in ann.last.text
    await ann.send("/cancel")


async def test_a_500_row_waybill_file_ships_what_it_can_and_names_the_bad_rows(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "Oranges, 39.90, 900")
    shop = await current_shop(world, ann)
    buyers = []
    for i in range(480):
        buyer = world.user(f"B{i}", language_code="zh-hans" if i % 2 else "en")
        await world.store.users.seen(buyer.id, buyer.first_name, None, buyer.language_code)
        await world.store.orders.place(token=f"bulk{i}", shop_id=shop.id, buyer_id=buyer.id, items=[(product_id, 1)],
                                       delivery=Delivery("+8613800138000", buyer.first_name, "8 Orchard Lane"),
                                       note=None, slot=None, session_id=None)
        buyers.append(buyer)
    rows = ["订单号,快递公司,运单号"] + [f"{1001 + i},中通,7589{i:08d}" for i in range(480)]
    bad = {}
    for k in range(5):
        rows.append(f"{9001 + k},中通,75890000{k:04d}"); bad[len(rows)] = "no such order"
        rows.append(f"{1001 + k},中通,=1+1"); bad[len(rows)] = "not a tracking number"
        rows.append(f"{1010 + k},中通,7589{k:08d}"); bad[len(rows)] = "the same order twice"
        rows.append(f"=cmd|' /C calc'!A{k},中通,7589{k:08d}"); bad[len(rows)] = "not an order number"
    assert len(rows) == 501  # a header and 500 waybills
    await ann.send("/ship")
    await ann.send_document("\n".join(rows).encode("utf-8-sig"), "waybills.csv", "text/csv")
    plan = "\n".join(m.text for m in ann.chat.bot_messages[-2:])
    assert "480 to ship, 20 cannot be shipped" in plan
    for row, reason in bad.items():
        assert f"Row {row} (" in plan and reason in plan.split(f"Row {row} (")[1].split("\n")[0]
    await ann.tap("🚚 Ship 480 orders")
    assert "Shipped 480 orders" in ann.last.text
    left = await world.store.db.fetch_value(
        "SELECT count(*) FROM orders WHERE shop_id = ? AND status != 'shipped'", (shop.id,))
    assert left == 0
    for i, buyer in enumerate(buyers):
        assert f"7589{i:08d}" in buyer.last.text
        assert ("发货" if i % 2 else "on its way") in buyer.last.text


async def test_strangers_buyers_and_other_shops_staff_cannot_ship_a_shops_orders(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.send("/ship 1001 SF1234567890")
    data = ann.last.callback_data("🚚 Ship 1 orders")
    stranger = world.user("Sam")
    await stranger.send("/ship 1001 SF1234567890")
    assert "shop" in stranger.last.text and not stranger.last.buttons[0][0].startswith("🚚")
    query = await bob.send_callback(data, bob.last)
    assert query.show_alert and "can't do that here" in query.answer_text
    carol = await merchant_with_shop(world, "Carol", "Carol's Tea")
    pat = await add_staff(world, carol, "Pat")
    await pat.send("/ship 1001 SF1234567890")
    assert "Row 1 (1001): no such order in this shop" in pat.last.text
    query = await pat.send_callback(data, pat.last)
    assert query.show_alert and "can't do that here" in query.answer_text
    assert (await world.store.orders.get(order.id)).status == "placed"


async def test_staff_ship_in_bulk(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann, "Pat")
    order = await place_order(world, world.user("Bob"), shop)
    await pat.send("/ship 1001 SF1234567890")
    await pat.tap("🚚 Ship 1 orders")
    assert (await world.store.orders.get(order.id)).status == "shipped"
