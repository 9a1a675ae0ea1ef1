"""Payments cannot end up wrong: card payments completing, money for cancelled orders, refunds due
(a ledger the owner settles), "I have paid" only for transfers, and a deadline for claimed ones."""

from __future__ import annotations

import csv
import io
import time

from core.payments import Method
from tests.harness import start_world
from tests.stories import save_delivery, shop_with_product_on_link, stock_of, to_confirmation
from tests.test_payments import PROVIDER, shop_taking_transfers


async def card_shop(tmp_path):
    world = await start_world(tmp_path, payment_provider_token=PROVIDER)
    ann, shop, product_id = await shop_with_product_on_link(world)
    await world.store.payments.set_methods(shop.id, {Method.CARD})
    return world, ann, shop, product_id


async def card_order(world, bob, shop):
    """Bob orders on link 1, to pay by card: (order, invoice message)."""
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    return (await world.store.orders.of_buyer(bob.id))[0], bob.last


async def refunds_of(world, order_id):
    return await world.store.refunds.of_order(order_id)


def texts(user) -> list[str]:
    return [m.text or "" for m in user.chat.bot_messages]


async def test_a_card_payment_approved_at_pre_checkout_is_not_expired_while_it_completes(tmp_path):
    world, ann, shop, product_id = await card_shop(tmp_path)
    try:
        bob = world.user("Bob")
        order, invoice = await card_order(world, bob, shop)
        # Bob reaches Telegram's payment sheet at the last second of his time to pay.
        async with world.store.db.write() as conn:
            await conn.execute("UPDATE orders SET payment_deadline = ? WHERE id = ?", (time.time() + 1, order.id))
        record = await bob.pre_checkout(invoice)
        assert record.ok
        await world.bot.payment_clock.tick(now=time.time() + 60)  # past the deadline, payment still completing
        await world.settle()
        assert (await world.store.orders.get(order.id)).status == "placed"
        await bob.pay(invoice, skip_pre_checkout=True)  # the money arrives
        paid = await world.store.orders.get(order.id)
        assert paid.status == "placed" and paid.payment_status == "paid"
        assert await refunds_of(world, order.id) == [] and await stock_of(world, product_id) == 49
    finally:
        await world.stop()


async def test_an_approved_card_payment_that_never_completes_expires_after_its_grace(tmp_path):
    world, ann, shop, product_id = await card_shop(tmp_path)
    try:
        bob = world.user("Bob")
        order, invoice = await card_order(world, bob, shop)
        assert (await bob.pre_checkout(invoice)).ok
        await world.bot.payment_clock.tick(now=time.time() + 31 * 60)  # deadline and grace both gone
        await world.settle()
        assert (await world.store.orders.get(order.id)).status == "cancelled"
        assert await stock_of(world, product_id) == 50
    finally:
        await world.stop()


async def test_money_arriving_for_a_cancelled_order_makes_a_refund_due_and_says_so(tmp_path):
    world, ann, shop, product_id = await card_shop(tmp_path)
    try:
        bob = world.user("Bob")
        order, invoice = await card_order(world, bob, shop)
        await world.bot.payment_clock.tick(now=time.time() + 31 * 60)  # expired: cancelled, stock back
        await world.settle()
        assert await stock_of(world, product_id) == 50
        await bob.pay(invoice, charge_id="late-charge", skip_pre_checkout=True)  # money still arrives
        await world.settle()
        after = await world.store.orders.get(order.id)
        assert after.status == "cancelled" and after.total == order.total  # the order is not edited
        assert await stock_of(world, product_id) == 50  # not returned twice
        [refund] = await refunds_of(world, order.id)
        assert (refund.amount, refund.currency, refund.reason, refund.settled) == (3990, "CNY", "paid_after_cancel", False)
        notice = ann.last
        assert "Refund due: CN¥39.90" in notice.text and "already cancelled" in notice.text
        assert "Nothing is to be shipped" in notice.text and notice.buttons == [["💸 Refund sent"]]
        assert "owes you a refund of CN¥39.90: it is on its way" in bob.last.text
        assert not any("was paid by card" in t for t in texts(ann))  # no "paid" notice that invites shipping
    finally:
        await world.stop()


async def test_buyer_cancelling_a_paid_order_creates_a_refund_due_and_both_sides_hear_it(tmp_path):
    world, ann, shop, product_id = await card_shop(tmp_path)
    try:
        bob = world.user("Bob")
        order, invoice = await card_order(world, bob, shop)
        await bob.pay(invoice)
        await bob.send("/myorders")
        await bob.tap(f"Cancel #{order.number}")
        query = await bob.tap("Yes, cancel it")
        assert "a refund of CN¥39.90 is on its way" in query.answer_text
        assert "Refund due: CN¥39.90" in ann.last.text and ann.last.buttons == [["💸 Refund sent"]]
        [refund] = await refunds_of(world, order.id)
        assert (refund.reason, refund.created_by, refund.amount) == ("buyer_cancelled", bob.id, 3990)
        assert (await world.store.orders.get(order.id)).total == 3990
        assert await stock_of(world, product_id) == 50
    finally:
        await world.stop()


