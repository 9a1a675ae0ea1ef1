"""Payments: cash on delivery, the merchant's own payment code, Telegram Payments, deadlines."""

from __future__ import annotations

import csv
import io
import time

import qrcode

from core.payments import Method
from tests.harness import start_world
from tests.stories import shop_with_product_on_link, stock_of, to_confirmation

PROVIDER = "284685063:TEST:livecart-fake-provider"


def qr_png(text: str) -> bytes:
    image = qrcode.make(text)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def upload_code(world) -> str:
    """A receive-code picture as Telegram would hold it (a file_id the bot can send)."""
    merchant = world.tg.user("Code")
    message = await merchant.send_photo(caption=None)
    return message.photo.file_id


async def shop_taking_transfers(world):
    """A shop on link 1 that takes only transfers to its receive code."""
    ann, shop, product_id = await shop_with_product_on_link(world)
    await world.store.payments.set_methods(shop.id, {Method.CODE})
    await world.store.payments.set_code(shop.id, await upload_code(world))
    return ann, shop, product_id


async def test_cash_on_delivery_is_the_default_and_needs_no_choice(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    confirm = await to_confirmation(world, bob, shop)
    assert "cash on delivery" in confirm.text
    assert confirm.buttons == [["✅ Confirm order"], ["✏️ Change address", "👤 Recipient"],
                               ["📱 Phone", "📝 Add a note"], ["✖ Cancel"]]
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.payment_method == "cod" and order.payment_status == "cod"


async def test_owner_sets_methods_and_uploads_a_code_in_payments_settings(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/payments")
    assert "No payment code yet" in ann.last.text and "need the operator" in ann.last.text
    await ann.tap("transfer to the shop's payment code")
    await ann.tap("Upload the payment code")
    await ann.send("not a picture")
    assert "as a photo" in ann.last.text
    await ann.send_photo()  # a picture with no QR code in it: buyers could not pay with it
    assert "can't find a QR code" in ann.last.text
    assert (await world.store.payments.settings(shop.id)).code_file_id is None
    await ann.send_photo(qr_png("wxp://f2f0-livecart-test"))
    assert "Your payment code is uploaded" in ann.last.text
    assert ["⏱ 15 min", "✔️ 30 min (now)", "⏱ 60 min", "⏱ 120 min"] in ann.last.buttons
    await ann.tap("60 min")
    assert ["⏱ 15 min", "⏱ 30 min", "✔️ 60 min (now)", "⏱ 120 min"] in ann.last.buttons
    settings = await world.store.payments.settings(shop.id)
    assert settings.methods == [Method.COD, Method.CODE] and settings.code_file_id and settings.timeout_minutes == 60
    await ann.tap("cash on delivery")
    await ann.tap("transfer to the shop's payment code")
    assert "Keep at least one" in world.tg.callback_queries[max(world.tg.callback_queries)].answer_text


async def test_transfer_to_the_merchants_code_from_order_to_payment_received(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    await world.store.payments.set_methods(shop.id, {Method.COD, Method.CODE})
    await world.store.payments.set_code(shop.id, await upload_code(world))
    bob = world.user("Bob")
    confirm = await to_confirmation(world, bob, shop)
    # The chosen method has a radio mark, not the ✅ of the Confirm button.
    assert ["🔘 cash on delivery", "⚪ transfer to the shop's payment code"] in confirm.buttons
    assert [b for row in confirm.buttons for b in row if b.startswith("✅")] == ["✅ Confirm order"]
    await bob.tap("transfer to the shop's payment code")
    assert "Payment: transfer to the shop's payment code" in bob.last.text
    await bob.tap("Confirm order")
    receipt = bob.chat.get(confirm.message_id)
    assert "Order #1001 placed" in receipt.text and "pay within 30 minutes" in receipt.text
    code = bob.last
    assert code.photo is not None and "CN¥39.90" in code.text and "#1001" in code.text
    assert "awaiting payment" in ann.last.text
    await bob.tap("I have paid")
    assert "send a screenshot" in bob.last.text
    claim = ann.last
    assert "Bob says they paid" in claim.text
    await bob.send_photo()
    assert "passed on to the shop" in bob.last.text
    assert ann.last.photo is not None and "screenshot" in ann.last.text
    await ann.tap("Not received", message=claim)
    assert "has not received" in bob.last.text
    assert (await world.store.orders.get(1)).payment_status == "awaiting"
    await bob.tap("I have paid")
    await ann.tap("Payment received")
    assert "received your payment of CN¥39.90" in bob.last.text
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.payment_status == "paid" and order.paid_at is not None
    await bob.send("/myorders")
    assert "paid" in bob.last.text


async def test_only_the_buyer_claims_and_only_the_shop_confirms_a_payment(world):
    ann, shop, _ = await shop_taking_transfers(world)
    bob, eve = world.user("Bob"), world.user("Eve")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    order = (await world.store.orders.of_buyer(bob.id))[0]
    await eve.send("/start")
    for data in (f"pay.claim:{order.id}", f"pay.ok:{order.id}", f"pay.no:{order.id}"):
        query = await eve.send_callback(data, eve.last)
        assert "can't do that" in query.answer_text
    query = await bob.send_callback(f"pay.ok:{order.id}", bob.last)
    assert "can't do that" in query.answer_text
    assert (await world.store.orders.get(order.id)).payment_status == "awaiting"


async def card_world(tmp_path):
    world = await start_world(tmp_path, payment_provider_token=PROVIDER)
    ann, shop, product_id = await shop_with_product_on_link(world)
    await world.store.payments.set_methods(shop.id, {Method.COD, Method.CARD})
    return world, ann, shop, product_id


async def test_telegram_payments_invoice_pre_checkout_and_paid_exactly_once(tmp_path):
    world, ann, shop, product_id = await card_world(tmp_path)
    try:
        bob = world.user("Bob")
        await to_confirmation(world, bob, shop)
        await bob.tap("card (Telegram Payments)")
        await bob.tap("Confirm order")
        invoice = bob.last
        assert invoice.invoice is not None and invoice.invoice["total_amount"] == 3990
        assert invoice.invoice_details["provider_token"] == PROVIDER
        paid = await bob.pay(invoice, charge_id="charge-1")
        assert paid.successful_payment is not None
        order = (await world.store.orders.of_buyer(bob.id))[0]
        assert order.payment_status == "paid"
        assert "Payment of CN¥39.90 received" in bob.last.text
        # Telegram delivers the same successful_payment again.
        raw = next(u for u in reversed(world.tg.updates.log) if "successful_payment" in str(u))
        await world.bot.pipeline.accept([{**raw, "update_id": raw["update_id"] + 1000}])
        await world.settle()
        notices = [m for m in ann.chat.bot_messages if "was paid by card" in (m.text or "")]
        assert len(notices) == 1
        assert len([m for m in bob.chat.bot_messages if "received for order" in (m.text or "")]) == 1
    finally:
        await world.stop()


async def test_pre_checkout_after_expiry_is_refused_with_a_reason_and_stock_returns(tmp_path):
    world, ann, shop, product_id = await card_world(tmp_path)
    try:
        bob = world.user("Bob")
        await to_confirmation(world, bob, shop)
        await bob.tap("card (Telegram Payments)")
        await bob.tap("Confirm order")
        invoice = bob.last
        assert await stock_of(world, product_id) == 49
        await world.bot.payment_clock.tick(now=time.time() + 31 * 60)
        await world.settle()
        assert await stock_of(world, product_id) == 50
        assert "payment didn't arrive in time" in bob.last.text
        assert "not paid in time" in ann.last.text
        record = await bob.pre_checkout(invoice)
        assert record.answered and record.ok is False and "time to pay this order has run out" in record.error_message
        order = (await world.store.orders.of_buyer(bob.id))[0]
        assert order.status == "cancelled" and order.payment_status == "expired"
    finally:
        await world.stop()


async def test_unpaid_order_gets_one_reminder_half_way_then_expires(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    clock = world.bot.payment_clock
    await clock.tick(now=time.time() + 5 * 60)
    await world.settle()
    assert not [m for m in bob.chat.bot_messages if "waiting for your payment" in (m.text or "")]
    await clock.tick(now=time.time() + 16 * 60)
    await clock.tick(now=time.time() + 17 * 60)
    await world.settle()
    reminders = [m for m in bob.chat.bot_messages if "waiting for your payment" in (m.text or "")]
    assert len(reminders) == 1 and "minutes are left" in reminders[0].text
    await clock.tick(now=time.time() + 31 * 60)
    await world.settle()
    assert await stock_of(world, product_id) == 50
    assert (await world.store.orders.of_buyer(bob.id))[0].status == "cancelled"


async def test_a_claimed_payment_does_not_expire_at_the_deadline_while_the_shop_checks(world):
    ann, shop, product_id = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await bob.tap("I have paid")
    await world.bot.payment_clock.tick(now=time.time() + 40 * 60)
    await world.settle()
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.status == "placed" and order.payment_status == "claimed"
    assert await stock_of(world, product_id) == 49


async def test_payment_state_shows_in_the_export(world):
    ann, shop, _ = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await ann.send("/export today")
    row = next(csv.DictReader(io.StringIO(ann.last.document.data.decode("utf-8-sig"))))
    assert (row["Payment"], row["Payment status"]) == ("transfer to the shop's payment code", "awaiting payment")


async def test_settings_lead_to_the_payment_methods(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/settings")
    await ann.tap("Payment methods")
    assert "Payments at Green Hill Oranges" in ann.last.text


async def test_the_summary_counts_orders_awaiting_payment(world):
    ann, shop, _ = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await ann.send("/summary today")
    text = "\n".join(m.text or "" for m in ann.chat.bot_messages[-2:])
    assert "Awaiting payment" in text and "CN¥39.90" in text


async def transfer_order_placed(world):
    """Bob's order #1001 in a shop taking transfers: (owner, buyer, the owner's new-order notice)."""
    ann, shop, _ = await shop_taking_transfers(world)
    bob = world.user("Bob")
    await to_confirmation(world, bob, shop)
    await bob.tap("Confirm order")
    await world.settle()
    return ann, bob, next(m for m in reversed(ann.chat.bot_messages) if "#1001" in (m.text or ""))


async def test_the_owners_order_card_follows_the_payment_from_awaiting_to_claimed_to_paid(world):
    # The new-order notice is the order's card: it must not keep saying "awaiting payment" once
    # the buyer says they paid and the shop confirms it (every copy is edited with the change).
    ann, bob, notice = await transfer_order_placed(world)
    assert "awaiting payment" in notice.text
    await bob.tap("I have paid")
    await world.settle()
    assert "buyer says paid: please check" in ann.chat.get(notice.message_id).text
    claim = next(m for m in reversed(ann.chat.bot_messages) if "says they paid" in (m.text or ""))
    await ann.tap("Payment received", message=claim)
    await world.settle()
    card = ann.chat.get(notice.message_id).text
    assert "paid" in card and "awaiting payment" not in card and "please check" not in card


async def test_an_expired_payment_shows_on_the_owners_order_card(world):
    ann, _, notice = await transfer_order_placed(world)
    await world.bot.payment_clock.tick(now=time.time() + 31 * 60)
    await world.settle()
    card = ann.chat.get(notice.message_id).text
    assert "awaiting payment" not in card and "cancelled" in card.lower()
