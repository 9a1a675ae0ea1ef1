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


def check_transition(current: str, wanted: str) -> tuple[Status, Status]:
    now, target = Status(current), Status(wanted)
    if target not in TRANSITIONS[now]:
        raise IllegalTransition(now, target)
    return now, target


def buyer_may(status: str, wanted: str) -> bool:
    """Buyers may cancel an open order and confirm delivery of a shipped one; nothing else."""
    s, w = Status(status), Status(wanted)
    return (w is Status.CANCELLED and s in OPEN) or (w is Status.DELIVERED and s is Status.SHIPPED)
