"""The order state machine: which status may follow which, and who may take each step."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    PLACED = "placed"
    CONFIRMED = "confirmed"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# The only legal steps. Cancelling is possible until the parcel leaves.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.PLACED: frozenset({Status.CONFIRMED, Status.CANCELLED}),
    Status.CONFIRMED: frozenset({Status.SHIPPED, Status.CANCELLED}),
    Status.SHIPPED: frozenset({Status.DELIVERED}),
    Status.DELIVERED: frozenset(),
    Status.CANCELLED: frozenset(),
}
OPEN = frozenset({Status.PLACED, Status.CONFIRMED})  # not yet shipped: the buyer may still cancel


class IllegalTransition(Exception):
    """That step is not allowed from the order's current status."""

    def __init__(self, current: Status, wanted: Status) -> None:
        super().__init__(f"an order that is {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


class AwaitingPayment(IllegalTransition):
    """A prepaid order cannot ship before its money arrived."""


# Payment states in which the goods may leave: cash on delivery, or the money is in.
SHIPPABLE_PAYMENTS = frozenset({"cod", "paid"})


def check_transition(current: str, wanted: str) -> tuple[Status, Status]:
    now, target = Status(current), Status(wanted)
    if target not in TRANSITIONS[now]:
        raise IllegalTransition(now, target)
    return now, target


def may_ship(status: str, payment_status: str) -> bool:
    """Whether an order may be shipped now. Merchants who sell cash on delivery ship without
    confirming first, so a placed order ships too (it is confirmed on the way); a prepaid
    order never ships while its money is still awaited."""
    return Status(status) in OPEN and payment_status in SHIPPABLE_PAYMENTS


def steps_to(current: str, wanted: str, payment_status: str) -> list[tuple[Status, Status]]:
    """The steps an order takes to reach `wanted`: one legal step, or for shipping a placed
    order, confirm then ship (both recorded). Raises IllegalTransition (AwaitingPayment for a
    prepaid order not paid yet) when there is no way."""
    now, target = Status(current), Status(wanted)
    if target is Status.SHIPPED and now in OPEN:
        if payment_status not in SHIPPABLE_PAYMENTS:
            raise AwaitingPayment(now, target)
        if now is Status.PLACED:
            return [(Status.PLACED, Status.CONFIRMED), (Status.CONFIRMED, Status.SHIPPED)]
    return [check_transition(current, wanted)]


def next_steps(status: str, payment_status: str) -> list[Status]:
    """What a merchant can do to an order now, in the order its buttons show."""
    now = Status(status)
    steps = []
    if now is Status.PLACED:
        steps.append(Status.CONFIRMED)
    if may_ship(status, payment_status):
        steps.append(Status.SHIPPED)
    if now in OPEN:
        steps.append(Status.CANCELLED)
    if now is Status.SHIPPED:
        steps.append(Status.DELIVERED)
    return steps


def buyer_may(status: str, wanted: str) -> bool:
    """Buyers may cancel an open order and confirm delivery of a shipped one; nothing else."""
    s, w = Status(status), Status(wanted)
    return (w is Status.CANCELLED and s in OPEN) or (w is Status.DELIVERED and s is Status.SHIPPED)
