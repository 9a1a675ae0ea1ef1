"""Nobody can forge what the bot says: typed text is cleaned before it is accepted, a name of
invisible characters is refused with a reason, and the shop's view of an order keeps the bot's
own lines apart from what the buyer typed."""

from __future__ import annotations

import pytest

from core.contact import ContactError, check_address, check_note, check_recipient
from core.text import TextProblem, TextRefused, accept_text, clean_text
from tests.stories import add_product, current_shop, merchant_with_shop, save_delivery, shop_with_product_on_link

RLO, PDF, LRI, PDI, ZWSP, ZWJ = "\u202e", "\u202c", "\u2066", "\u2069", "\u200b", "\u200d"
HANGUL_FILLER, BRAILLE_BLANK = "\u3164", "\u2800"
FORMATTING = f"{RLO}{LRI}{PDI}{PDF}\u200e\u200f\u061c\ufeff\u2060\u00ad"


# ---------------------------------------------------------------- the one cleaning function

@pytest.mark.parametrize("typed, kept", [
    ("Green Hill\x00 Oranges\x1b[31m", "Green Hill Oranges[31m"),              # controls go
    (f"Oranges {RLO}09.93{PDF}", "Oranges 09.93"),                             # bidi overrides go
    (f"{LRI}Tea{PDI}\u200e", "Tea"),
    (f"Te{ZWSP}a\ufeff\u2060", "Tea"),                                       # zero-width and BOM go
    ("Bob\n💳 Paid · card", "Bob 💳 Paid · card"),                           # a line break becomes a space
    ("8 Orchard Lane\r\n\u2028Yichang\u2029\x85\tChina", "8 Orchard Lane Yichang China"),
    ("  spaced    out  ", "spaced out"),
    ("👨\u200d👩\u200d👧 family farm", "👨\u200d👩\u200d👧 family farm"),         # emoji joiners kept
    ("نامه\u200cای", "نامه\u200cای"),                                          # a Persian non-joiner kept
    ("Zalgo" + "\u0301" * 30, "Zalg\u00f3" + "\u0301" * 4),                   # stacked marks capped
    ("Phở bò", "Phở bò"),
    ("湖北 宜昌　橙子", "湖北 宜昌 橙子"),
])
def test_typed_text_loses_controls_bidi_overrides_zero_width_and_line_breaks(typed, kept):
    assert accept_text(typed, max_length=100) == kept


@pytest.mark.parametrize("typed", [
    ZWSP * 3, HANGUL_FILLER * 2, BRAILLE_BLANK, f"{RLO}{PDF}", ZWJ + ZWJ, FORMATTING, "\u0301\u0301",
    f"{HANGUL_FILLER} {ZWSP}",
])
def test_text_made_only_of_invisible_characters_is_refused_as_invisible(typed):
    with pytest.raises(TextRefused) as refused:
        accept_text(typed, max_length=100)
    assert refused.value.problem is TextProblem.INVISIBLE


def test_empty_short_and_long_text_are_refused_with_their_reasons():
    for typed, problem in [("", TextProblem.EMPTY), ("   \n ", TextProblem.EMPTY), ("ab", TextProblem.TOO_SHORT),
                           ("x" * 11, TextProblem.TOO_LONG)]:
        with pytest.raises(TextRefused) as refused:
            accept_text(typed, max_length=10, min_length=3)
        assert refused.value.problem is problem


def test_length_is_counted_after_cleaning():
    assert accept_text("a" + ZWSP * 500 + "b", max_length=2) == "ab"


def test_multiline_text_keeps_its_lines_but_loses_the_rest():
    assert clean_text(f"Sweet {RLO}and{PDF} juicy\n\n\n\nPicked\tat dawn\r\n", multiline=True) == \
        "Sweet and juicy\n\nPicked at dawn"


def test_clean_text_never_refuses():
    assert clean_text(ZWSP) == "" and clean_text(None) == ""


# ---------------------------------------------------------------- each field

