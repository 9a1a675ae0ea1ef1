"""Live links: slots 1..N that rotate products, deep links, QR codes and live sessions."""

from __future__ import annotations

import io
import re

import zxingcpp
from PIL import Image

from core import qr
from tests.stories import add_product, current_shop, merchant_with_shop

BOT = "https://t.me/livecart_test_bot"
ERROR_WORDS = ("went wrong", "sorry, something", "error", "抱歉")


def slot_url(slug: str, slot: int) -> str:
    return f"{BOT}?start=l_{slug}_{slot}"


def qr_texts(data: bytes) -> list[str]:
    image = Image.open(io.BytesIO(data))
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


async def shop_with_products(world, *lines: str, name: str = "Ann", language_code: str = "en"):
    """A merchant, their shop and products (ids in the order given)."""
    user = await merchant_with_shop(world, name, language_code=language_code)
    ids = [await add_product(user, line) for line in lines]
    shop = await current_shop(world, user)
    return user, shop, ids


async def pin_via_menu(user, slot: int, item_text: str) -> None:
    """/live, tap the slot's number, "Put a product", tap the product."""
    await user.send("/live")
    await user.tap(str(slot))
    await user.tap("📦 Put a product")
    await user.tap(item_text)


async def opens(world) -> list[tuple]:
    rows = await world.store.db.fetch_all(
        "SELECT shop_id, kind, slot, product_id, session_id, user_id FROM link_opens ORDER BY id")
    return [tuple(r) for r in rows]


def slot_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\d+ · ", line)]


def assert_friendly(text: str) -> None:
    lowered = text.lower()
    assert not any(word in lowered for word in ERROR_WORDS), text


# ---------------------------------------------------------------- the board and the slot menu

async def test_board_shows_slots_with_product_price_and_stock_left(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 0")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 3, tea)
    await ann.send("/live")
    board = ann.last
    assert "Live links of Green Hill Oranges" in board.text
    assert slot_lines(board.text) == ["1 · Oranges · CN¥39.90 · 200 left", "2 · empty",
                                      "3 · Tea · CN¥88.00 · sold out", "4 · empty"]
    assert board.buttons[0] == ["1", "2", "3", "4"]
    assert ["🖨 QR sheet", "🏪 Shop QR"] in board.buttons and ["▶ Start a live session"] in board.buttons


async def test_an_empty_board_shows_three_empty_links(world):
    ann = await merchant_with_shop(world)
    await ann.send("/live")
    assert slot_lines(ann.last.text) == ["1 · empty", "2 · empty", "3 · empty"]


async def test_live_without_a_shop_offers_to_open_one(world):
    bob = world.user("Bob")
    await bob.send("/live")
    assert "don't have a shop yet" in bob.last.text and bob.last.buttons == [["🏪 Open a shop"]]


async def test_slot_menu_shows_the_link_and_its_actions(world):
    ann, shop, _ = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.send("/live")
    await ann.tap("2")
    menu = ann.last
    assert "Link 2" in menu.text and "2 · empty" in menu.text and slot_url(shop.slug, 2) in menu.text
    assert menu.buttons == [["📦 Put a product", "🔀 Swap with…"], ["✖ Clear", "🔳 QR code"], ["◀ Live links"]]
    await ann.tap("◀ Live links")
    assert "Live links of" in ann.last.text


async def test_put_a_product_on_a_slot_via_the_menu(world):
    ann, shop, (oranges, _tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await ann.send("/live")
    await ann.tap("2")
    await ann.tap("📦 Put a product")
    assert "Which product goes on link 2?" in ann.last.text
    assert ["Oranges · CN¥39.90 · 200 left"] in ann.last.buttons and ["Tea · CN¥88.00 · 10 left"] in ann.last.buttons
    await ann.tap("Oranges · CN¥39.90 · 200 left")
    board = ann.last
    assert "Link 2 now shows Oranges" in board.text
    assert "2 · Oranges · CN¥39.90 · 200 left" in slot_lines(board.text)
    assert await world.store.live.product_on(shop.id, 2) == oranges


async def test_put_a_product_without_visible_products_offers_to_add_one(world):
    ann, _shop, _ = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.tap("🙈 Hide")
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("📦 Put a product")
    assert "no visible products" in ann.last.text and ann.last.buttons == [["➕ Add a product"]]


async def test_product_picker_pages_through_many_products(world):
    ann, shop, ids = await shop_with_products(world, *[f"P{i}, {i}, {i}" for i in range(1, 11)])
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("📦 Put a product")
    assert len([row for row in ann.last.buttons if "left" in row[0]]) == 8
    await ann.tap("▶")
    await ann.tap("P1 · CN¥1.00 · 1 left")
    assert await world.store.live.product_on(shop.id, 1) == ids[0]


async def test_put_on_next_free_link_picks_the_lowest_free_slot_and_refuses_twice(world):
    ann, shop, (oranges, tea, kiwi) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10",
                                                               "Kiwi, 5, 3")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 3, tea)
    # The kiwi's card is the newest message: it has the button.
    assert ["🔴 Put on next free link"] in ann.last.buttons
    query = await ann.tap("🔴 Put on next free link")
    assert query.answered and "Link 2 now shows Kiwi" in query.answer_text
    assert "Link 2 now shows Kiwi" in ann.last.text and slot_url(shop.slug, 2) in ann.last.text
    assert ann.last.buttons == [["🔴 Live links"]]
    assert await world.store.live.product_on(shop.id, 2) == kiwi
    again = await ann.tap("🔴 Put on next free link")  # the card's button, tapped a second time
    assert again.show_alert and "already on link 2" in again.answer_text
    assert [p.slot for p in await world.store.live.pins(shop.id)] == [1, 2, 3]
    await ann.tap("🔴 Live links")
    assert "2 · Kiwi · CN¥5.00 · 3 left" in slot_lines(ann.last.text)


