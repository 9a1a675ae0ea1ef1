"""Typed button data (core/callbacks.py): every action fits Telegram's 64 bytes with the largest
values its fields take, reads back as what was packed, and has a handler."""

from __future__ import annotations

import typing
from dataclasses import fields

import pytest
from telegram.ext import Application

from core.callbacks import (
    MAX_BYTES, TAPS, CallbackDataError, OpenProduct, Range, SetCartLine, Tap, Text, ViewOrder, read,
)
from core.links import MAX_QUANTITY
from handlers import registry
from tests.stories import save_delivery, shop_with_product_on_link


def _largest(kind: type[Tap]) -> Tap:
    """`kind` with every field at its longest: the widest number its range allows (the most digits,
    a minus sign included), a word of the longest length."""
    values = []
    hints = typing.get_type_hints(kind, include_extras=True)
    for field in fields(kind):  # type: ignore[arg-type]
        meta = next(m for m in hints[field.name].__metadata__ if isinstance(m, (Range, Text)))
        if isinstance(meta, Range):
            values.append(max((meta.low, meta.high), key=lambda n: len(str(n))))
        else:
            values.append("w" * meta.max_length)
    return kind(*values)


@pytest.mark.parametrize("kind", sorted(TAPS.values(), key=lambda k: k.ACTION), ids=lambda k: k.ACTION)
def test_every_action_fits_telegrams_64_bytes_and_reads_back(kind):
    tap = _largest(kind)
    data = tap.pack()
    assert len(data.encode()) <= MAX_BYTES, data
    assert read(data) == tap


def test_every_action_has_a_handler():
    app = Application.builder().token("1:x").build()
    routers = []
    original = registry.ButtonRouter

    class Recording(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            routers.append(self)

    registry.ButtonRouter = Recording  # type: ignore[misc]
    try:
        registry.register(app)
    finally:
        registry.ButtonRouter = original  # type: ignore[misc]
    assert [kind.ACTION for kind in routers[0].unrouted()] == []


def test_optional_fields_are_left_off_and_default_when_absent():
    assert OpenProduct(7).pack() == "b.p:7:0"
    assert read("b.p:7") == OpenProduct(7, 0, None)
    assert read("b.p:7:3:9") == OpenProduct(7, 3, 9)
    assert ViewOrder(5, "new").pack() == "d.view:5:new"
    with pytest.raises(ValueError):
        ViewOrder(5, None, 2).pack()  # a field after an absent one would read as the absent one


@pytest.mark.parametrize("data", [
    "", "b.p", "b.p:", "b.p:0", "b.p:x", "b.p:1:2:3:4", "nope:1", "c.set:1:2:-1", "c.set:1:2:100",
    "d.list:n e w:0", "d.view:12\n", "d.view:١٢", "b.p:" + "1" * 70,
])
def test_data_this_bot_did_not_make_does_not_read(data):
    with pytest.raises(CallbackDataError):
        read(data)


def test_a_button_the_bot_could_not_read_back_is_never_made():
    with pytest.raises(ValueError):
        SetCartLine(1, 2, 100).pack()  # past what one line holds
    with pytest.raises(ValueError):
        OpenProduct(0).pack()  # ids start at 1


async def test_a_card_and_a_cart_line_at_the_most_units_a_line_holds_still_show_their_buttons(world):
    ann, shop, _ = await shop_with_product_on_link(world, "Oranges, 1.00, 500")
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.send(str(MAX_QUANTITY))
    assert bob.last.buttons[0] == ["−", str(MAX_QUANTITY), "+"]
    await bob.tap("+")  # the + of the most a line holds asks for no more
    assert f"Quantity: {MAX_QUANTITY}" in bob.last.text
    await bob.tap("Add to cart")
    await bob.send("/cart")
    assert f"Oranges × {MAX_QUANTITY}" in bob.last.text and "+" in [b for row in bob.last.buttons for b in row]
    await bob.tap("+")
    assert await world.store.carts.lines(bob.id, shop.id)
    assert (await world.store.carts.lines(bob.id, shop.id))[0].quantity == MAX_QUANTITY
