"""Money for Livecart: parsing what merchants type, and formatting for buyers.

Amounts are always an ``int`` of *minor units* (fen, cents; whole yen for JPY)
together with an ISO 4217 currency code.  Floats never appear: text is parsed
digit by digit, and formatting builds an exact :class:`~decimal.Decimal` from
the integer before handing it to Babel.

Parsing rules of :func:`parse_price` (the same rules are what the tests check):

* Input is first normalised: full-width digits/letters/punctuation (``３９．９０``,
  ``，``, ``＄``, ``￥``) become their ASCII forms, the ideographic full stop
  ``。`` (what a Chinese IME types for ".") becomes ``.``, and the various
  Unicode spaces and minus signs become ``" "`` and ``"-"``.
* At most one currency marker may stand before the number and at most one
  after it, with or without a space: a symbol (``¥``, ``CN¥``, ``$``, ``US$``,
  ...), an ISO code in any letter case (``CNY``, ``usd``), ``RMB``, or a Chinese
  word (``人民币``, ``美元`` ...; the unit words ``元``, ``块``, ``块钱``, ``円``
  only after the number).  A marker that does not
  belong to the shop currency is refused with ``WRONG_CURRENCY``; a letter
  marker only counts as a whole word (``RMBx39`` is not ``RMB``).
* The colloquial ``39块9`` (39 yuan 9 jiao) is read as ``39.9``.
* The number uses ASCII digits, at most one decimal separator and at most one
  kind of thousands separator.  The separator rule, which never guesses:

  - both ``.`` and ``,`` present: the one that comes last is the decimal
    separator (``1,234.50`` and ``1.234,50`` are both 1234.50);
  - only commas: a *single* comma followed by one or two digits is a decimal
    comma (``39,9``, ``39,90``); any other commas are thousands separators
    (``1,234`` is 1234, ``1,234,567`` is 1234567);
  - only dots: a single dot is the decimal point (so ``39.999`` has three
    decimals and is refused, never read as 39999); several dots are refused;
  - spaces may only separate thousands groups (``1 234,50``).

  Thousands groups must be well formed: a first group of 1-3 digits not
  starting with ``0``, then groups of exactly three digits.  Anything else
  (``1,2345``, ``0,123``, ``1,234,50``) is ``NOT_A_NUMBER``.
* The number must start and end with a digit (``.5`` and ``39.`` are refused),
  may have no more decimals than the currency has minor digits (Babel's
  ``get_currency_precision``: 2 for CNY/USD, 0 for JPY), must be above zero and
  at most :data:`MAX_PRICE_MAJOR` major units (1,000,000.00 itself is allowed).
  A minus sign anywhere before the number gives ``ZERO_OR_NEGATIVE``.

When several problems apply, the reason reported is the first of:
NOT_A_NUMBER, WRONG_CURRENCY, ZERO_OR_NEGATIVE, TOO_MANY_DECIMALS, TOO_LARGE.
"""

from __future__ import annotations

import enum
import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import (
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    list_currencies,
)

__all__ = [
    "MAX_PRICE_MAJOR",
    "CurrencyMismatchError",
    "Money",
    "PriceError",
    "PriceProblem",
    "format_amount_plain",
    "format_money",
    "minor_digits",
    "normalize_typed_text",
    "parse_price",
]

#: Largest accepted price, in major units (yuan, dollars).  Prices above this
#: are almost certainly typos (an extra zero or a pasted phone number).
MAX_PRICE_MAJOR = 1_000_000


class PriceProblem(enum.StrEnum):
    """Why a typed price was refused; the value doubles as a translation-key suffix."""

    EMPTY = "empty"
    NOT_A_NUMBER = "not_a_number"
    ZERO_OR_NEGATIVE = "zero_or_negative"
    TOO_MANY_DECIMALS = "too_many_decimals"
    TOO_LARGE = "too_large"
    WRONG_CURRENCY = "wrong_currency"


