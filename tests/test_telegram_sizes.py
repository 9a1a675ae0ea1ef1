"""Telegram's sizes hold everywhere a list can grow: 4,096 characters of text, 1,024 of caption,
100 buttons. A long order places, notifies and opens; a text Telegram refuses as too long is cut
and sent, never dropped. (faketg refuses what Telegram refuses: "message is too long", "message
caption is too long", "reply markup is too long".)"""

from __future__ import annotations

import pytest

from core.telegram_text import (
    CAPTION_LIMIT, TEXT_LIMIT, fit_lines, is_too_long_error, pages, split_html, split_request, visible_length,
)
from faketg.html import parse_html
from storage.outbox import Outgoing
from tests.stories import current_shop, merchant_with_shop, save_delivery

# 78 characters, near the most a product name may have (80).
LONG_NAME = "Hand-picked Xiacheng navel oranges from the sunny south slope, gift box no. {:02d}"


def every_keyboard_fits(user) -> bool:
    return all(sum(len(row) for row in m.buttons) <= 100 for m in user.chat.bot_messages)


async def failed_outbox_rows(world) -> list:
    return await world.store.db.fetch_all("SELECT id, method, error FROM outbox WHERE failed_at IS NOT NULL")


async def shop_with_many_products(world, count: int):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    products = [await world.store.products.create(shop.id, LONG_NAME.format(i), 1990 + i, 100) for i in range(count)]
    return ann, shop, products


# ---------------------------------------------------------------- a long order, end to end

async def test_an_order_of_forty_lines_places_notifies_and_opens_in_orders(world):
    ann, shop, products = await shop_with_many_products(world, 40)
    bob = world.user("Bob")
    await save_delivery(world, bob, address="8 Orchard Lane, Yichang, Hubei " + "near the big camphor tree " * 10)
    for product in products:
        await world.store.carts.add(bob.id, shop.id, product.id, 1, None)

    await bob.send("/cart")
    cart = bob.last
    assert "more line(s)" in cart.text and cart.buttons[-3] == ["▶"]  # lines' buttons a page at a time
    await bob.tap("▶")
    assert LONG_NAME.format(39)[:30] in " ".join(b for row in bob.last.buttons for b in row)
    await bob.tap("Check out")
    await bob.tap("Confirm order")

    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert len(order.items) == 40 and order.units == 40
    assert "Order #1001 placed" in bob.last.text
    notice = next(m for m in ann.chat.bot_messages if "New order #1001" in (m.text or ""))
    assert "more line(s): open the order in /orders" in notice.text and "138 0013 8000" in notice.text

    await ann.send("/orders")
    await ann.tap("#1001")
    first = ann.last
    assert "Lines 1–" in first.text and "of 40" in first.text and LONG_NAME.format(0) in first.text
    assert "Status: 🕐 placed" in first.text and "cash on delivery" in first.text
    assert first.buttons[0] == ["▶"] and first.buttons[1] == ["✅ Confirm", "🚚 Ship", "✖ Cancel"]
    seen = set()
    while True:
        seen |= {i for i in range(40) if LONG_NAME.format(i) in ann.last.text}
        if "▶" not in ann.last.buttons[0]:
            break
        await ann.tap("▶")
    assert seen == set(range(40))
    await ann.tap("✅ Confirm")
    assert "confirmed" in ann.last.text

    await bob.send("/myorders")
    assert "#1001" in bob.last.text
    assert every_keyboard_fits(bob) and every_keyboard_fits(ann)
    assert await failed_outbox_rows(world) == []


async def test_ten_long_orders_fit_the_buyers_order_list(world):
    ann, shop, products = await shop_with_many_products(world, 40)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    world.store.orders.max_open_cod_units = None  # 400 units held: past the default cap on purpose
    for n in range(10):
        await world.store.orders.place(token=f"t{n}", shop_id=shop.id, buyer_id=bob.id,
                                       items=[(p.id, 1) for p in products], delivery=_delivery(),
                                       note=None, slot=None, session_id=None)
    await bob.send("/myorders")
    shown = bob.last
    assert visible_length(shown.text) <= TEXT_LIMIT
    assert "#1010" in shown.text and "older order(s) not shown" in shown.text


def _delivery():
    from storage.orders import Delivery
    return Delivery("+8613800138000", "Bob", "8 Orchard Lane, Yichang")


