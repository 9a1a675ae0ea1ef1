"""How a merchant's one-line product caption is read: name, price, stock.

Pure: no Telegram, no storage. The same grammar reads a photo's caption and `/addproduct <line>`;
/help shows it with examples (the `catalog.caption_grammar` message), and tests/test_caption.py
checks every example there against this parser.

The grammar
-----------

``name  price  stock``, in that order, separated either by commas or by spaces:

* **Commas** (``,`` ``，`` ``;`` ``；``; a bare ``,`` between digits is a decimal comma, ``39,90``):
  the parts are read by position. The first part is the name, the others are the values
  (``Oranges 5kg, 39.90, 200``); with more than three parts the name took the extra commas
  (``Oranges, large, 39.90, 200``). A value part that is not a number is still read as that
  field, so the merchant is told exactly what is wrong with it (``Oranges, cheap, 200``).
* **Spaces only**: the name is everything up to the numbers at the end; of those, the first is
  the price and the second the stock (``猕猴桃 12个装 25 80``: "12个装" is a word, so it is part of
  the name).
* A number may **say what it is**, and then its place does not matter:
  a price has a currency sign or word, or decimals (``¥25``, ``25元``, ``29.9``, ``价格25``,
  ``price 25``); a stock has ``x``/``×`` in front, a count word after, or a label
  (``x80``, ``×80``, ``80件``, ``80份``, ``库存80``, ``stock 80``). ``猕猴桃 x80 ¥25`` is clear.
* When the numbers at the end are more than the fields left to fill (``猕猴桃 12 25 80``: is "12"
  part of the name?) or two numbers both say they are the price, the caption is **ambiguous**:
  every way of reading it is returned and the merchant picks which number is the price.
* What is missing (no price, no stock) is asked for afterwards.

Variants
--------

``秭归脐橙, 5斤 29.9 x200, 10斤 49.9 x100``: a comma caption whose parts after the name are two or
more **variant parts**, each a label (words that are not numbers: "5斤", "大果") followed by its
values, read as above (price and stock, by what they say or by place). The caption then has one
`Reading` per variant (`Caption.variants`), in the order written; its `reading` is the product's
name alone. A part that cannot be read ("5斤 abc x2": no price) is kept as written so the merchant
is told which one and why; nothing is saved until every part reads.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from core.money import PriceError, PriceProblem, normalize_typed_text, parse_price

__all__ = ["Caption", "Reading", "VariantReading", "parse_caption", "parse_variant_line"]

# Separators between the parts of a comma caption: a comma or semicolon followed by a space, or a
# full-width one (a Chinese IME types "，" with no space after it).
_SPACED_SEPARATOR = re.compile(r"\s*[,;]\s+|\s*[，；]\s*")
_ANY_SEPARATOR = re.compile(r"\s*[,，;；]\s*")
_DECIMAL_COMMA = re.compile(r"\d,\d{1,2}(?:\s|$)")
_THOUSANDS_COMMA = re.compile(r"\d,\d{3}(?:\s|$|,)")

_WHOLE = r"[1-9]\d{0,2}(?:,\d{3})+|\d+"
_BARE_NUMBER = re.compile(_WHOLE)
_PRICE_LABEL = re.compile(r"(?:price|价格|售价|单价|价)[:：]?\s*(?P<value>.+)", re.IGNORECASE)
_STOCK_BEFORE = re.compile(rf"(?:x|×|\*|库存|stock|qty|数量)[:：]?\s*(?P<value>{_WHOLE})", re.IGNORECASE)
_STOCK_AFTER = re.compile(rf"(?P<value>{_WHOLE})\s*(?:件|份|pcs|units?|库存)", re.IGNORECASE)
# A label written as its own word ("库存 80", "price: 25") is joined to the number after it.
_LABEL_WORDS = frozenset({"price", "价格", "售价", "单价", "价", "stock", "库存", "qty", "数量"})


class _Kind(enum.Enum):
    PRICE = "price"  # says it is a price: a currency mark or decimals
    STOCK = "stock"  # says it is a stock: x80, 80件, 库存80
    NUMBER = "number"  # a bare whole number: its place decides
    OTHER = "other"  # not a number at all


@dataclass(frozen=True)
class _Value:
    text: str  # as the merchant wrote it
    kind: _Kind
    value: str  # what to hand to the price or stock parser ("x80" -> "80")


@dataclass(frozen=True)
class Reading:
    """One way of reading a caption. `price` and `stock` are the texts to check with
    core.money.parse_price and core.stock.parse_stock, None when the caption has none."""

    name: str
    price: str | None
    stock: str | None


@dataclass(frozen=True)
class VariantReading:
    """One variant part: its label as `name`, the texts of its price and stock (None if absent),
    and the part as written (for the message when it cannot be read)."""

    name: str
    price: str | None
    stock: str | None
    written: str


@dataclass(frozen=True)
class Caption:
    """What a caption says: one reading, or (ambiguous) one per number that may be the price;
    with variants, the product's name in `reading` and one VariantReading per variant part."""

    readings: tuple[Reading, ...]
    variants: tuple[VariantReading, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return len(self.readings) > 1

    @property
    def reading(self) -> Reading:
        """The only reading (check `ambiguous` first)."""
        return self.readings[0]


def parse_caption(text: str, currency: str) -> Caption:
    """Read a caption (see the module docstring for the grammar)."""
    text = " ".join((text or "").split())
    parts = _comma_parts(text)
    if parts is not None and (variants := _variant_parts(parts[1:], currency)):
        return Caption((Reading(parts[0], None, None),), variants)
    if parts is not None:
        name_parts, value_parts = (parts[:-2], parts[-2:]) if len(parts) > 3 else (parts[:1], parts[1:])
        values = [v for part in value_parts for v in _split_values(part, currency)]
        return _read_values(", ".join(name_parts), values, currency)
    words = _join_labels(text.split(" ")) if text else []
    values = [_classify(word, currency) for word in words]
    tail = len(values)
    while tail > 0 and values[tail - 1].kind is not _Kind.OTHER:
        tail -= 1
    return _read_values(" ".join(words[:tail]), values[tail:], currency)


def parse_variant_line(text: str, currency: str) -> VariantReading:
    """One variant typed on its own ("5斤 29.9 x200"), read as a variant part of a caption."""
    text = " ".join((text or "").split())
    return _variant_part(text, currency) or VariantReading(text, None, None, text)


def _variant_parts(parts: list[str], currency: str) -> tuple[VariantReading, ...]:
    """The variant parts after a name, or () when the caption is not one of variants: that takes
    two or more parts written as a label followed by values."""
    if len(parts) < 2:
        return ()
    read = [_variant_part(part, currency) for part in parts]
    if sum(r is not None for r in read) < 2:
        return ()
    # The parts that do not read as label + values are kept whole, to be named as unreadable.
    return tuple(r if r is not None else VariantReading(part, None, None, part) for r, part in zip(read, parts))


def _variant_part(part: str, currency: str) -> VariantReading | None:
    """"5斤 29.9 x200" -> label "5斤", price "29.9", stock "200"; None unless it has a label and values."""
    words = _join_labels(part.split(" ")) if part else []
    values = [_classify(word, currency) for word in words]
    tail = len(values)
    while tail > 0 and values[tail - 1].kind is not _Kind.OTHER:
        tail -= 1
    label, after = " ".join(words[:tail]), values[tail:]
    if not label or not after:
        return None
    if len(words[:tail]) > 1 and not any(v.kind in (_Kind.PRICE, _Kind.NUMBER) for v in after):
        # No price among the values: the word before them was meant as one ("5斤 abc x2"), so it
        # is read as the price and refused with its reason rather than taken into the name.
        label, after = " ".join(words[:tail - 1]), [values[tail - 1], *after]
    reading = _read_values(label, after, currency)
    if reading.ambiguous:  # "5斤 12 25 80": left for the merchant to write clearly
        return VariantReading(label, None, None, part)
    return VariantReading(label, reading.reading.price, reading.reading.stock, part)


def _comma_parts(text: str) -> list[str] | None:
    """The parts of a comma caption, or None when the caption is separated by spaces only."""
    parts = [p.strip() for p in _SPACED_SEPARATOR.split(text)]
    if len(parts) >= 2:
        return parts
    if " " in text and (_DECIMAL_COMMA.search(text) or _THOUSANDS_COMMA.search(text)):
        return None  # "Oranges 39,90 100", "Tea 1,000 5": commas inside numbers, spaces between parts
    parts = [p.strip() for p in _ANY_SEPARATOR.split(text)]
    return parts if len(parts) >= 2 else None


def _split_values(part: str, currency: str) -> list[_Value]:
    """A value part of a comma caption: one value, or several written with spaces ("25 x80")."""
    words = _join_labels(part.split(" ")) if part else [part]
    values = [_classify(word, currency) for word in words]
    if len(values) > 1 and all(v.kind is not _Kind.OTHER for v in values):
        return values
    # One field, whatever it holds: "cheap" read as the price is refused with its reason.
    return [_classify(part, currency)]


def _join_labels(words: list[str]) -> list[str]:
    joined: list[str] = []
    for word in words:
        if joined and joined[-1].rstrip(":：").lower() in _LABEL_WORDS:
            joined[-1] = f"{joined[-1]} {word}"
        else:
            joined.append(word)
    return joined


def _classify(word: str, currency: str) -> _Value:
    """What one value says it is."""
    typed = normalize_typed_text(word).strip()
    if _BARE_NUMBER.fullmatch(typed):
        return _Value(word, _Kind.NUMBER, typed)
    if match := (_STOCK_BEFORE.fullmatch(typed) or _STOCK_AFTER.fullmatch(typed)):
        return _Value(word, _Kind.STOCK, match["value"])
    labelled = _PRICE_LABEL.fullmatch(typed)
    candidate = labelled["value"] if labelled else typed
    if labelled and _BARE_NUMBER.fullmatch(candidate) or _looks_like_price(candidate, currency):
        return _Value(word, _Kind.PRICE, candidate)
    return _Value(word, _Kind.OTHER, typed)


def _looks_like_price(text: str, currency: str) -> bool:
    """A price, or one that is wrong in a way worth telling (too many decimals, another currency)."""
    try:
        parse_price(text, currency)
    except PriceError as exc:
        return exc.reason not in (PriceProblem.NOT_A_NUMBER, PriceProblem.EMPTY)
    return True


def _read_values(name: str, values: list[_Value], currency: str) -> Caption:
    """Fill price and stock from the values after the name."""
    prices = [v for v in values if v.kind is _Kind.PRICE]
    stocks = [v for v in values if v.kind is _Kind.STOCK]
    unmarked = [v for v in values if v.kind in (_Kind.NUMBER, _Kind.OTHER)]
    fields = [f for f, marked in (("price", prices), ("stock", stocks)) if not marked]
    if len(prices) <= 1 and len(stocks) <= 1 and len(unmarked) <= len(fields):
        filled = dict(zip(fields, (v.value for v in unmarked)))
        price = prices[0].value if prices else filled.get("price")
        stock = stocks[0].value if stocks else filled.get("stock")
        return Caption((Reading(name, price, stock),))
    return Caption(_every_price_choice(name, values, stocks[0] if len(stocks) == 1 else None))


def _every_price_choice(name: str, values: list[_Value], stock: _Value | None) -> tuple[Reading, ...]:
    """An ambiguous caption: for each number that may be the price, the reading it gives. The
    numbers before the chosen one belong to the name and the one after it (if any) is the stock;
    when several numbers say they are the price, the ones not chosen are left out."""
    marked = [v for v in values if v.kind is _Kind.PRICE]
    rest = [v for v in values if v is not stock and v.kind is not _Kind.PRICE]
    if len(marked) > 1:
        extra = stock.value if stock else (rest[-1].value if rest and rest[-1].kind is _Kind.NUMBER else None)
        return tuple(Reading(name, v.value, extra) for v in marked)
    readings = []
    for i, chosen in enumerate(values):
        if chosen.kind not in (_Kind.PRICE, _Kind.NUMBER):
            continue
        after = [v for v in values[i + 1:] if v is not stock]
        if len(after) > (0 if stock else 1):
            continue
        before = " ".join(v.text for v in values[:i] if v is not stock)
        readings.append(Reading(" ".join(p for p in (name, before) if p), chosen.value,
                                stock.value if stock else (after[0].value if after else None)))
    return tuple(readings)
