"""Phone numbers as buyers write them (core/contact.py, with Google's libphonenumber)."""

from __future__ import annotations

import pytest

from core.contact import ContactError, display_phone, normalize_phone, phone_region
from tests.stories import shop_with_product_on_link


@pytest.mark.parametrize("typed, e164", [
    ("13800138000", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("138-0013-8000", "+8613800138000"),
    ("+86 138-0013-8000", "+8613800138000"),
    ("call me on 138 0013 8000 after 6pm", "+8613800138000"),
    ("我的电话是１３８００１３８０００，谢谢", "+8613800138000"),
    ("(020) 8888 6666", "+862088886666"),
    ("+1 (201) 555-0123", "+12015550123"),
])
def test_a_phone_inside_a_sentence_or_with_separators_is_found_and_stored_as_e164(typed, e164):
    assert normalize_phone(typed, "CN") == e164


@pytest.mark.parametrize("typed", ["", "12", "call me maybe", "1234567", "my order is #1001"])
def test_text_without_a_phone_is_refused(typed):
    with pytest.raises(ContactError):
        normalize_phone(typed, "CN")


def test_a_shared_contact_number_without_plus_is_international():
    assert normalize_phone("8613800138000", "US", shared=True) == "+8613800138000"


def test_a_number_is_shown_the_local_way():
    assert display_phone("+8613800138000", "CN") == "138 0013 8000"
    assert display_phone("+12015550123", "CN") == "+1 201-555-0123"
    assert display_phone("not a number", "CN") == "not a number"


def test_the_shops_currency_says_where_numbers_without_a_country_code_are():
    regions = [phone_region(currency) for currency in ("CNY", "USD", "HKD", "EUR")]
    assert regions == ["CN", "US", "HK", "CN"]  # the euro names no one country


async def test_a_phone_typed_in_a_sentence_reaches_the_order_in_e164_and_shows_the_local_way(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.send("my number is 138-0013-8000, thanks")
    assert "delivery address" in bob.last.text
    await bob.send("8 Orchard Lane, Yichang")
    assert "138 0013 8000" in bob.last.text
    await bob.tap("Confirm order")
    assert "138 0013 8000" in bob.last.text
    assert "138 0013 8000" in ann.last.text
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.phone == "+8613800138000"
    assert (await world.store.users.get(bob.id)).phone == "+8613800138000"
