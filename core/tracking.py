"""What a merchant types when shipping: a carrier, a tracking number, or both.

    "顺丰"                      -> carrier 顺丰, no number
    "SF1234567890"              -> no carrier, number SF1234567890
    "SF Express SF1234567890"   -> carrier SF Express, number SF1234567890
    "顺丰 SF1234567890"          -> carrier 顺丰, number SF1234567890
    "顺丰SF1234567890"           -> the same (Chinese and Latin run together)
    "中通 7589 1234 5678"        -> carrier 中通, number 758912345678 (digit groups joined)

A tracking number is a word of Latin letters and digits (dashes allowed) with at least
`NUMBER_MIN_DIGITS` digits; everything else is the carrier's name. Pure: tested by a table.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

NUMBER_MIN_DIGITS = 5  # "4PX" and "DHL" are carriers; real tracking numbers carry many digits
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*|[^\sA-Za-z0-9]+")  # Latin runs apart from CJK runs
_NUMBER = re.compile(r"^[A-Za-z0-9-]+$")
_DIGIT_GROUP = re.compile(r"^\d+$")


@dataclass(frozen=True)
class Shipment:
    carrier: str | None
    number: str | None


def _is_number(word: str) -> bool:
    return bool(_NUMBER.match(word)) and sum(ch.isdigit() for ch in word) >= NUMBER_MIN_DIGITS


def parse_shipment(text: str) -> Shipment:
    """Carrier and tracking number from one line of text (either may be missing)."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    # Split on spaces, then split each chunk where Chinese meets Latin ("顺丰SF123" -> 顺丰, SF123).
    chunks = cleaned.split()
    words: list[str] = []
    for chunk in chunks:
        pieces = _WORD.findall(chunk)
        words += pieces if "".join(pieces) == chunk else [chunk]
    # The number: the last run of number-like words; a run of pure digit groups is one number
    # written with spaces ("7589 1234 5678").
    number_at = [i for i, w in enumerate(words) if _is_number(w) or (_DIGIT_GROUP.match(w) and len(w) >= 3)]
    number, used = None, set()
    if number_at:
        end = number_at[-1]
        start = end
        if _DIGIT_GROUP.match(words[end]):
            while start - 1 >= 0 and _DIGIT_GROUP.match(words[start - 1]) and len(words[start - 1]) >= 3:
                start -= 1
        candidate = "".join(words[start:end + 1])
        if _is_number(candidate):
            number, used = candidate, set(range(start, end + 1))
    carrier_words = [w for i, w in enumerate(words) if i not in used]
    carrier = _join(carrier_words) or None
    return Shipment(carrier, number)


def _join(words: list[str]) -> str:
    """Words back into a name: a space between Latin words, none next to Chinese ones."""
    out = ""
    for word in words:
        if out and out[-1].isascii() and word[0].isascii():
            out += " "
        out += word
    return out.strip(" -·:：,，")
