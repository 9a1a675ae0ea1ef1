"""Payments: cash on delivery, a transfer to the merchant's own receive code, Telegram Payments.

The shop chooses what it accepts (settings below). A prepaid order waits for its money until the
shop's deadline (default 30 minutes), with a reminder half-way; unpaid, it is cancelled and its
stock returns (`PaymentClock`). A card payment approved at pre-checkout is given time to complete;
a transfer the buyer says they made ("I have paid", receive-code orders only) reminds the shop at
the deadline and expires after the shop's payment time once more unless the shop confirms it.
Money owed back is a refund due (storage/refunds.py), settled by the owner's "Refund sent".
Every action re-checks who is acting on which order.
"""

from __future__ import annotations

from enum import StrEnum
import asyncio
import logging
import time

from telegram import Update
from telegram.error import TelegramError

from core import callbacks as taps
from core.config import Config
from core.i18n import Translator
from core.qrscan import qr_texts
from core.orders import Status
from core.payments import Method, PaymentStatus, invoice_payload, order_id_from_payload
from core.text import clean_text
from handlers.guards import shop_member
from handlers.order_card import card_edits
from handlers.common import (
    Actor, Context, Services, actor, button, current_membership, keyboard, largest_photo, present, query_of, reply,
    services, set_buttons,
)
from handlers.notices import (
    METHOD_NAMES, STATUS_NAMES, Reach, buyer_messages, members_messages, reach_of, settle_markup, to_members,
)
from storage.models import Flow, Shop
from storage.orders import Order
from storage.payments import PaymentSettings
from storage.outbox import Outgoing

log = logging.getLogger(__name__)

FLOW_PROOF = "payproof"
FLOW_PAY_SETTINGS = "paysettings"


class ProofStep(StrEnum):
    PHOTO = "photo"  # the buyer's screenshot of the payment


class PayCodeStep(StrEnum):
    CODE = "code"  # the owner's payment QR code, as a photo

TIMEOUT_CHOICES = (15, 30, 60, 120)


def available_methods(svc: Services, accepted: list[Method], code_file_id: str | None) -> list[Method]:
    """What a buyer can pick: what the shop accepts and can actually take."""
    usable = []
    for method in accepted:
        if method is Method.CODE and not code_file_id:
            continue  # no receive code uploaded yet
        if method is Method.CARD and not svc.config.payment_provider_token:
            continue  # the operator has no payment provider
        usable.append(method)
    return usable or [Method.COD]


# ---------------------------------------------------------------- after an order is placed

def payment_messages(config: Config, settings: PaymentSettings, order: Order, shop: Shop,
                     t: Translator) -> list[Outgoing]:
    """What the buyer needs to pay a prepaid order: the receive code, or a Telegram invoice (pure:
    rendered inside the transaction that places the order)."""
    if order.payment_method == Method.CODE:
        minutes = settings.timeout_minutes
        return [Outgoing(order.buyer_id, "sendPhoto", {
            "photo": settings.code_file_id, "parse_mode": "HTML",
            "caption": t("payment.code_instructions", amount=t.money(order.total, order.currency),
                         number=order.number, shop=shop.name, minutes=minutes),
            "reply_markup": keyboard([[button(t.plain("payment.button_paid"), taps.ClaimPaid(order.id))]]),
        })]
    if order.payment_method == Method.CARD:
        return [Outgoing(order.buyer_id, "sendInvoice", {
            "title": t.plain("payment.invoice_title", number=order.number)[:32],
            "description": t.plain("payment.invoice_description", shop=shop.name,
                                   items=", ".join(f"{i.name} ×{i.quantity}" for i in order.items))[:255],
            "payload": invoice_payload(order.id),
            "provider_token": config.payment_provider_token,
            "currency": order.currency,
            # The shipping fee is a line of its own; the address is known already, so the invoice
            # asks for none (no need_shipping_address) and the pre-checkout check compares the total.
            "prices": [{"label": f"{i.name[:28]} ×{i.quantity}", "amount": i.subtotal} for i in order.items]
            + ([{"label": t.plain("payment.invoice_shipping"), "amount": order.shipping_fee}]
               if order.shipping_fee else []),
        })]
    return []


# ---------------------------------------------------------------- the merchant's own receive code

