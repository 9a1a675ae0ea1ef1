"""Exports a merchant opens in a spreadsheet: nothing in them runs, and the numbers add up."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from core.sheet import money_cell, phone_cell, safe_cell, safe_row
from tests.stories import place_order, save_delivery, shop_with_product_on_link


def exported(user) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(user.last.document.data.decode("utf-8-sig"))))


@pytest.mark.parametrize("typed", ["=HYPERLINK(\"http://x\",\"y\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
                                   "\t=1+1", "\r=1+1"])
def test_a_cell_that_could_run_as_a_formula_is_neutralised(typed):
    assert safe_cell(typed) == "'" + typed


def test_numbers_stay_numbers_and_plain_text_is_untouched():
    assert safe_row([1001, Decimal("39.90"), -5, "Oranges", "", None, "a=b"]) == [
        1001, Decimal("39.90"), -5, "Oranges", "", "", "a=b"]


def test_money_is_a_plain_decimal_and_phones_are_text_a_spreadsheet_keeps():
    assert money_cell(3990, "CNY") == Decimal("39.90") and money_cell(500, "JPY") == Decimal("500")
    assert phone_cell("+8613800138000", "CN") == "138 0013 8000"
    assert phone_cell("+14155550100", "CN") == "+1 415-555-0100"
    assert safe_cell(phone_cell("+14155550100", "CN")).startswith("'+1")


async def test_hostile_text_in_every_field_is_neutralised_in_the_export(world):
    ann, shop, _ = await shop_with_product_on_link(world, "=cmd|' /C calc'!A0, 39.90, 50")
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE shops SET name = '@evil shop' WHERE id = ?", (shop.id,))
    world.store.shops.forget(shop.id)
    eve = world.user("=HYPERLINK(\"http://evil\")")
    await save_delivery(world, eve, recipient="+Recipient", address="-1+2 Orchard Lane")
    order = await place_order(world, eve, shop)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE orders SET note = '@note', carrier = '=carrier', tracking_number = '-123' "
                           "WHERE id = ?", (order.id,))
    await ann.send("/export today")
    row = exported(ann)[0]
    for column in ("Buyer", "Recipient", "Address", "Items", "Note", "Carrier", "Tracking number"):
        assert row[column].startswith("'"), (column, row[column])
    assert row["Order"] == "1001" and row["Units"] == "1" and row["Total"] == "39.90"  # numbers stay numbers


async def test_export_columns_a_spreadsheet_can_add_up(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    for name in ("Bob", "Cai"):
        await place_order(world, world.user(name), shop, taps_plus=1)
    await ann.tap("✅ Confirm")
    await ann.send("/export today")
    rows = exported(ann)
    assert [r["Total"] for r in rows] == ["79.80", "79.80"] and {r["Currency"] for r in rows} == {"CNY"}
    assert sum(Decimal(r["Total"]) for r in rows) == Decimal("159.60")
    assert [r["Phone"] for r in rows] == ["138 0013 8000", "138 0013 8000"]  # not 8.6E+12
    assert [r["Status"] for r in rows] == ["placed", "confirmed"]  # words, no emoji
    assert [(r["Payment"], r["Payment status"]) for r in rows] == [("cash on delivery", "")] * 2


async def test_chinese_export_has_chinese_status_words_without_emoji(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await place_order(world, world.user("Bob"), shop)
    await ann.send("/language")
    await ann.tap("中文")
    await ann.send("/export today")
    row = exported(ann)[0]
    assert row["状态"] == "已下单"


async def add_staff(world, owner, name: str = "Pat"):
    await owner.send("/staff")
    await owner.tap("Invite staff")
    pat = world.user(name)
    await pat.send(f"/start {owner.last.text.split()[-1].split('start=')[1]}")
    return pat


async def test_staff_export_the_orders_waiting_to_ship_until_the_owner_allows_all(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    first = await place_order(world, world.user("Bob"), shop)
    await world.store.orders.transition(first.id, "shipped", ann.id)
    await place_order(world, world.user("Cai"), shop)
    await pat.send("/export all")
    assert "waiting to ship" in pat.last.caption
    assert [r["Order"] for r in exported(pat)] == ["1002"]
    await ann.send("/staff")
    assert "Staff may export the orders waiting to ship" in ann.last.text
    query = await pat.send_callback(f"st.exp:{shop.id}:1", ann.last)  # staff cannot change the rule
    assert query.show_alert
    await ann.tap("Let staff export all orders")
    assert "Staff may export all orders" in ann.last.text
    await pat.send("/export all")
    assert [r["Order"] for r in exported(pat)] == ["1001", "1002"]


def test_a_shared_location_links_to_a_map_chinese_merchants_can_open():
    from core.geo import map_link

    assert map_link(None, None, "zh") is None
    # Amap takes longitude first, and is told the point is GPS (WGS-84), as Telegram gives it.
    assert map_link(30.7, 111.3, "zh") == "https://uri.amap.com/marker?position=111.300000,30.700000&coordinate=wgs84"
    assert map_link(30.7, 111.3, "en").startswith("https://www.openstreetmap.org/?mlat=30.700000&mlon=111.300000")