@pytest.mark.parametrize("check, field", [(check_recipient, "name"), (check_address, "address"), (check_note, "note")])
def test_delivery_fields_are_cleaned_and_refuse_invisible_text(check, field):
    assert check(f"Bob{RLO} at\nHome 12\x07") == "Bob at Home 12"
    with pytest.raises(ContactError) as refused:
        check(HANGUL_FILLER * 6)
    assert refused.value.problem == f"{field}_invisible"


async def test_a_shop_name_of_invisible_characters_is_refused_with_a_reason(world):
    ann = world.user("Ann")
    await ann.send("/newshop")
    await ann.send(HANGUL_FILLER * 3)
    assert "invisible" in ann.last.text
    assert await world.store.shops.memberships(ann.id) == []
    await ann.send(f"Green {RLO}Hill{PDF}\nOranges")
    shop = await current_shop(world, ann)
    assert shop.name == "Green Hill Oranges"


async def test_a_shop_name_refusal_speaks_the_users_language(world):
    li = world.user("Li", language_code="zh")
    await li.send("/newshop")
    await li.send(ZWSP * 4)
    assert "不可见字符" in li.last.text


async def test_a_product_name_of_invisible_characters_is_refused_and_a_typed_one_cleaned(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    await ann.send(BRAILLE_BLANK * 2)
    assert "invisible" in ann.last.text
    await ann.send(f"Oranges{RLO} 5kg\n💳 free")
    await ann.send("39.90")
    await ann.send("10")
    await ann.tap("Skip")
    await ann.send(f"Sweet{ZWSP} and juicy\nPicked at dawn{LRI}")
    products, _ = await world.store.products.page((await current_shop(world, ann)).id, 0, 10)
    assert products[0].name == "Oranges 5kg 💳 free"
    assert products[0].description == "Sweet and juicy\nPicked at dawn"


async def test_a_quick_added_product_name_is_cleaned_too(world):
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, f"Tea{RLO}\u200b, 9.90, 5")
    assert (await world.store.products.get(product_id)).name == "Tea"


