"""Payment methods and the payment states an order goes through."""

from __future__ import annotations

from enum import StrEnum


class Method(StrEnum):
    COD = "cod"      # cash on delivery
    CODE = "code"    # transfer to the merchant's own receive code (WeChat Pay, Alipay, a bank)
    CARD = "card"    # Telegram Payments, where the operator configured a provider token


class PaymentStatus(StrEnum):
    COD = "cod"
    AWAITING = "awaiting"
    CLAIMED = "claimed"
    PAID = "paid"
    EXPIRED = "expired"


PREPAID = frozenset({Method.CODE, Method.CARD})


def parse_methods(text: str) -> list[Method]:
    """The stored comma list, in a fixed order, unknown names dropped, never empty."""
    chosen = {part.strip() for part in (text or "").split(",")}
    methods = [m for m in Method if m.value in chosen]
    return methods or [Method.COD]


def format_methods(methods: list[Method] | set[Method]) -> str:
    return ",".join(m.value for m in Method if m in methods)


def initial_status(method: Method) -> PaymentStatus:
    return PaymentStatus.AWAITING if method in PREPAID else PaymentStatus.COD


def invoice_payload(order_id: int) -> str:
    return f"order:{order_id}"


def order_id_from_payload(payload: str) -> int | None:
    """The order an invoice was for; None for anything not made by `invoice_payload`."""
    kind, _, number = (payload or "").partition(":")
    return int(number) if kind == "order" and number.isdigit() else None