class PriceError(ValueError):
    """A price the merchant typed could not be accepted.

    ``reason`` is a :class:`PriceProblem` so the caller can choose a translated
    message; ``text`` is the exact text that was typed (for echoing back).
    """

    def __init__(self, reason: PriceProblem, text: str) -> None:
        super().__init__(f"{reason.value}: {text!r}")
        self.reason = reason
        self.text = text

    @property
    def problem(self) -> PriceProblem:
        """Alias of :attr:`reason`, matching :class:`core.stock.StockError`."""
        return self.reason


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were combined (a programming error)."""


# --------------------------------------------------------------------------- #
# Text normalisation (shared with core.stock)
# --------------------------------------------------------------------------- #

# Full-width ASCII variants U+FF01..U+FF5E map onto U+0021..U+007E by a fixed
# offset.  We translate exactly these rather than using NFKC, because NFKC
# would also turn superscripts and other look-alikes ("3²") into digits.
_TYPED_TEXT_TABLE: dict[int, str] = {cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)}
_TYPED_TEXT_TABLE.update(
    {
        0xFFE5: "¥",  # FULLWIDTH YEN SIGN
        0xFFE1: "£",  # FULLWIDTH POUND SIGN
        0x3002: ".",  # IDEOGRAPHIC FULL STOP: a Chinese IME types it for "."
        0x3000: " ",  # IDEOGRAPHIC SPACE
        0x00A0: " ",  # NO-BREAK SPACE (Babel output, copy-paste)
        0x202F: " ",  # NARROW NO-BREAK SPACE (Babel uses it in some locales)
        0x2009: " ",  # THIN SPACE (thousands separator in some locales)
        0x2212: "-",  # MINUS SIGN
        0x2013: "-",  # EN DASH, auto-substituted for "-" by some keyboards
    }
)


def normalize_typed_text(text: str) -> str:
    """Return ``text`` with full-width forms, odd spaces and minus signs made ASCII.

    Only the translation is done; surrounding spaces are kept so callers can
    decide what whitespace means to them.
    """
    return text.translate(_TYPED_TEXT_TABLE)


# --------------------------------------------------------------------------- #
# Currency markers
# --------------------------------------------------------------------------- #

# Words people type that Babel's symbol data does not contain.  Keys are
# upper-cased because matching is case-insensitive ("rmb", "Rmb").
_EXTRA_MARKERS: dict[str, str] = {
    "RMB": "CNY",
    "元": "CNY",
    "块": "CNY",
    "块钱": "CNY",
    "人民币": "CNY",
    "美元": "USD",
    "美金": "USD",
    "日元": "JPY",
    "円": "JPY",
    "港币": "HKD",
    "港元": "HKD",
    "欧元": "EUR",
    "英镑": "GBP",
}

# Unit words that are only ever written after the number ("39元", never "元39");
# accepting them in front would let odd strings like "元5块2" through.
_SUFFIX_ONLY_MARKERS = frozenset({"元", "块", "块钱", "円"})

# The colloquial "39块9" / "3块50": 块 between the yuan and the jiao/fen digits.
_KUAI_INFIX = re.compile(r"(?P<yuan>[0-9][0-9., ]*?) ?块 ?(?P<jiao>[0-9]{1,2})")

# Characters that belong to the number grammar; a marker containing one of
# them (Babel's "Cg.") would make the grammar ambiguous, so it is not used.
# (A space inside a marker, as in "F CFA", is harmless: markers match whole.)
_NUMBER_CHARS = frozenset("0123456789.,+-")


@functools.cache
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


@functools.cache
def _markers() -> dict[str, frozenset[str]]:
    """Map each upper-cased currency marker to the currencies it may denote.

    Built from Babel so that whatever :func:`format_money` prints is also
    accepted by :func:`parse_price`.  A marker can be shared: "¥" is CNY in
    Chinese and JPY in English, "$" is USD but also the everyday short form of
    "HK$", "NT$", "A$"... so a HKD shop accepts "$" while a CNY shop does not.
    """
    table: defaultdict[str, set[str]] = defaultdict(set)
    for code in _known_currencies():
        table[code].add(code)
        for locale in ("en", "zh_Hans_CN"):
            symbol = normalize_typed_text(get_currency_symbol(code, locale)).upper()
            if not symbol or _NUMBER_CHARS.intersection(symbol):
                continue
            table[symbol].add(code)
            # "HK$" -> "$", "CN¥" -> "¥": letters then one sign, the bare sign
            # being what people actually type.
            if len(symbol) > 1 and symbol[:-1].isalpha() and not symbol[-1].isalpha():
                table[symbol[-1]].add(code)
    for word, code in _EXTRA_MARKERS.items():
        table[word].add(code)
    return {marker: frozenset(codes) for marker, codes in table.items()}


@functools.cache
def _markers_longest_first() -> tuple[str, ...]:
    # Longest first so "CN¥" wins over "¥" and "美元" over "元".
    return tuple(sorted(_markers(), key=len, reverse=True))


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


# Markers are compared by slicing the input and upper-casing the slice, not by
# upper-casing the whole input: upper() can change a string's length ("ß" ->
# "SS"), which would misalign the slice we cut off.


def _take_prefix_marker(s: str) -> tuple[str | None, str]:
    for marker in _markers_longest_first():
        if marker in _SUFFIX_ONLY_MARKERS:
            continue
        if s[: len(marker)].upper() == marker:
            rest = s[len(marker) :]
            # A letter marker must be a whole word: "RMBx39" is not RMB + "x39".
            if _is_ascii_letter(marker[-1]) and rest[:1] and _is_ascii_letter(rest[0]):
                continue
            return marker, rest
    return None, s


def _take_suffix_marker(s: str) -> tuple[str | None, str]:
    for marker in _markers_longest_first():
        # len check: a marker alone ("元") leaves no number, so it is no suffix.
        if len(marker) < len(s) and s[-len(marker) :].upper() == marker:
            rest = s[: -len(marker)]
            if _is_ascii_letter(marker[0]) and _is_ascii_letter(rest[-1]):
                continue
            return marker, rest
    return None, s


def _check_currency(currency: str) -> str:
    """Validate a shop currency code; a bad one is a programming error, not user input."""
    if currency not in _known_currencies():
        raise ValueError(f"unknown ISO 4217 currency code: {currency!r}")
    return currency


def minor_digits(currency: str) -> int:
    """Number of minor-unit digits of ``currency`` (2 for CNY, 0 for JPY)."""
    return get_currency_precision(_check_currency(currency))


# --------------------------------------------------------------------------- #
# Parsing
# --------------------------------------------------------------------------- #

_NUMBER_SHAPE = re.compile(r"[0-9](?:[0-9., ]*[0-9])?")


def _ungroup(part: str, fail: PriceError) -> str:
    """Remove thousands separators from an integer part, insisting on proper groups."""
    separators = set(part) - set("0123456789")
    if not separators:
        return part
    if len(separators) > 1:  # "1,234 567": mixing separators is never intended
        raise fail
    groups = part.split(separators.pop())
    first, rest = groups[0], groups[1:]
    if not (1 <= len(first) <= 3 and first[0] != "0" and all(len(g) == 3 and g.isdigit() for g in rest)):
        raise fail
    return "".join(groups)


def _split_number(s: str, fail: PriceError) -> tuple[str, str]:
    """Split a bare number into (integer digits, fraction digits) by the module rules."""
    if not _NUMBER_SHAPE.fullmatch(s):
        raise fail
    dots, commas = s.count("."), s.count(",")
    decimal_sep: str | None
    if dots and commas:
        decimal_sep = "." if s.rfind(".") > s.rfind(",") else ","
    elif commas == 1 and re.fullmatch(r"[0-9]{1,2}", s.rsplit(",", 1)[1]):
        decimal_sep = ","
    elif dots:
        decimal_sep = "."
    else:
        decimal_sep = None

    if decimal_sep is None:
        return _ungroup(s, fail), ""
    if s.count(decimal_sep) != 1:  # "1.234.567", "1,234.5.6"
        raise fail
    int_part, frac = s.split(decimal_sep)
    if not frac.isdigit() or not frac.isascii():
        raise fail
    return _ungroup(int_part, fail), frac


def parse_price(text: str, currency: str = "CNY") -> int:
    """Parse a price typed by a merchant into minor units of ``currency``.

    See the module docstring for the exact rules.  Raises :class:`PriceError`
    for anything that is not clearly a positive price in the shop currency,
    and ``ValueError`` if ``currency`` itself is not an ISO 4217 code.
    """
    _check_currency(currency)
    s = normalize_typed_text(text).strip()
    if not s:
        raise PriceError(PriceProblem.EMPTY, text)
    fail = PriceError(PriceProblem.NOT_A_NUMBER, text)

    # A minus may come before or after a leading marker: "-¥5" (Babel's own
    # negative format) and "¥-5" are both clearly negative prices.
    negative = s.startswith("-")
    if negative:
        s = s[1:].lstrip()
    prefix, s = _take_prefix_marker(s)
    s = s.lstrip()
    if not negative and s.startswith("-"):
        negative = True
        s = s[1:].lstrip()
    suffix, s = _take_suffix_marker(s)
    s = s.rstrip()

    markers = [m for m in (prefix, suffix) if m is not None]
    if suffix is None and (kuai := _KUAI_INFIX.fullmatch(s)):
        s = f"{kuai['yuan']}.{kuai['jiao']}"
        markers.append("块")

    int_digits, frac = _split_number(s, fail)

    if any(currency not in _markers()[m] for m in markers):
        raise PriceError(PriceProblem.WRONG_CURRENCY, text)
    int_digits = int_digits.lstrip("0")
    if negative or not (int_digits or frac.strip("0")):
        raise PriceError(PriceProblem.ZERO_OR_NEGATIVE, text)
    precision = get_currency_precision(currency)
    if len(frac) > precision:
        raise PriceError(PriceProblem.TOO_MANY_DECIMALS, text)
    # Compare lengths before int(): a pasted 5000-digit string must not hit
    # Python's int-from-str digit limit, and is simply too large.
    if len(int_digits) > len(str(MAX_PRICE_MAJOR)):
        raise PriceError(PriceProblem.TOO_LARGE, text)
    minor = int(int_digits or "0") * 10**precision + int(frac.ljust(precision, "0") or "0")
    if minor > MAX_PRICE_MAJOR * 10**precision:
        raise PriceError(PriceProblem.TOO_LARGE, text)
    return minor


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #


def _require_int(minor: int) -> None:
    # bool is an int subclass; True cents is certainly a bug.
    if not isinstance(minor, int) or isinstance(minor, bool):
        raise TypeError(f"money amounts are int minor units, got {type(minor).__name__}")


def _to_decimal(minor: int, currency: str) -> Decimal:
    """Exact Decimal of ``minor`` minor units (no context rounding involved)."""
    digits = tuple(int(d) for d in str(abs(minor)))
    return Decimal((1 if minor < 0 else 0, digits, -minor_digits(currency)))


def format_money(minor: int, currency: str, locale: str) -> str:
    """Format an amount for display, e.g. ``¥39.90`` (zh) or ``CN¥39.90`` (en).

    ``locale`` is a Babel/CLDR identifier; ``-`` is accepted as well as ``_``
    (``zh-Hans-CN``) since language tags often arrive in that form.
    """
    _require_int(minor)
    return _format_money(minor, currency, locale.replace("-", "_"))


@functools.lru_cache(maxsize=4096)
def _format_money(minor: int, currency: str, locale: str) -> str:
    # A flash sale shows the same few prices thousands of times; Babel's formatting is not free.
    return format_currency(_to_decimal(minor, currency), currency, locale=locale)


def format_amount_plain(minor: int, currency: str) -> str:
    """Format as a bare number with ``.`` and no grouping, e.g. ``39.90``.

    Used where the text must be machine-readable or re-editable: prefilled
    edit prompts and CSV export.  :func:`parse_price` reads it back exactly.
    """
    _require_int(minor)
    precision = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**precision)
    if precision == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{precision}d}"


# --------------------------------------------------------------------------- #
# Money value type
# --------------------------------------------------------------------------- #


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency: ``minor`` units of ``currency`` (ISO 4217, upper case)."""

    minor: int
    currency: str

    def __post_init__(self) -> None:
        _require_int(self.minor)
        _check_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``; the start value for ``sum(..., Money.zero(c))``."""
        return cls(0, currency)

    @classmethod
    def parse(cls, text: str, currency: str = "CNY") -> Money:
        """:func:`parse_price` wrapped into a :class:`Money`."""
        return cls(parse_price(text, currency), currency)

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        if other.currency != self.currency:
            # Silently adding yuan to dollars would corrupt an order total.
            raise CurrencyMismatchError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.minor + other.minor, self.currency)

    def times(self, quantity: int) -> Money:
        """Line total for ``quantity`` items (a non-negative whole number)."""
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            raise ValueError(f"quantity must be a non-negative int, got {quantity!r}")
        return Money(self.minor * quantity, self.currency)

    def format(self, locale: str) -> str:
        """See :func:`format_money`."""
        return format_money(self.minor, self.currency, locale)

    def plain(self) -> str:
        """See :func:`format_amount_plain`."""
        return format_amount_plain(self.minor, self.currency)
