"""The callback-data codec: `action:arg:arg`, at most 64 bytes, never trusted.

Every button carries an action name and integer arguments. Parsing refuses anything else, and
handlers still re-check that the user may act on the shop or order named.

Every number is bounded where it is read: ids to 1..2^63-1 (SQLite's integer), slots to the
live links a shop can have, quantities to what one order line may hold, pages to a sane count.
A value outside its field's range reads as absent, so the handler answers "stale button" —
never a traceback from SQLite ("Python int too large"), never a stored "link 700000000000000000".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.links import MAX_QUANTITY, MAX_SLOT  # MAX_SLOT: live links per shop; 0 on a buyer's button: none

MAX_BYTES = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # what SQLite stores as an integer
MAX_PAGE = 10_000  # pages of a list; more than any shop has, small enough for OFFSET arithmetic
# Used with fullmatch, and ASCII digits only: `$` would accept a trailing newline, `\d` any script's digits.
_ACTION_RE = re.compile(r"[a-z][a-z0-9_.]{0,31}")
_INT_RE = re.compile(r"-?[0-9]{1,19}")
_ARG_RE = re.compile(r"-?[0-9]{1,19}|[A-Za-z0-9_-]{1,40}")


class CallbackDataError(ValueError):
    """The callback data is not something this bot produced."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...]

    def number(self, index: int, low: int = INT64_MIN, high: int = INT64_MAX) -> int:
        """Argument `index` as an integer within low..high; CallbackDataError when absent, not a
        number or out of range."""
        try:
            text = self.args[index]
        except IndexError:
            raise CallbackDataError(f"argument {index} of {self.action!r} is missing") from None
        if not _INT_RE.fullmatch(text):
            raise CallbackDataError(f"argument {index} of {self.action!r} is not a number")
        value = int(text)
        if not low <= value <= high:
            raise CallbackDataError(f"argument {index} of {self.action!r} is out of {low}..{high}")
        return value

    def opt_int(self, index: int, low: int = INT64_MIN, high: int = INT64_MAX) -> int | None:
        """Argument `index` as an integer within low..high, or None when absent, not a number or
        out of range."""
        try:
            return self.number(index, low, high)
        except CallbackDataError:
            return None

    # The fields our buttons carry, each with its range.

    def id(self, index: int) -> int | None:
        """A row id (shop, product, order, user): 1..2^63-1."""
        return self.opt_int(index, 1, INT64_MAX)

    def slot(self, index: int) -> int | None:
        """A live link slot on a buyer's button: 1..MAX_SLOT, or 0 for "not from a link"."""
        return self.opt_int(index, 0, MAX_SLOT)

    def quantity(self, index: int, low: int = 1) -> int | None:
        """A quantity: low..MAX_QUANTITY (low 0 where 0 means "remove")."""
        return self.opt_int(index, low, MAX_QUANTITY)

    def page(self, index: int) -> int | None:
        """A page of a list: 0..MAX_PAGE."""
        return self.opt_int(index, 0, MAX_PAGE)


def encode(action: str, *args: object) -> str:
    if not _ACTION_RE.fullmatch(action):
        raise ValueError(f"bad callback action {action!r}")
    parts = [action]
    for arg in args:
        text = str(arg)
        if not _ARG_RE.fullmatch(text):
            raise ValueError(f"bad callback argument {text!r}")
        parts.append(text)
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback:
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise CallbackDataError("empty or too long")
    action, *args = data.split(":")
    if not _ACTION_RE.fullmatch(action) or not all(_ARG_RE.fullmatch(a) for a in args):
        raise CallbackDataError(f"malformed callback data {data!r}")
    return Callback(action, tuple(args))