async def on_claim(update: Update, context: Context) -> None:
    """"I have paid": the shop is asked to check; a screenshot may follow."""
    who = await actor(update, context)
    svc = services(context)
    order = await svc.store.orders.get(context.tap(taps.ClaimPaid).order)
    if order is None or order.buyer_id != who.id:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    if order.payment_method != Method.CODE:  # a card payment is Telegram's to report; cash is paid at the door
        await query_of(update).answer(who.t.plain("payment.claim_only_code"), show_alert=True)
        return
    shop = await svc.store.shops.require(order.shop_id)

    reach = await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id)

    def messages(changed: Order):
        return card_edits(reach, changed, shop) + members_messages(reach, lambda t: {
            "text": t("payment.claimed_notice", number=changed.number, amount=t.money(changed.total, changed.currency),
                      buyer=clean_text(who.user.first_name) or "?"),  # a bidi override must not flip the amount
            "parse_mode": "HTML",
            "reply_markup": keyboard([[button(t.plain("payment.button_received"), taps.PaymentReceived(changed.id)),
                                       button(t.plain("payment.button_not_received"), taps.PaymentNotReceived(changed.id))]]),
        })

    claimed = await svc.store.payments.claim(order.id, messages)
    if claimed is None:
        await query_of(update).answer(who.t.plain("payment.nothing_to_claim"), show_alert=True)
        return
    await query_of(update).answer()
    await svc.store.flows.start(who.id, FLOW_PROOF, ProofStep.PHOTO, {"order": order.id})
    await reply(update, who.t("payment.claim_thanks", number=order.number))


async def on_proof(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """A screenshot of the transfer, passed on to the shop."""
    svc = services(context)
    photo = largest_photo(update)
    if photo is None:
        await reply(update, who.t("payment.proof_expected"))
        return
    await svc.store.flows.clear(who.id)
    order = await svc.store.orders.get(flow.data["order"])
    if order is None or order.buyer_id != who.id:
        return
    shop = await svc.store.shops.require(order.shop_id)
    for message in await to_members(svc, shop, lambda t: Outgoing(0, "sendPhoto", {
            "photo": photo, "parse_mode": "HTML", "caption": t("payment.proof_caption", number=order.number)})):
        await svc.store.outbox.send_later(message)
    await reply(update, who.t("payment.proof_sent"))


async def on_received(update: Update, context: Context) -> None:
    await _merchant_verdict(update, context, received=True)


async def on_not_received(update: Update, context: Context) -> None:
    await _merchant_verdict(update, context, received=False)


async def _merchant_verdict(update: Update, context: Context, *, received: bool) -> None:
    who = await actor(update, context)
    svc = services(context)
    order = await svc.store.orders.get(context.tap(taps.OnOrder).order)
    membership = await svc.store.shops.membership(who.id, order.shop_id) if order else None
    if order is None or membership is None:
        await query_of(update).answer(who.t.plain("common.not_allowed"), show_alert=True)
        return
    shop = membership.shop

    reach = await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id)

    def tell_buyer(changed: Order):
        cards = card_edits(reach, changed, shop)  # every copy of the order's card shows the payment
        if changed.status == Status.CANCELLED:  # the transfer came after the order expired: give it back
            return cards + buyer_messages(reach, lambda t: t(
                "refund.paid_after_cancel_buyer", number=changed.number, shop=shop.name,
                amount=t.money(changed.total, changed.currency)))
        return cards + buyer_messages(reach, lambda t: t(
            "payment.buyer_received" if received else "payment.buyer_not_received", number=changed.number,
            shop=shop.name, amount=t.money(changed.total, changed.currency)))

    payments = svc.store.payments
    changed = await (payments.confirm_received(order.id, tell_buyer, received_by=who.id) if received
                     else payments.not_received(order.id, tell_buyer))
    if changed is None:
        await query_of(update).answer(who.t.plain("payment.already_settled"), show_alert=True)
        return
    await query_of(update).answer()
    if changed.status == Status.CANCELLED:
        amount = who.t.money(changed.total, changed.currency)
        markup = settle_markup(who.t, changed.id) if membership.is_owner else None
        await present(update, who.t("refund.paid_after_cancel_notice", number=changed.number, amount=amount), markup)
        return
    await present(update, who.t("payment.verdict_done", number=changed.number,
                                status=who.t.plain(STATUS_NAMES[PaymentStatus(changed.payment_status)])))




# ---------------------------------------------------------------- Telegram Payments

