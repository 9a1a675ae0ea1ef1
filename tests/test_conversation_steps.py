"""Each conversation declares its steps once (handlers/registry.py): what is typed goes to the
step's handler, and a step's buttons act only at that step; anything else is answered, never run."""

from __future__ import annotations

from enum import StrEnum

import pytest

from core import callbacks as taps
from handlers import catalog, checkout, landing, order_select, tell
from handlers.flows import Conversation, Conversations, Step
from tests.stories import merchant_with_shop, place_order, shop_with_product_on_link, to_confirmation


class _TwoSteps(StrEnum):
    ONE = "one"
    TWO = "two"


async def _typed(update, context, who, flow) -> None:  # pragma: no cover - never called
    pass


def test_a_conversation_must_declare_every_step_of_its_enum():
    with pytest.raises(ValueError, match="missing"):
        Conversation("x", {_TwoSteps.ONE: Step(typed=_typed)})
    declared = Conversation("x", {_TwoSteps.ONE: Step(typed=_typed), _TwoSteps.TWO: Step()})
    assert declared.step("two") == Step() and declared.step("three") is None


def test_a_button_belongs_to_one_conversation_only():
    talks = Conversations()
    talks.add(Conversation("x", {_TwoSteps.ONE: Step(buttons=(taps.TellSend,)), _TwoSteps.TWO: Step()}))
    with pytest.raises(ValueError, match="TellSend"):
        talks.add(Conversation("y", {_TwoSteps.ONE: Step(), _TwoSteps.TWO: Step(buttons=(taps.TellSend,))}))
    with pytest.raises(ValueError, match="declared twice"):
        talks.add(Conversation("x", {_TwoSteps.ONE: Step(), _TwoSteps.TWO: Step()}))


def test_the_bot_declares_each_conversation_with_its_steps_and_step_buttons(world):
    talks: Conversations = world.bot.app.bot_data["conversations"]
    names = {c.name for c in talks.all()}
    assert {checkout.FLOW, catalog.FLOW_ADD, tell.FLOW, landing.FLOW_CARD, order_select.FLOW_SELECT} <= names
    assert len(names) == len(talks.all()) == 23
    conversation, steps = talks.binding(taps.Confirm)
    assert conversation.name == checkout.FLOW and steps == {checkout.CheckoutStep.CONFIRM}
    assert talks.binding(taps.CancelCheckout)[1] is None, "Cancel acts at any step of a checkout"
    assert talks.binding(taps.BuyNow) is None, "Buy now starts a checkout: it needs none"
    assert talks.is_quiet(landing.FLOW_CARD) and not talks.is_quiet(checkout.FLOW)


async def test_confirm_from_before_change_address_is_answered_stale_and_orders_nothing(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    summary = await to_confirmation(world, bob, shop)
    confirm = summary.callback_data("✅ Confirm order")
    await bob.tap("Change address")
    query = await bob.send_callback(confirm, summary)  # the old Confirm, replayed
    assert query.show_alert and "no longer valid" in query.answer_text
    assert await world.store.orders.of_buyer(bob.id) == []
    flow = await world.store.flows.get(bob.id)
    assert flow.step == checkout.CheckoutStep.ADDRESS, "the checkout still waits for the address"
    await bob.send("12 New Street, Yichang")
    await bob.tap("Confirm order")
    assert (await world.store.orders.of_buyer(bob.id))[0].address == "12 New Street, Yichang"


async def test_typing_while_tell_waits_for_send_or_cancel_says_to_use_the_buttons(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await place_order(world, world.user("Bob"), shop)
    await ann.send("/tell")
    await ann.tap("📦 Orders waiting to ship (1)")
    await ann.send("Rain today")
    await ann.send("Rain tomorrow too")
    assert ann.last.text == "Use the buttons above to send it or cancel."
    assert (await world.store.flows.get(ann.id)).data["text"] == "Rain today"


async def test_tells_send_tapped_after_it_was_cancelled_sends_nothing(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    await ann.send("/tell")
    await ann.tap("📦 Orders waiting to ship (1)")
    await ann.send("Rain today")
    preview = ann.last
    send = preview.callback_data("📣 Send to 1")
    await ann.tap("Cancel")
    query = await ann.send_callback(send, preview)
    assert query.show_alert and "no longer valid" in query.answer_text
    await world.settle()
    assert not any("Rain" in (m.text or "") for m in bob.chat.bot_messages)


async def test_skip_of_the_photo_tapped_again_at_the_description_does_not_skip_the_description(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct")
    for answer in ("Kiwifruit", "25", "40"):
        await ann.send(answer)
    photo_question = ann.last
    skip_photo = photo_question.callback_data("Skip ⏭")
    await ann.tap("Skip")
    query = await ann.send_callback(skip_photo, photo_question)
    assert "no longer valid" in query.answer_text
    assert (await world.store.flows.get(ann.id)).step == catalog.AddStep.DESCRIPTION
    await ann.send("Sweet and green")
    assert "Published" in ann.last.text and "Sweet and green" in ann.last.text


async def test_a_price_pick_with_no_product_being_added_is_answered_stale(world):
    ann = await merchant_with_shop(world)
    query = await ann.send_callback(taps.PickPrice(0).pack(), ann.last)
    assert query.show_alert and "no longer valid" in query.answer_text
    assert await world.store.flows.get(ann.id) is None


async def test_text_at_a_step_this_version_no_longer_has_is_answered_not_taken(world):
    ann = await merchant_with_shop(world)
    await world.store.flows.start(ann.id, catalog.FLOW_ADD, "colour", {"shop": 1})  # from another version
    await ann.send("Green")
    assert ann.last.text.startswith("I didn't catch that")
    await ann.send("/cancel")
    assert await world.store.flows.get(ann.id) is None


async def test_zh_typing_while_tell_waits_for_a_tap_is_answered_in_chinese(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await place_order(world, world.user("Bob"), shop)
    await world.store.users.set_language(ann.id, "zh")
    await ann.send("/tell")
    await ann.tap(ann.last.buttons[0][0])
    await ann.send("今天下雨")
    await ann.send("明天也下雨")
    assert ann.last.text == "请用上面的按钮发送或取消。"
