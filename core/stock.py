"""Stock counts for Livecart: parsing what merchants type, and applying edits.

Stock is a whole number from 0 to :data:`MAX_STOCK`.  It never goes negative:
selling the last item must be refused, not recorded as -1.

Typed input rules (shared by :func:`parse_stock` and :func:`parse_stock_change`):

* full-width forms are accepted (``１２０``, ``＋５０``, ``－５``, ``＝１２０``) and
  surrounding spaces are ignored;
* digits may be grouped in thousands with commas or spaces (``1,000``,
  ``1 000 000``), with the same strict grouping as prices: a first group of
  1-3 digits not starting with ``0``, then groups of exactly three;
* nothing else: no decimals (``1.5``, ``10.0``), no units, no exponent.

For edits, ``+50`` adds, ``-5`` subtracts, ``=120`` or a bare ``120`` sets.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from core.money import normalize_typed_text

__all__ = [
    "MAX_STOCK",
    "StockChange",
    "StockChangeKind",
    "StockError",
    "StockProblem",
    "parse_stock",
    "parse_stock_change",
]

#: Largest stock count we store; more is certainly a typo for a livestream shop.
MAX_STOCK = 1_000_000


class StockProblem(enum.StrEnum):
    """Why a stock value or edit was refused; the value doubles as a translation-key suffix."""

    EMPTY = "empty"
    NOT_A_WHOLE_NUMBER = "not_a_whole_number"
    NEGATIVE = "negative"
    TOO_LARGE = "too_large"
    WOULD_GO_NEGATIVE = "would_go_negative"


class StockError(ValueError):
    """A stock value or edit could not be accepted.

    ``reason`` is a :class:`StockProblem` for choosing a translated message;
    ``text`` is what the merchant typed ("" when raised by
    :meth:`StockChange.apply`, which works on numbers, not text).
    """

    def __init__(self, reason: StockProblem, text: str = "") -> None:
        super().__init__(f"{reason.value}: {text!r}")
        self.reason = reason
        self.text = text

    @property
    def problem(self) -> StockProblem:
        """Alias of :attr:`reason`."""
        return self.reason


class StockChangeKind(enum.Enum):
    """How a :class:`StockChange` combines with the current stock."""

    ADD = "+"
    SUBTRACT = "-"
    SET = "="


# Plain digits, or properly grouped thousands with one kind of separator.
_WHOLE_NUMBER = re.compile(r"[0-9]+|[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]{0,2}(?: [0-9]{3})+")


def _parse_count(s: str, text: str) -> int:
    """Parse an unsigned, already-stripped count; ``text`` is the original for errors."""
    if not s:
        raise StockError(StockProblem.EMPTY, text)
    if s.startswith("-") and _WHOLE_NUMBER.fullmatch(s[1:].lstrip()):
        raise StockError(StockProblem.NEGATIVE, text)
    if not _WHOLE_NUMBER.fullmatch(s):
        raise StockError(StockProblem.NOT_A_WHOLE_NUMBER, text)
    digits = s.replace(",", "").replace(" ", "").lstrip("0")
    # Length first: int() of a pasted huge string would hit Python's digit limit.
    if len(digits) > len(str(MAX_STOCK)) or int(digits or "0") > MAX_STOCK:
        raise StockError(StockProblem.TOO_LARGE, text)
    return int(digits or "0")


def parse_stock(text: str) -> int:
    """Parse a stock count typed by a merchant (0 to :data:`MAX_STOCK`).

    Raises :class:`StockError` with EMPTY, NOT_A_WHOLE_NUMBER, NEGATIVE or TOO_LARGE.
    """
    return _parse_count(normalize_typed_text(text).strip(), text)


@dataclass(frozen=True, slots=True)
class StockChange:
    """An edit to a stock count: add, subtract or set ``amount`` (0 to :data:`MAX_STOCK`)."""

    kind: StockChangeKind
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.kind, StockChangeKind):
            raise TypeError(f"kind must be a StockChangeKind, got {self.kind!r}")
        if not isinstance(self.amount, int) or isinstance(self.amount, bool):
            raise TypeError(f"amount must be an int, got {type(self.amount).__name__}")
        if not 0 <= self.amount <= MAX_STOCK:
            raise ValueError(f"amount must be between 0 and {MAX_STOCK}, got {self.amount}")

    def apply(self, current: int) -> int:
        """Return the new stock after this change is applied to ``current``.

        Raises :class:`StockError` WOULD_GO_NEGATIVE if the result would be
        below zero, TOO_LARGE if above :data:`MAX_STOCK`; the stock is then
        left unchanged by the caller rather than clamped, because silently
        clamping hides a mistake the merchant should see.
        """
        if not isinstance(current, int) or isinstance(current, bool) or current < 0:
            # Stored stock is never negative, so this is a programming error.
            raise ValueError(f"current stock must be a non-negative int, got {current!r}")
        if self.kind is StockChangeKind.ADD:
            result = current + self.amount
        elif self.kind is StockChangeKind.SUBTRACT:
            result = current - self.amount
        else:
            result = self.amount
        if result < 0:
            raise StockError(StockProblem.WOULD_GO_NEGATIVE)
        if result > MAX_STOCK:
            raise StockError(StockProblem.TOO_LARGE)
        return result


_SIGN_TO_KIND = {kind.value: kind for kind in StockChangeKind}


def parse_stock_change(text: str) -> StockChange:
    """Parse a stock edit: ``+50`` adds, ``-5`` subtracts, ``=120`` or ``120`` sets.

    Spaces after the sign are allowed (``+ 50``).  The amount follows
    :func:`parse_stock` rules, so ``=-5`` is NEGATIVE and ``++5`` is
    NOT_A_WHOLE_NUMBER.
    """
    s = normalize_typed_text(text).strip()
    if not s:
        raise StockError(StockProblem.EMPTY, text)
    kind = _SIGN_TO_KIND.get(s[0])
    if kind is None:
        return StockChange(StockChangeKind.SET, _parse_count(s, text))
    rest = s[1:].lstrip()
    if not rest:
        # A lone "+" is not empty input, just an incomplete number.
        raise StockError(StockProblem.NOT_A_WHOLE_NUMBER, text)
    return StockChange(kind, _parse_count(rest, text))