async def on_pre_checkout(update: Update, context: Context) -> None:
    """Telegram asks whether the order still stands: answer within its 10-second limit."""
    query = update.pre_checkout_query
    if query is None:
        raise TypeError("on_pre_checkout without a pre-checkout query")
    who = await actor(update, context)
    svc = services(context)
    order_id = order_id_from_payload(query.invoice_payload)
    order = await svc.store.orders.get(order_id) if order_id else None
    problem = None
    if order is None or order.buyer_id != who.id:
        problem = "payment.refused_unknown"
    elif order.status == Status.CANCELLED or order.payment_status == PaymentStatus.EXPIRED or (
            order.payment_deadline is not None and order.payment_deadline < time.time()):
        problem = "payment.refused_expired"
    elif order.payment_status == PaymentStatus.PAID:
        problem = "payment.refused_paid"
    elif query.total_amount != order.total or query.currency != order.currency:
        problem = "payment.refused_amount"
    elif not await svc.store.payments.approve(order.id):  # the clock now waits for the money
        problem = "payment.refused_expired"
    if problem is None:
        await query.answer(ok=True)
    else:
        await query.answer(ok=False, error_message=who.t.plain(problem, number=order.number if order else ""))


async def on_successful_payment(update: Update, context: Context) -> None:
    """The money arrived: mark the order paid exactly once (keyed by Telegram's charge id)."""
    who = await actor(update, context)
    svc = services(context)
    message = update.effective_message
    payment = message.successful_payment if message is not None else None
    if payment is None:
        raise TypeError("on_successful_payment without a payment")
    order_id = order_id_from_payload(payment.invoice_payload)
    order = await svc.store.orders.get(order_id) if order_id else None
    if order is None or order.buyer_id != who.id:
        log.error("successful_payment for an unknown order: payload=%r charge=%s user=%d",
                  payment.invoice_payload, payment.telegram_payment_charge_id, who.id)
        return
    shop = await svc.store.shops.require(order.shop_id)

    reach = await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id)

    def messages(paid: Order):
        if paid.status == Status.CANCELLED:  # the money came for an order already cancelled: give it back
            return card_edits(reach, paid, shop) + late_payment_messages(reach, paid, shop, payment.total_amount,
                                                                        payment.currency)
        buyer_note = buyer_messages(reach, lambda t: t("payment.card_paid", number=paid.number, shop=shop.name,
                                                       amount=t.money(paid.total, paid.currency)))
        shop_note = members_messages(reach, lambda t: {
            "text": t("payment.card_paid_notice", number=paid.number, amount=t.money(paid.total, paid.currency)),
            "parse_mode": "HTML"})
        return card_edits(reach, paid, shop) + buyer_note + shop_note

    _, fresh = await svc.store.payments.record_telegram_payment(
        order.id, payment.telegram_payment_charge_id, payment.provider_payment_charge_id, messages,
        amount=payment.total_amount, currency=payment.currency)
    if not fresh:
        log.info("successful_payment %s for order %d delivered again; already recorded",
                 payment.telegram_payment_charge_id, order.id)


def late_payment_messages(reach: Reach, order: Order, shop: Shop, amount: int, currency: str) -> list[Outgoing]:
    """Money arrived for a cancelled order: the owner is told plainly to send it back, the buyer
    that it is on its way (pure: see notices.Reach)."""
    buyer = buyer_messages(reach, lambda t: t("refund.paid_after_cancel_buyer", number=order.number,
                                              shop=shop.name, amount=t.money(amount, currency)))
    members = members_messages(reach, lambda t: {
        "text": t("refund.paid_after_cancel_notice", number=order.number, amount=t.money(amount, currency)),
        "parse_mode": "HTML", "reply_markup": settle_markup(t, order.id)})
    return buyer + members


async def on_settle_refund(update: Update, context: Context) -> None:
    """"Refund sent": the owner marks the order's refunds due as settled; the buyer hears it."""
    who = await actor(update, context)
    svc = services(context)
    order = await svc.store.orders.get(context.tap(taps.RefundSettled).order)
    membership = await svc.store.shops.membership(who.id, order.shop_id) if order else None
    if order is None or membership is None or not membership.is_owner:
        await query_of(update).answer(who.t.plain("refund.owner_only"), show_alert=True)
        return
    shop = membership.shop

    reach = await reach_of(svc, shop, buyer_id=order.buyer_id)

    def tell_buyer(refund):
        return buyer_messages(reach, lambda t: t("refund.settled_buyer", number=order.number, shop=shop.name,
                                                 amount=t.money(refund.amount, refund.currency)))

    settled = await svc.store.refunds.settle_order(order.id, who.id, tell_buyer)
    if not settled:
        await query_of(update).answer(who.t.plain("refund.nothing_open", number=order.number), show_alert=True)
        return
    total = sum(r.amount for r in settled)
    await query_of(update).answer(who.t.plain("refund.settled_toast", number=order.number,
                                                   amount=who.t.money(total, settled[0].currency)))
    await set_buttons(update, None)