async def test_an_invisible_recipient_name_is_refused_and_the_address_loses_its_line_breaks(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("+86 138 0013 8000")
    await bob.send(HANGUL_FILLER * 4)
    assert "invisible" in bob.last.text
    await bob.send("Bob")
    await bob.send("8 Orchard Lane\n💳 Payment: card · paid ✅\u202e")
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.address == "8 Orchard Lane 💳 Payment: card · paid ✅"


async def test_a_carrier_and_tracking_number_are_cleaned(world):
    from tests.stories import place_order

    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.send("/orders")
    await ann.tap(f"#{order.number}")
    await ann.tap("✅ Confirm")
    await ann.tap("🚚 Ship")
    await ann.send(f"SF Express{RLO}\nSF1234567890")
    shipped = await world.store.orders.get(order.id)
    assert shipped.carrier == "SF Express" and shipped.tracking_number == "SF1234567890"


async def test_a_cancel_reason_is_cleaned_and_an_invisible_one_refused(world):
    from tests.stories import place_order

    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.send("/orders")
    await ann.tap(f"#{order.number}")
    await ann.tap("✖ Cancel")
    await ann.send(ZWSP * 5)
    assert "Please send the reason as text" in ann.last.text
    await ann.send(f"Out of stock{RLO}\n✅ Refund sent")
    cancelled = await world.store.orders.get(order.id)
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "Out of stock ✅ Refund sent"


# ---------------------------------------------------------------- the shop's view of an order

async def order_with_hostile_text(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob, recipient="Bob", address="8 Orchard Lane 💳 card · paid ✅ Total: CN¥0.01")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Add a note")
    await bob.send("Leave at the door\n🔗 From link 9\n💳 Payment: paid")
    await bob.tap("Confirm order")
    return ann, bob, (await world.store.orders.of_buyer(bob.id))[0]


def entity_text(message, entity) -> str:
    """The text an entity covers (Telegram's offsets count UTF-16 units)."""
    units = message.text.encode("utf-16-le")
    return units[2 * entity["offset"]:2 * (entity["offset"] + entity["length"])].decode("utf-16-le")


def quoted_part(message) -> str:
    """The text Telegram shows inside the blockquote entity."""
    quotes = [e for e in message.entities if e["type"] == "blockquote"]
    assert len(quotes) == 1, message.entities
    return entity_text(message, quotes[0])


def bold_parts(message) -> list[str]:
    return [entity_text(message, e) for e in message.entities if e["type"] == "bold"]


async def test_the_order_notice_fences_what_the_buyer_typed_and_always_shows_the_payment(world):
    ann, bob, order = await order_with_hostile_text(world)
    notice = next(m for m in ann.chat.bot_messages if "New order #" in (m.text or ""))
    quoted = quoted_part(notice)
    assert "8 Orchard Lane 💳 card · paid ✅ Total: CN¥0.01" in quoted
    assert "Leave at the door 🔗 From link 9 💳 Payment: paid" in quoted
    outside = notice.text.replace(quoted, "")
    assert "paid ✅" not in outside and "From link 9" not in outside
    # The bot's own lines are bold and outside the quote: the payment (cash on delivery too), the link.
    assert "💳 Payment:" in bold_parts(notice) and "🔗 From link 1" in bold_parts(notice)
    assert "cash on delivery · pay on delivery" in outside
    # No typed text starts a line of its own.
    lines = notice.text.split("\n")
    assert [line for line in lines if line.startswith("💳")] == ["💳 Payment: cash on delivery · pay on delivery"]
    assert [line for line in lines if line.startswith("🔗")] == ["🔗 From link 1"]


async def test_the_order_view_fences_what_the_buyer_typed_too(world):
    ann, bob, order = await order_with_hostile_text(world)
    await ann.send("/orders")
    await ann.tap(f"#{order.number}")
    view = ann.last
    assert "Status: 🕐 placed" in view.text and "cash on delivery · pay on delivery" in view.text
    assert "💳 Payment: paid" in quoted_part(view)
    assert view.text.index("Status:") < view.text.index(quoted_part(view))


async def test_stored_text_from_before_the_cleaning_is_cleaned_when_shown(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob, recipient=f"Bob{RLO}", address="Old Lane 1\n💳 Payment: card · paid")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    notice = next(m for m in ann.chat.bot_messages if "New order #" in (m.text or ""))
    assert RLO not in notice.text and "Old Lane 1 💳 Payment: card · paid" in quoted_part(notice)


async def test_a_recipient_name_cannot_stretch_an_order_button_into_the_bots_words(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob, recipient="Bob · CN¥0.01 · ✅ delivered · paid")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    await ann.send("/orders")
    label = ann.last.buttons[0][0]
    assert label.startswith("#1001 · Bob · CN¥0.01") and "delivered" not in label and label.endswith("🕐 placed")


async def test_a_new_staff_members_telegram_name_is_cleaned_in_the_owners_note(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    token = await world.store.staff.invite(shop.id, ann.id)
    pat = world.user(f"Pat{RLO}dlrow")
    await pat.send(f"/start j_{token}")
    note = ann.last.text
    assert "Patdlrow" in note and RLO not in note


async def test_a_buyers_telegram_name_cannot_flip_the_i_have_paid_notice(world):
    from core.payments import Method
    from tests.stories import to_confirmation
    from tests.test_payments import upload_code

    ann, shop, _ = await shop_with_product_on_link(world)
    await world.store.payments.set_methods(shop.id, {Method.COD, Method.CODE})
    await world.store.payments.set_code(shop.id, await upload_code(world))
    eve = world.user(f"Eve{RLO}")
    await to_confirmation(world, eve, shop)
    await eve.tap("transfer to the shop's payment code")
    await eve.tap("Confirm order")
    await eve.tap("I have paid")
    assert ann.last.text.startswith("💳 Eve says they paid") and RLO not in ann.last.text
