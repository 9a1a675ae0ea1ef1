"""Telegram Payments: sendInvoice and answerPreCheckoutQuery.

The invoice message shows users only the Invoice object (title,
description, currency, total); the payload, prices and provider token are
kept aside on the message so the user helpers can build the
pre_checkout_query and successful_payment Telegram would send.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import QUERY_TOO_OLD, bad_request
from .markup import parse_reply_markup
from .params import Params
from .registry import api_method

if TYPE_CHECKING:
    from .server import FakeTelegram

STARS = "XTR"


def _prices(p: Params) -> list[dict[str, Any]]:
    prices = p.json("prices")
    if not isinstance(prices, list) or not prices:
        raise bad_request("can't parse prices JSON object")
    for price in prices:
        valid = isinstance(price, dict) and isinstance(price.get("label"), str) and isinstance(price.get("amount"), int)
        if not valid:
            raise bad_request("can't parse LabeledPrice JSON object")
    return prices


@api_method("sendInvoice")
def send_invoice(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"), inline_only=True)
    title = p.string("title", required=True) or ""
    description = p.string("description", required=True) or ""
    payload = p.string("payload", required=True) or ""
    currency = p.string("currency", required=True) or ""
    prices = _prices(p)
    if not 1 <= len(title) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID")
    if not 1 <= len(description) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID")
    if not 1 <= len(payload.encode("utf-8")) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID")
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise bad_request("CURRENCY_INVALID")
    provider_token = p.string("provider_token") or ""
    if currency == STARS:
        if provider_token or len(prices) != 1:
            raise bad_request("STARS_INVOICE_INVALID")  # Stars: no provider, exactly one price
    elif not provider_token:
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    total = sum(price["amount"] for price in prices)
    if total <= 0:
        raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")

    chat = tg.writable_chat(p.chat_id())
    invoice = {
        "title": title,
        "description": description,
        "start_parameter": p.string("start_parameter") or "",
        "currency": currency,
        "total_amount": total,
    }
    details = {
        "payload": payload,
        "prices": prices,
        "provider_token": provider_token,
        "provider_data": p.string("provider_data"),
        "max_tip_amount": p.integer("max_tip_amount", default=0),
        "suggested_tip_amounts": p.json("suggested_tip_amounts") or [],
        "photo_url": p.string("photo_url"),
        "is_flexible": p.flag("is_flexible"),
        **{name: p.flag(name) for name in ("need_name", "need_phone_number", "need_email", "need_shipping_address")},
    }
    message = tg.post_bot_message(chat, invoice=invoice, invoice_details=details, reply_markup=markup)
    return message.to_api()


@api_method("answerPreCheckoutQuery")
def answer_pre_checkout_query(tg: FakeTelegram, p: Params) -> bool:
    query = tg.pre_checkouts.get(p.string("pre_checkout_query_id", required=True) or "")
    if not p.has("ok"):
        raise bad_request('parameter "ok" is required')
    ok = p.flag("ok")
    error_message = p.string("error_message")
    if not ok and not error_message:
        raise bad_request("error_message is empty")
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    query.answered = True
    query.ok = ok
    query.error_message = None if ok else error_message
    return True