# ---------------------------------------------------------------- deadlines

class PaymentClock:
    """Every `interval` seconds: remind buyers half-way to the deadline, expire what is overdue."""

    def __init__(self, svc: Services, interval: float = 20.0) -> None:
        self._svc = svc
        # Run every `interval` seconds by the bot's jobs (runtime/jobs.py, which imports us).
        self.interval = interval

    async def tick(self, now: float | None = None) -> None:
        svc = self._svc
        at = time.time() if now is None else now
        # Each order's reach (buyer, shop members and their languages) is gathered before the
        # storage call that changes it; the renderers below only format.
        for order_id in await svc.store.payments.due_reminders(at):
            order = await svc.store.orders.require(order_id)
            reach = await reach_of(svc, None, buyer_id=order.buyer_id)
            minutes = max(1, round(((order.payment_deadline or at) - at) / 60))

            def reminder(o: Order, reach: Reach = reach, minutes: int = minutes) -> list[Outgoing]:
                return buyer_messages(reach, lambda t: t("payment.reminder", number=o.number,
                                                         amount=t.money(o.total, o.currency), minutes=minutes))
            await svc.store.payments.mark_reminded(order_id, reminder)
        for order_id in await svc.store.payments.due_claim_reminders(at):
            order = await svc.store.orders.require(order_id)
            shop = await svc.store.shops.require(order.shop_id)
            reach = await reach_of(svc, shop)
            minutes = (await svc.store.payments.settings(shop.id)).timeout_minutes

            def overdue_claim(o: Order, reach: Reach = reach, minutes: int = minutes) -> list[Outgoing]:
                return members_messages(reach, lambda t: {
                    "text": t("payment.claim_overdue_notice", number=o.number, amount=t.money(o.total, o.currency),
                              minutes=minutes),
                    "parse_mode": "HTML",
                    "reply_markup": keyboard([[button(t.plain("payment.button_received"), taps.PaymentReceived(o.id)),
                                               button(t.plain("payment.button_not_received"),
                                                      taps.PaymentNotReceived(o.id))]])})
            await svc.store.payments.mark_claim_reminded(order_id, overdue_claim)
        for order_id in await svc.store.payments.overdue(at):
            order = await svc.store.orders.require(order_id)
            shop = await svc.store.shops.require(order.shop_id)
            reach = await reach_of(svc, shop, buyer_id=order.buyer_id, order_id=order.id)
            claimed = order.payment_status == PaymentStatus.CLAIMED

            def messages(expired: Order, shop: Shop = shop, claimed: bool = claimed, reach: Reach = reach):
                buyer = buyer_messages(reach, lambda t: t(
                    "payment.claim_expired_buyer" if claimed else "payment.expired_buyer",
                    number=expired.number, shop=shop.name))
                members = members_messages(reach, lambda t: {
                    "text": t("payment.claim_expired_notice" if claimed else "payment.expired_notice",
                              number=expired.number), "parse_mode": "HTML"})
                return card_edits(reach, expired, shop) + buyer + members

            await svc.store.payments.expire(order_id, messages, at=at)


# ---------------------------------------------------------------- the shop's payment settings

def settings_text(t: Translator, shop: Shop, accepted: list[Method], code: str | None, minutes: int,
                  card_possible: bool) -> str:
    lines = [t("payment.settings_title", shop=shop.name)]
    for method in Method:
        mark = "✅" if method in accepted else "▫️"
        lines.append(f"{mark} " + t(METHOD_NAMES[method]))
    lines.append(t("payment.settings_code_set" if code else "payment.settings_code_missing"))
    if not card_possible:
        lines.append(t("payment.settings_card_unavailable"))
    lines.append(t("payment.settings_timeout", minutes=minutes))
    return "\n".join(lines)