async def test_shop_cancelling_a_paid_order_creates_a_refund_due_and_both_sides_hear_it(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await bob.tap("I have paid")
    await ann.tap("Payment received")
    await ann.send("/orders")
    await ann.tap(f"#{order.number}")
    await ann.tap("✖ Cancel")
    await ann.send("Out of stock after the frost")
    # The order's card (edited in place) shows the refund due, with the owner's button.
    view = next(m for m in reversed(ann.chat.bot_messages) if "Refund CN¥39.90" in (m.text or ""))
    assert "Refund CN¥39.90: due, not sent yet" in view.text
    assert ["💸 Refund sent"] in view.buttons
    assert "cancelled" in bob.last.text and "owes you a refund of CN¥39.90, and it is on its way" in bob.last.text
    [refund] = await refunds_of(world, order.id)
    assert (refund.reason, refund.created_by) == ("shop_cancelled", ann.id)


async def test_the_owner_marks_a_refund_settled_and_the_buyer_hears_it(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob, sam = world.user("Bob"), world.user("Sam")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await bob.tap("I have paid")
    await ann.tap("Payment received")
    await bob.send("/myorders")
    await bob.tap(f"Cancel #{order.number}")
    await bob.tap("Yes, cancel it")
    notice = ann.last
    settle = notice.callback_data("Refund sent")
    # Staff (and anyone else) cannot mark it: only the owner.
    await ann.send("/staff")
    await ann.tap("Invite")
    link = ann.last.text.split("start=")[1].split()[0]
    await sam.send(f"/start {link}")
    query = await sam.send_callback(settle, sam.last)
    assert "Only the shop's owner" in query.answer_text
    query = await ann.tap("💸 Refund sent", message=notice)
    assert "Refund of CN¥39.90 for order #1001 marked as sent" in query.answer_text
    assert "has sent back your refund of CN¥39.90" in bob.last.text
    [refund] = await refunds_of(world, order.id)
    assert refund.settled and refund.settled_by == ann.id
    assert notice.buttons == []  # the button goes once used
    query = await ann.send_callback(settle, notice)  # a second tap (an old copy of the button)
    assert "no refund waiting" in query.answer_text
    assert len([t for t in texts(bob) if "has sent back your refund" in t]) == 1


async def test_summary_and_export_show_refunds(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await bob.tap("I have paid")
    await ann.tap("Payment received")
    await bob.send("/myorders")
    await bob.tap(f"Cancel #{order.number}")
    await bob.tap("Yes, cancel it")
    await ann.send("/summary today")
    summary = "\n".join(texts(ann)[-2:])
    assert "Refunds due: 1, CN¥39.90 (1 still to send: CN¥39.90)" in summary
    await ann.send("/export today")
    rows = list(csv.reader(io.StringIO(ann.last.document.data.decode("utf-8-sig"))))
    refund = rows[0].index("Refund")  # (the shipping columns come after it)
    assert rows[1][refund] == "CN¥39.90 · due, not sent yet"
    assert rows[1][rows[0].index("Total")] == "39.90"  # the order's total stays what was bought


async def test_i_have_paid_is_accepted_only_on_orders_paid_by_the_shops_code(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.payment_method == "cod"
    query = await bob.send_callback(f"pay.claim:{order.id}", bob.last)  # a forged "I have paid"
    assert "only for transfers to the shop's payment code" in query.answer_text
    assert (await world.store.orders.get(order.id)).payment_status == "cod"
    assert not any("says they paid" in t for t in texts(ann))


async def test_a_claimed_transfer_reminds_the_merchant_at_the_deadline_then_expires_by_the_shops_rule(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await bob.tap("I have paid")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    clock = world.bot.payment_clock
    await clock.tick(now=time.time() + 25 * 60)  # before the deadline: nothing
    await clock.tick(now=time.time() + 31 * 60)  # the deadline passed: the shop is reminded, once
    await clock.tick(now=time.time() + 35 * 60)
    await world.settle()
    reminders = [m for m in ann.chat.bot_messages if "the time to pay is up" in (m.text or "")]
    assert len(reminders) == 1 and "cancelled in 30 minutes" in reminders[0].text
    assert any("Payment received" in b for b in reminders[0].buttons[0]) and any("Not received" in b for b in reminders[0].buttons[0])
    assert (await world.store.orders.get(order.id)).status == "placed"
    await clock.tick(now=time.time() + 61 * 60)  # the shop's payment time once more: expired
    await world.settle()
    expired = await world.store.orders.get(order.id)
    assert expired.status == "cancelled" and expired.payment_status == "expired"
    assert await stock_of(world, product_id) == 50
    assert "could not confirm your transfer in time" in bob.last.text
    assert "was not confirmed in time" in ann.last.text


async def test_a_claimed_transfer_the_shop_confirms_in_time_does_not_expire(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await bob.tap("I have paid")
    await world.bot.payment_clock.tick(now=time.time() + 31 * 60)
    await world.settle()
    reminder = next(m for m in ann.chat.bot_messages if "the time to pay is up" in (m.text or ""))
    await ann.tap("Payment received", message=reminder)
    await world.bot.payment_clock.tick(now=time.time() + 90 * 60)
    await world.settle()
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.status == "placed" and order.payment_status == "paid"
    assert await stock_of(world, product_id) == 49


async def test_a_transfer_the_shop_confirms_after_the_order_expired_becomes_a_refund_due(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await bob.tap("I have paid")
    claim = ann.last
    await world.bot.payment_clock.tick(now=time.time() + 61 * 60)  # claimed, never checked: expired
    await world.settle()
    assert await stock_of(world, product_id) == 50
    await ann.tap("Payment received", message=claim)  # the money was there after all
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.status == "cancelled" and order.payment_status == "paid"
    [refund] = await refunds_of(world, order.id)
    assert (refund.reason, refund.amount, refund.created_by, refund.settled) == ("paid_after_cancel", 3990, ann.id, False)
    shown = ann.chat.get(claim.message_id)  # the claim notice becomes the refund due
    assert "Refund due: CN¥39.90" in shown.text and ["💸 Refund sent"] in shown.buttons
    assert "owes you a refund of CN¥39.90: it is on its way" in bob.last.text
    assert await stock_of(world, product_id) == 50  # not returned twice