async def test_a_receipt_with_the_longest_details_after_a_photo_card_reaches_the_buyer(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Tea, 9.90, 5")
    shop = await current_shop(world, ann)
    await ann.tap("🔴 Put on next free link")
    bob = world.user("Bob")
    await save_delivery(world, bob, recipient="B" * 60, address="Lane " + "very long address part " * 13)
    await bob.send(f"/start l_{shop.slug}_1")
    assert bob.last.photo is not None
    await bob.tap("Buy now")
    await bob.tap("Add a note")
    await bob.send("N" * 290)
    await bob.tap("Confirm order")
    assert len(await world.store.orders.of_buyer(bob.id)) == 1
    receipt = [m for m in bob.chat.bot_messages if "Order #1001 placed" in (m.caption or m.text or "")]
    assert receipt, [m.text or m.caption for m in bob.chat.bot_messages[-3:]]
    assert all(visible_length(m.caption or "") <= CAPTION_LIMIT for m in bob.chat.bot_messages)
    assert await failed_outbox_rows(world) == []


async def test_a_product_card_too_long_for_a_caption_shows_the_photo_then_the_text(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Tea, 9.90, 5")
    await ann.tap("📝 Description")
    await ann.send("🍊" * 690)  # 690 characters, 1,380 as Telegram counts them
    card = ann.last
    assert "🍊" * 690 in card.text and card.buttons and card.photo is None
    assert ann.chat.bot_messages[-2].photo is not None
    shop = await current_shop(world, ann)
    await ann.tap("🔴 Put on next free link")
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert "🍊" * 690 in bob.last.text and "Buy now" in bob.last.buttons[1][0]
    assert bob.chat.bot_messages[-2].photo is not None
    assert all(visible_length(m.caption or "") <= CAPTION_LIMIT for m in bob.chat.bot_messages + ann.chat.bot_messages)


async def test_a_shop_with_many_staff_pages_their_remove_buttons(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    for n in range(120):
        helper = 50_000 + n
        await world.store.users.seen(helper, f"Helper {n:03d}", None, "en")
        await world.store.staff.accept(await world.store.staff.invite(shop.id, ann.id), helper)
    await ann.send("/staff")
    seen = set()
    while True:
        assert sum(len(row) for row in ann.last.buttons) <= 100
        seen |= {label for row in ann.last.buttons for label in row if "Helper" in label}
        if not any("▶" in row for row in ann.last.buttons):
            break
        await ann.tap("▶")
    assert len(seen) == 120 and "Helper 119" in ann.last.text
    await ann.tap("Helper 119")
    assert await world.store.shops.membership(50_119, shop.id) is None


# ---------------------------------------------------------------- the outbox never drops a text for its length

async def test_an_outbox_message_telegram_refuses_as_too_long_is_split_and_sent(world):
    bob = world.user("Bob")
    await bob.send("/start")
    lines = [f"<b>{i:03d}</b> " + "line of a long notice " * 8 for i in range(60)]  # about 11,000 characters
    markup = {"inline_keyboard": [[{"text": "Open", "callback_data": "o.mine"}]]}
    await world.store.outbox.send_later(Outgoing(bob.id, "sendMessage", {
        "text": "\n".join(lines), "parse_mode": "HTML", "reply_markup": markup}))
    await world.settle()
    parts = [m for m in bob.chat.bot_messages if "line of a long notice" in (m.text or "")]
    assert len(parts) == 3
    assert "000 line" in parts[0].text and "059 line" in parts[-1].text
    assert [m.buttons for m in parts] == [[], [], [["Open"]]]
    assert await failed_outbox_rows(world) == []
    assert await world.store.outbox.pending_count() == 0


async def test_an_outbox_caption_edit_refused_as_too_long_becomes_a_caption_and_a_message(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Tea, 9.90, 5")
    card = ann.last
    assert card.photo is not None
    await world.store.outbox.send_later(Outgoing(ann.id, "editMessageCaption", {
        "message_id": card.message_id, "parse_mode": "HTML", "caption": "\n".join(["caption line " * 6] * 30)}))
    await world.settle()
    assert card.caption.startswith("caption line") and visible_length(card.caption) <= CAPTION_LIMIT
    assert "caption line" in ann.last.text
    assert await failed_outbox_rows(world) == []


# ---------------------------------------------------------------- the helpers

def test_split_html_cuts_at_line_breaks_outside_tags_and_every_piece_parses():
    quote = "<blockquote>" + "\n".join(["quoted line " * 10] * 5) + "</blockquote>"
    text = "\n".join([f"<b>line {i}</b> " + "x" * 100 for i in range(80)] + [quote])
    pieces = split_html(text, 1000)
    assert len(pieces) > 8
    for piece in pieces:
        assert visible_length(piece) <= 1000
        parse_html(piece)
    assert any(p.startswith("<blockquote>") and p.endswith("</blockquote>") for p in pieces)
    assert "".join(pieces).count("line 79") == 1


def test_a_block_longer_than_a_message_is_cut_as_plain_text():
    pieces = split_html("<b>" + "é" * 5000 + "</b>", TEXT_LIMIT)
    assert [visible_length(p) for p in pieces] == [4096, 904]


def test_fit_lines_keeps_what_fits_and_says_how_many_are_left_out():
    lines = [f"line {i:02d}" for i in range(10)]  # 7 characters each
    assert fit_lines(lines, 1000, lambda n: f"+{n}") == lines
    kept = fit_lines(lines, 31, lambda n: f"+{n} more")
    assert kept == ["line 00", "line 01", "line 02", "+7 more"] and visible_length("\n".join(kept)) == 31
    assert fit_lines(lines, 30, lambda n: f"+{n} more") == ["line 00", "line 01", "+8 more"]


def test_pages_cut_lines_into_pages_within_the_budget():
    result = pages([f"line {i:02d}" for i in range(10)], 20)
    assert [len(p) for p in result] == [2, 2, 2, 2, 2] and pages([], 20) == [[]]


@pytest.mark.parametrize("method, field", [("sendMessage", "text"), ("editMessageText", "text"),
                                           ("editMessageCaption", "caption"), ("sendPhoto", "caption")])
def test_split_request_puts_the_buttons_under_the_last_part(method, field):
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    parts = split_request(method, {field: "\n".join(["y" * 100] * 60), "parse_mode": "HTML", "reply_markup": markup,
                                   "message_id": 5})
    assert parts[0][0] == method and all(m == "sendMessage" for m, _ in parts[1:])
    assert [p.get("reply_markup") for _, p in parts] == [None] * (len(parts) - 1) + [markup]
    assert "message_id" not in parts[-1][1]


def test_only_length_refusals_are_split():
    assert is_too_long_error("Bad Request: message is too long")
    assert is_too_long_error("Bad Request: message caption is too long")
    assert not is_too_long_error("Bad Request: reply markup is too long")
    assert split_request("sendMessage", {"text": "short"}) == []