async def show_payment_settings(update: Update, context: Context, who: Actor, shop: Shop) -> None:
    svc = services(context)
    settings = await svc.store.payments.settings(shop.id)
    t = who.t
    rows = [[button(("✅ " if m in settings.methods else "▫️ ") + t.plain(METHOD_NAMES[m]), taps.TogglePaymentMethod(shop.id, m.value))]
            for m in Method]
    rows.append([button(t.plain("payment.button_upload_code"), taps.UploadPaymentCode(shop.id))])
    rows.append([button(t.plain("payment.button_timeout_active" if m == settings.timeout_minutes
                                else "payment.button_timeout", minutes=m), taps.PaymentTimeout(shop.id, m))
                 for m in TIMEOUT_CHOICES])
    await present(update, settings_text(t, shop, settings.methods, settings.code_file_id, settings.timeout_minutes,
                                        bool(svc.config.payment_provider_token)), keyboard(rows))


async def _owned_shop(update: Update, context: Context) -> Shop | None:
    """The shop a settings button names (its first argument), if the user owns it."""
    membership = await shop_member(update, context, context.tap(taps.OnShop).shop, owner=True)
    return None if membership is None else membership.shop


async def payments_command(update: Update, context: Context) -> None:
    """/payments (or the settings button): which payment methods the shop accepts."""
    who = await actor(update, context)
    if update.callback_query:
        shop = await _owned_shop(update, context)
        if shop is None:
            return
        await query_of(update).answer()
    else:
        membership = await current_membership(who, context)
        if membership is None or not membership.is_owner:
            await reply(update, who.t("payment.owner_only"))
            return
        shop = membership.shop
    await show_payment_settings(update, context, who, shop)


async def on_toggle_method(update: Update, context: Context) -> None:
    who = await actor(update, context)
    shop = await _owned_shop(update, context)
    if shop is None:
        return
    try:
        method = Method(context.tap(taps.TogglePaymentMethod).method)
    except ValueError:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    payments = services(context).store.payments
    accepted = set((await payments.settings(shop.id)).methods)
    accepted ^= {method}
    if not accepted:
        await query_of(update).answer(who.t.plain("payment.need_one_method"), show_alert=True)
        return
    await payments.set_methods(shop.id, accepted)
    await query_of(update).answer()
    await show_payment_settings(update, context, who, shop)


async def on_timeout(update: Update, context: Context) -> None:
    who = await actor(update, context)
    shop = await _owned_shop(update, context)
    if shop is None:
        return
    minutes = context.tap(taps.PaymentTimeout).minutes
    if minutes not in TIMEOUT_CHOICES:
        await query_of(update).answer(who.t.plain("common.stale_button"))
        return
    await services(context).store.payments.set_timeout(shop.id, minutes)
    await query_of(update).answer()
    await show_payment_settings(update, context, who, shop)


async def on_upload_code(update: Update, context: Context) -> None:
    who = await actor(update, context)
    shop = await _owned_shop(update, context)
    if shop is None:
        return
    await query_of(update).answer()
    await services(context).store.flows.start(who.id, FLOW_PAY_SETTINGS, PayCodeStep.CODE, {"shop": shop.id})
    await reply(update, who.t("payment.ask_code"))


async def on_code_photo(update: Update, context: Context, who: Actor, flow: Flow) -> None:
    """The receive code's picture: kept only if it holds a QR code buyers can scan."""
    svc = services(context)
    photo = largest_photo(update)
    if photo is None:
        await reply(update, who.t("payment.code_expected"))
        return
    membership = await svc.store.shops.membership(who.id, flow.data["shop"])
    if membership is None or not membership.is_owner:
        await svc.store.flows.clear(who.id)
        await reply(update, who.t("common.not_allowed"))
        return
    if not await _holds_qr_code(context, photo):
        await reply(update, who.t("payment.code_no_qr"))  # the flow stays: the next picture is tried
        return
    await svc.store.flows.clear(who.id)
    await svc.store.payments.set_code(membership.shop.id, photo)
    await reply(update, who.t("payment.code_saved"))
    await show_payment_settings(update, context, who, membership.shop)


async def _holds_qr_code(context: Context, file_id: str) -> bool:
    """Download the picture and look for a QR code in it (off the event loop: a large photo
    takes tens of milliseconds to decode). A picture we cannot fetch is not accepted either."""
    try:
        data = bytes(await (await context.bot.get_file(file_id)).download_as_bytearray())
    except TelegramError as exc:
        log.warning("could not fetch a payment-code picture to check it: %s", exc)
        return False
    return bool(await asyncio.to_thread(qr_texts, data))