async def test_put_on_next_free_link_when_all_fifty_are_full_says_so(world):
    ann, shop, ids = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    for slot in range(1, 51):
        await world.store.live.pin(shop.id, slot, ids[0])
    query = await ann.send_callback(f"live.next:{ids[1]}", ann.last)
    assert query.show_alert and "All 50 links are in use" in query.answer_text
    assert await world.store.live.slots_of(ids[1]) == []


async def test_swap_two_slots(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 2, tea)
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("🔀 Swap with…")
    assert "Swap link 1 with which link?" in ann.last.text and ann.last.buttons[0] == ["2", "3"]
    await ann.tap("2")
    assert "Links 1 and 2 swapped" in ann.last.text
    assert slot_lines(ann.last.text)[:2] == ["1 · Tea · CN¥88.00 · 10 left", "2 · Oranges · CN¥39.90 · 200 left"]
    assert await world.store.live.product_on(shop.id, 1) == tea
    assert await world.store.live.product_on(shop.id, 2) == oranges


async def test_swapping_with_an_empty_slot_moves_the_product(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("🔀 Swap with…")
    await ann.tap("3")
    assert await world.store.live.product_on(shop.id, 1) is None
    assert await world.store.live.product_on(shop.id, 3) == oranges
    assert slot_lines(ann.last.text)[:3] == ["1 · empty", "2 · empty", "3 · Oranges · CN¥39.90 · 200 left"]


async def test_clear_a_slot(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await ann.send("/live")
    await ann.tap("1")
    query = await ann.tap("✖ Clear")
    assert "Link 1 is empty now" in query.answer_text and "Link 1 is empty now" in ann.last.text
    assert slot_lines(ann.last.text)[0] == "1 · empty"
    assert await world.store.live.pins(shop.id) == []
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Link 1 has nothing on it right now" in bob.last.text


async def test_board_marks_a_hidden_product_on_a_slot(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await ann.tap("🙈 Hide")
    await ann.send("/live")
    assert slot_lines(ann.last.text)[0] == "1 · Oranges · hidden: buyers see the catalog"


async def test_deleting_a_product_empties_its_slot(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.tap("🔴 Put on next free link")
    await ann.tap("🗑 Delete")
    await ann.tap("Yes, delete")
    await ann.send("/live")
    assert slot_lines(ann.last.text)[0] == "1 · empty"


async def test_forged_slot_numbers_are_stale_buttons(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.send("/live")
    for data in ("live.slot:0", "live.slot:51", "live.slot", "live.clear:99", "live.swap:1:1", "live.swap:1:51",
                 "live.qr:0", "live.pick:1:-1", "live.swapfrom:52", f"live.pin:0:{oranges}", f"live.pin:51:{oranges}"):
        query = await ann.send_callback(data, ann.last)
        assert query.answered and "no longer valid" in query.answer_text, data
    for data in ("live.pin:1:999999", "live.next:999999"):
        query = await ann.send_callback(data, ann.last)
        assert query.answered and "can't do that" in query.answer_text, data
    assert await world.store.live.pins(shop.id) == []


# ---------------------------------------------------------------- rotation and landing

async def test_reassigning_slot_1_changes_what_its_old_link_shows(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await pin_via_menu(ann, 1, "Oranges · CN¥39.90 · 200 left")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    card = bob.last
    assert card.text.splitlines()[:3] == ["Oranges", "💰 CN¥39.90", "In stock: 200"]
    assert any("Buy now" in b for row in card.buttons for b in row)
    await pin_via_menu(ann, 1, "Tea · CN¥88.00 · 10 left")
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.text.splitlines()[:2] == ["Tea", "💰 CN¥88.00"] and "39.90" not in bob.last.text
    assert [o[3] for o in await opens(world)] == [oranges, tea]


async def test_a_slot_link_with_a_photo_product_shows_the_photo_card(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Oranges, 39.90, 200")
    await ann.tap("🔴 Put on next free link")
    shop = await current_shop(world, ann)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.photo is not None and "Oranges" in bob.last.text


async def test_an_empty_slot_shows_the_catalog_with_a_polite_line(world):
    ann, shop, _ = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_7")
    text = bob.last.text
    assert text.startswith("Link 7 has nothing on it right now. Here is the whole shop:")
    assert "Green Hill Oranges" in text
    assert ["Oranges · CN¥39.90"] in bob.last.buttons and ["Tea · CN¥88.00"] in bob.last.buttons
    await bob.tap("Tea · CN¥88.00")
    assert "Tea" in bob.last.text and "In stock: 10" in bob.last.text


async def test_a_hidden_product_on_a_slot_shows_the_catalog_instead(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, tea)
    await ann.tap("🙈 Hide")  # Tea's card is the newest
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Link 1 has nothing on it right now" in bob.last.text
    assert bob.last.buttons == [["Oranges · CN¥39.90"], ["☆ Follow shop"]]
    assert (await opens(world))[-1][2:4] == (1, tea)


async def test_a_deleted_product_on_a_slot_shows_the_catalog_instead(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, tea)
    await ann.tap("🗑 Delete")
    await ann.tap("Yes, delete")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Link 1 has nothing on it right now" in bob.last.text
    assert bob.last.buttons == [["Oranges · CN¥39.90"], ["☆ Follow shop"]]


async def test_a_sold_out_product_on_a_slot_shows_its_card_with_notify(world):
    ann, shop, (tea,) = await shop_with_products(world, "Tea, 88, 0")
    await world.store.live.pin(shop.id, 1, tea)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Sold out" in bob.last.text and ["🔔 Tell me when it's back"] in bob.last.buttons


async def test_a_product_link_shows_the_product_permanently(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, tea)
    bob = world.user("Bob")
    await bob.send(f"/start p_{shop.slug}_{oranges}")
    assert "Oranges" in bob.last.text and "CN¥39.90" in bob.last.text
    await bob.send(f"/start p_{shop.slug}_{tea}")
    assert "Tea" in bob.last.text
    assert [o[1:4] for o in await opens(world)] == [("product", None, oranges), ("product", None, tea)]


async def test_a_hidden_or_deleted_products_link_shows_the_catalog_with_a_polite_line(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.tap("🙈 Hide")
    bob = world.user("Bob")
    await bob.send(f"/start p_{shop.slug}_{oranges}")
    assert "this product is no longer for sale" in bob.last.text
    assert "Nothing for sale right now" in bob.last.text
    await ann.tap("👁 Show")
    await ann.tap("🗑 Delete")
    await ann.tap("Yes, delete")
    await bob.send(f"/start p_{shop.slug}_{oranges}")
    assert "this product is no longer for sale" in bob.last.text and "Nothing for sale right now" in bob.last.text


async def test_a_product_link_of_another_shop_does_not_show_it(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    eve, eve_shop, (teapot,) = await shop_with_products(world, "Teapot, 120, 1", name="Eve")
    bob = world.user("Bob")
    await bob.send(f"/start p_{shop.slug}_{teapot}")
    assert "no longer for sale" in bob.last.text and "Teapot" not in bob.last.text
    assert ["Oranges · CN¥39.90"] in bob.last.buttons


async def test_the_shop_link_shows_the_catalog(world):
    ann, shop, _ = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 0")
    bob = world.user("Bob")
    await bob.send(f"/start s_{shop.slug}")
    text = bob.last.text
    assert text.startswith("🏪 Green Hill Oranges") and "Tap a product" in text
    assert ["Tea · sold out"] in bob.last.buttons and ["Oranges · CN¥39.90"] in bob.last.buttons
    assert (await opens(world)) == [(shop.id, "shop", None, None, None, bob.id)]


async def test_malformed_and_unknown_links_get_friendly_answers(world):
    ann, shop, _ = await shop_with_products(world, "Oranges, 39.90, 200")
    bob = world.user("Bob")
    cases = [
        ("l_zz", "doesn't lead anywhere I know"),
        ("x" * 70, "doesn't lead anywhere I know"),
        (f"l_{shop.slug}_" + "9" * 58, "doesn't lead anywhere I know"),
        (f"l_{shop.slug}_51", "doesn't lead anywhere I know"),
        (f"l_{shop.slug}_0", "doesn't lead anywhere I know"),
        ("q_abcdef", "doesn't lead anywhere I know"),
        ("s_nosuchshop", "This shop doesn't exist"),
        ("l_nosuchshop_1", "This shop doesn't exist"),
        (f"p_{shop.slug}_999999", "this product is no longer for sale"),
        (f"p_{shop.slug}_999999999999999999", "this product is no longer for sale"),
    ]
    for payload, expected in cases:
        await bob.send(f"/start {payload}")
        assert expected in bob.last.text, (payload, bob.last.text)
        assert_friendly(bob.last.text)
    assert world.tg.count("sendMessage", bob.id) == len(cases)
    # Only the opens that reached a shop are recorded.
    assert [o[1] for o in await opens(world)] == ["product", "product"]


async def test_every_open_is_recorded_with_shop_slot_product_and_user(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 2, tea)
    bob, cat = world.user("Bob"), world.user("Cat")
    await bob.send(f"/start l_{shop.slug}_1")
    await cat.send(f"/start l_{shop.slug}_2")
    await cat.send(f"/start l_{shop.slug}_3")
    await bob.send(f"/start s_{shop.slug}")
    await bob.send(f"/start p_{shop.slug}_{tea}")
    assert await opens(world) == [
        (shop.id, "slot", 1, oranges, None, bob.id),
        (shop.id, "slot", 2, tea, None, cat.id),
        (shop.id, "slot", 3, None, None, cat.id),
        (shop.id, "shop", None, None, None, bob.id),
        (shop.id, "product", None, tea, None, bob.id),
    ]
    times = await world.store.db.fetch_all("SELECT opened_at FROM link_opens")
    assert all(t[0] > 0 for t in times)


async def test_slot_links_still_work_after_a_restart(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.restart()
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "Oranges" in bob.last.text


# ---------------------------------------------------------------- live sessions

async def test_live_session_start_twice_and_end_with_a_report_per_link(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 2, tea)
    bob, cat = world.user("Bob"), world.user("Cat")
    await bob.send(f"/start l_{shop.slug}_1")  # before the session: not counted
    await ann.send("/live start Evening show")
    assert "Live session “Evening show” started" in ann.last.text
    await ann.send("/live start Another")
    assert "already running" in ann.last.text and "Evening show" in ann.last.text
    await ann.send("/live")
    assert "On air “Evening show” since" in ann.last.text and ["⏹ End the live session"] in ann.last.buttons
    await bob.send(f"/start l_{shop.slug}_1")
    await cat.send(f"/start l_{shop.slug}_1")
    await cat.send(f"/start l_{shop.slug}_2")
    await bob.send(f"/start s_{shop.slug}")
    session = await world.store.live.current_session(shop.id)
    assert [o[4] for o in await opens(world)] == [None, session.id, session.id, session.id, session.id]
    await ann.send("/live end")
    report = ann.last.text
    assert "Live session report" in report and "Evening show" in report
    assert "Link 1 · Oranges: 2 opens → 0 orders (0%), 0 units, CN¥0.00" in report
    assert "Link 2 · Tea: 1 opens → 0 orders (0%), 0 units, CN¥0.00" in report
    assert "Shop and product links: 1 opens" in report
    assert "Total: 4 opens → 0 orders (0%), 0 units, CN¥0.00" in report
    assert report.index("Link 1") < report.index("Link 2") < report.index("Shop and product links")
    assert await world.store.live.current_session(shop.id) is None
    await bob.send(f"/start l_{shop.slug}_1")  # after the session: no session
    assert (await opens(world))[-1][4] is None


async def test_ending_without_a_session_says_so(world):
    ann = await merchant_with_shop(world)
    await ann.send("/live end")
    assert "No live session is running" in ann.last.text


async def test_a_session_with_no_opens_reports_nothing_opened(world):
    ann = await merchant_with_shop(world)
    await ann.send("/live start")
    await ann.send("/live end")
    assert "No link was opened during this session" in ann.last.text
    assert "Total: 0 opens → 0 orders (—)" in ann.last.text


async def test_live_session_start_and_end_buttons_on_the_board(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await ann.send("/live")
    await ann.tap("▶ Start a live session")
    assert "Live session started" in ann.last.text and "On air" in ann.last.text
    assert ["⏹ End the live session"] in ann.last.buttons
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await ann.tap("⏹ End the live session")
    assert "Link 1 · Oranges: 1 opens" in ann.last.text and "Total: 1 opens" in ann.last.text
    await ann.tap("⏹ End the live session", ann.chat.bot_messages[-2])
    assert "No live session is running" in ann.last.text


async def test_live_start_without_a_title(world):
    ann = await merchant_with_shop(world)
    await ann.send("/live start")
    assert "Live session started" in ann.last.text
    session = await world.store.live.current_session((await current_shop(world, ann)).id)
    assert session is not None and session.title is None


# ---------------------------------------------------------------- QR codes

async def test_slot_qr_is_a_photo_that_decodes_to_exactly_the_slot_link(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await ann.send("/live")
    await ann.tap("1")
    before = world.tg.uploads
    await ann.tap("🔳 QR code")
    qr_message = ann.last
    assert qr_message.photo is not None and slot_url(shop.slug, 1) in qr_message.text
    assert world.tg.uploads == before + 1
    assert qr_texts(world.tg.file(qr_message.photo.file_id).data) == [slot_url(shop.slug, 1)]


async def test_slot_qr_is_resent_by_file_id_until_the_slot_changes(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("🔳 QR code")
    first = ann.last.photo
    uploads = world.tg.uploads
    await ann.tap("🔳 QR code")
    assert world.tg.uploads == uploads
    assert ann.last.photo.file_id == first.file_id
    await world.restart()  # the file_id is remembered in the database
    await ann.tap("🔳 QR code")
    assert world.tg.uploads == uploads and ann.last.photo.file_id == first.file_id
    await pin_via_menu(ann, 1, "Tea · CN¥88.00 · 10 left")
    await ann.tap("1")
    await ann.tap("🔳 QR code")
    assert world.tg.uploads == uploads + 1
    second = ann.last.photo
    assert second.file_id != first.file_id and second.data != first.data
    assert qr_texts(second.data) == [slot_url(shop.slug, 1)]


async def test_empty_slot_qr_still_decodes_to_its_link(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/live")
    await ann.send_callback("live.qr:5", ann.last)  # the board shows only 1..3; any slot has a link
    assert qr_texts(ann.last.photo.data) == [slot_url(shop.slug, 5)]


async def test_shop_qr_decodes_to_the_shop_link(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/live")
    await ann.tap("🏪 Shop QR")
    message = ann.last
    url = f"{BOT}?start=s_{shop.slug}"
    assert message.photo is not None and url in message.text and "Green Hill Oranges" in message.text
    assert qr_texts(message.photo.data) == [url]
    uploads = world.tg.uploads
    await ann.tap("🏪 Shop QR", ann.chat.bot_messages[-2])
    assert world.tg.uploads == uploads and ann.last.photo.file_id == message.photo.file_id


async def test_qr_sheet_arrives_as_document_and_photo_with_every_filled_link(world):
    ann, shop, (oranges, tea, kiwi) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10",
                                                               "Kiwi, 5, 3")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 2, tea)
    await world.store.live.pin(shop.id, 4, kiwi)
    await ann.send("/live")
    board = ann.last
    before = world.tg.uploads
    await ann.tap("🖨 QR sheet")
    document, photo = ann.chat.bot_messages[-2:]
    assert document.document is not None and "3 live links" in document.text
    assert document.document.file_name == "live-links.png"
    assert photo.photo is not None and "overlay" in photo.text
    assert world.tg.uploads == before + 2
    expected = sorted(slot_url(shop.slug, s) for s in (1, 2, 4))
    assert sorted(qr_texts(document.document.data)) == expected
    assert sorted(qr_texts(photo.photo.data)) == expected
    await ann.tap("🖨 QR sheet", board)
    assert world.tg.uploads == before + 2
    assert ann.chat.bot_messages[-2].document.file_id == document.document.file_id
    assert ann.last.photo.file_id == photo.photo.file_id


async def test_qr_sheet_leaves_out_hidden_products_and_refuses_when_empty(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.send("/live")
    query = await ann.tap("🖨 QR sheet")
    assert query.show_alert and "No link has a visible product yet" in query.answer_text
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.products.update(oranges, hidden=True)
    query = await ann.tap("🖨 QR sheet")
    assert query.show_alert and "No link has a visible product yet" in query.answer_text
    assert ann.last.document is None and ann.last.photo is None


# ---------------------------------------------------------------- who may arrange the links

async def test_strangers_and_buyers_cannot_arrange_someone_elses_links(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    eve = world.user("Eve")
    await eve.send("/start")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    forged = (f"live.pin:1:{tea}", "live.clear:1", "live.swap:1:2", f"live.next:{tea}", "live.slot:1",
              "live.qr:1", "live.sheet", "live.start", "live.end", "live.board", "live.pick:1:0",
              "live.swapfrom:1", "live.shopqr")
    for user in (eve, bob):
        for data in forged:
            sent = world.tg.count("sendMessage", user.id) + world.tg.count("sendPhoto", user.id)
            query = await user.send_callback(data, user.last)
            assert query.answered and query.show_alert, (user, data)
            assert "don't have a shop yet" in query.answer_text or "can't do that" in query.answer_text, data
            assert world.tg.count("sendMessage", user.id) + world.tg.count("sendPhoto", user.id) == sent
    assert [(p.slot, p.product_id) for p in await world.store.live.pins(shop.id)] == [(1, oranges)]
    assert await world.store.live.current_session(shop.id) is None


async def test_another_merchant_cannot_touch_this_shops_links(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 200", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    eve, eve_shop, (teapot,) = await shop_with_products(world, "Teapot, 120, 1", name="Eve")
    for data in (f"live.pin:1:{tea}", f"live.pin:2:{oranges}", f"live.next:{tea}"):
        query = await eve.send_callback(data, eve.last)
        assert query.show_alert and "can't do that" in query.answer_text, data
    # Clear and swap only ever act on the tapper's own current shop.
    await eve.send_callback("live.clear:1", eve.last)
    await eve.send_callback("live.swap:1:2", eve.last)
    await eve.send_callback("live.start", eve.last)
    assert [(p.slot, p.product_id) for p in await world.store.live.pins(shop.id)] == [(1, oranges)]
    assert await world.store.live.current_session(shop.id) is None
    assert await world.store.live.current_session(eve_shop.id) is not None
    assert await world.store.live.slots_of(tea) == []


async def test_staff_cannot_arrange_the_live_links(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    sam = world.user("Sam")
    await sam.send("/start")
    async with world.store.db.write() as conn:
        await conn.execute("INSERT INTO shop_members (shop_id, user_id, role, added_at) VALUES (?, ?, 'staff', 0)",
                           (shop.id, sam.id))
    await sam.send("/live")
    assert "Only the shop's owner can arrange the live links" in sam.last.text
    for data in ("live.clear:1", f"live.next:{oranges}", f"live.pin:2:{oranges}", "live.swap:1:2"):
        query = await sam.send_callback(data, sam.last)
        assert query.show_alert and ("owner" in query.answer_text or "can't do that" in query.answer_text), data
    assert [(p.slot, p.product_id) for p in await world.store.live.pins(shop.id)] == [(1, oranges)]


# ---------------------------------------------------------------- Chinese

async def test_a_chinese_merchants_board_is_in_chinese(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    shop = await current_shop(world, li)
    await li.send("/addproduct 夏橙，39.9，200")
    await li.tap("🔴")  # the card's "put on next free link"
    assert "链接 1" in li.last.text
    await li.send("/live")
    board = li.last
    assert "李家果园 的直播链接" in board.text
    assert slot_lines(board.text)[:2] == ["1 · 夏橙 · ¥39.90 · 剩 200", "2 · 空"]
    assert ["🖨 二维码汇总", "🏪 店铺二维码"] in board.buttons and ["▶ 开始直播场次"] in board.buttons
    await li.tap("1")
    assert li.last.buttons[0] == ["📦 放商品", "🔀 交换…"]
    await li.send("/live end")
    assert "当前没有进行中的直播场次" in li.last.text
    buyer = world.user("王", language_code="zh")
    await buyer.send(f"/start l_{shop.slug}_2")
    assert "链接 2 现在没有商品" in buyer.last.text
    await buyer.send("/start l_zz")
    assert "这个链接无法识别" in buyer.last.text


# ---------------------------------------------------------------- orders in the report, markup in names

async def test_session_report_counts_orders_from_each_link(world):
    ann, shop, (oranges, tea) = await shop_with_products(world, "Oranges, 39.90, 50", "Tea, 88, 10")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.live.pin(shop.id, 2, tea)
    await ann.send("/live start")
    bob, cat = world.user("Bob"), world.user("Cat")
    await cat.send(f"/start l_{shop.slug}_2")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("+")
    await bob.tap("Buy now")
    await bob.press("📱 Share my phone number")
    await bob.share_location(30.7, 111.3)
    await bob.send("8 Orchard Lane, Yichang")
    await bob.tap("Confirm order")
    assert any("Order #1001 placed" in (m.text or "") for m in bob.chat.bot_messages)
    session = await world.store.live.current_session(shop.id)
    row = await world.store.db.fetch_one("SELECT slot, session_id, units, total FROM orders")
    assert tuple(row) == (1, session.id, 2, 7980)
    await ann.send("/live end")
    report = ann.last.text
    assert "Link 1 · Oranges: 1 opens → 1 orders (100%), 2 units, CN¥79.80" in report
    assert "Link 2 · Tea: 1 opens → 0 orders (0%), 0 units, CN¥0.00" in report
    assert "Total: 2 opens → 1 orders (50%), 2 units, CN¥79.80" in report


async def test_names_with_markup_show_intact_on_the_board_menu_and_report(world):
    tricky = '<b>&"x</b>'
    ann, shop, (product,) = await shop_with_products(world, f"{tricky}, 9.90, 5")
    query = await ann.tap("🔴 Put on next free link")
    assert tricky in query.answer_text and tricky in ann.last.text
    await ann.send(f"/live start {tricky}")
    assert tricky in ann.last.text
    await ann.send("/live")
    assert f"1 · {tricky} · CN¥9.90 · 5 left" in slot_lines(ann.last.text)
    assert f"On air “{tricky}”" in ann.last.text
    await ann.tap("1")
    assert f"1 · {tricky} · CN¥9.90 · 5 left" in ann.last.text
    await ann.tap("📦 Put a product")
    await ann.tap(f"{tricky} · CN¥9.90 · 5 left")
    assert f"Link 1 now shows {tricky}" in ann.last.text
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.text.splitlines()[0] == tricky
    await ann.send("/live end")
    assert f"Link 1 · {tricky}: 1 opens" in ann.last.text and tricky in ann.last.text.splitlines()[0]


# ---------------------------------------------------------------- big shops and long titles (Telegram's 4096 limit)

async def fifty_links_with_long_names(world, user):
    shop = await current_shop(world, user)
    for slot in range(1, 51):
        name = (f"{slot:02d} " + "Hand-picked Xiacheng navel oranges, " * 3)[:80]
        product = await world.store.products.create(shop.id, name, 123450, 1000)
        assert len(product.name) == 80  # the longest name /addproduct allows
        await world.store.live.pin(shop.id, slot, product.id)
    return shop


async def test_the_board_of_fifty_links_with_long_names_still_shows(world):
    ann = await merchant_with_shop(world)
    await fifty_links_with_long_names(world, ann)
    await ann.send("/live")
    assert_friendly(ann.last.text)
    assert "Live links of" in ann.last.text


async def test_the_report_of_a_session_with_many_links_opened_still_arrives(world):
    ann = await merchant_with_shop(world)
    shop = await fifty_links_with_long_names(world, ann)
    await ann.send("/live start")
    session = await world.store.live.current_session(shop.id)
    bob = world.user("Bob")
    for slot in range(1, 51):
        await world.store.live.record_open(shop.id, "slot", slot, None, session.id, bob.id)
    await ann.send("/live end")
    report = [m.text for m in ann.chat.bot_messages[-3:]]
    assert any("Live session report" in text for text in report)
    assert "Total" in ann.last.text and "50 opens" in ann.last.text


async def test_a_very_long_session_title_breaks_nothing(world):
    ann = await merchant_with_shop(world)
    await ann.send("/live start " + "T" * 4000)
    assert_friendly(ann.last.text)
    await ann.send("/live")
    assert "Live links of" in ann.last.text
    await ann.send("/live end")
    assert "Live session report" in ann.last.text


async def test_qr_labels_use_the_currency_sign_of_the_shops_default_language(world, monkeypatch):
    """A Chinese shop (the bot's default language is zh) shows ¥39.90 to its viewers, even
    when its merchant reads the bot in English (where the price shows as CN¥39.90)."""
    assert world.config.language == "zh"
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    labels = []
    real = qr.render_slot_qr
    monkeypatch.setattr(qr, "render_slot_qr", lambda *args: labels.append(args[4]) or real(*args))
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("🔳 QR code")
    assert labels == ["¥39.90"]
    sheet = []
    real_sheet = qr.render_qr_sheet
    monkeypatch.setattr(qr, "render_qr_sheet", lambda items, title: sheet.extend(items) or real_sheet(items, title))
    await ann.send("/live")
    await ann.tap("🖨 QR sheet")
    assert sheet and {item.price_text for item in sheet} == {"¥39.90"}  # the print sheet and the overlay


# ---------------------------------------------------------------- sessions without a title (issue 17.7)

def _reads_badly(text: str) -> list[str]:
    """What an untitled session must not leave behind in a text."""
    bad = ["()", "（）", "“”", "「」", ": (", "：（", ":\n", "：\n", " :"]
    found = [b for b in bad if b in text]
    if re.search(r"\S  +\S", text):
        found.append("a double space")
    return found + (["ends with a colon"] if text.rstrip().endswith((":", "：")) else [])


async def _untitled_session_texts(world, language_code: str) -> list[str]:
    from tests.stories import place_order
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.live.pin(shop.id, 1, oranges)
    await world.store.users.set_language(ann.id, language_code)
    texts = []
    await ann.send("/live start")
    texts.append(ann.last.text)
    await ann.send("/live start")
    texts.append(ann.last.text)
    await ann.send("/live")
    texts.append(ann.last.text)
    await place_order(world, world.user("Bob"), shop)
    await ann.send("/packlist live")
    texts.append(ann.last.text)
    await ann.send("/live end")
    texts.append(ann.last.text)
    await ann.send("/summary today")
    texts.append(next(m.text or m.caption or "" for m in reversed(ann.chat.bot_messages)
                      if "🔴" in (m.text or m.caption or "")))
    return texts


async def test_an_untitled_session_reads_well_in_every_english_text(world):
    texts = await _untitled_session_texts(world, "en")
    assert texts[0].startswith("🔴 Live session started at") and "On air since" in texts[2]
    assert "A live session is already running since" in texts[1]
    for text in texts:
        assert _reads_badly(text) == [], text


async def test_an_untitled_session_reads_well_in_every_chinese_text(world):
    texts = await _untitled_session_texts(world, "zh")
    assert texts[0].startswith("🔴 直播场次已于") and "直播中（" in texts[2]
    for text in texts:
        assert _reads_badly(text) == [], text


async def test_starting_a_session_from_the_board_answers_with_a_toast(world):
    ann, shop, (oranges,) = await shop_with_products(world, "Oranges, 39.90, 200")
    await ann.send("/live")
    query = await ann.tap("▶ Start a live session")
    assert query.answer_text == "🔴 Live session started"
    assert "On air since" in ann.last.text


async def test_live_keywords_work_in_chinese(world):
    ann, shop, _ = await shop_with_products(world, "Oranges, 39.90, 200")
    await world.store.users.set_language(ann.id, "zh")
    await ann.send("/live 开始 春季特卖")
    assert "直播场次「春季特卖」已于" in ann.last.text
    await ann.send("/live 结束")
    assert "直播场次报告" in ann.last.text and "「春季特卖」" in ann.last.text
