"""A quantity a buyer types while looking at a product card: "3", "３", "3 boxes", "3份", "x3", "三份".

Pure: no Telegram, no storage. The handler caps the number by stock and the per-buyer limit;
this module only says whether the text is a quantity at all, so that anything else a buyer
types still gets the usual "not understood" answer.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_TYPED_QUANTITY", "parse_typed_quantity"]

#: More than this many digits is not a quantity anybody means (a phone number, a pasted code).
MAX_TYPED_QUANTITY = 9999

_CHINESE_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
                   "九": 9}
# An optional "x3" / "×3" / "要3" / "买3" in front; a number (digits or Chinese up to 99); then
# an optional unit word with no digits in it ("boxes", "份", "个", "pcs", "盒装").
_NUMERALS = "零〇一二两三四五六七八九十"
_QUANTITY = re.compile(
    r"(?:[x×*]|要|买|来)?\s*"
    rf"(?P<number>[0-9]{{1,4}}|[{_NUMERALS}]{{1,3}})\s*"
    rf"(?P<unit>(?:(?![{_NUMERALS}百千万])[^\W\d_]){{0,12}})"  # a unit word, never more numerals ("一百")
    r"[.!。！]?"
)


def _chinese_number(text: str) -> int | None:
    """一..九十九 as people write them (十, 十二, 二十, 二十五); None for anything else."""
    if "十" not in text:
        return _CHINESE_DIGITS[text] if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return None
    value = (_CHINESE_DIGITS.get(tens, -100) if tens else 1) * 10 + (_CHINESE_DIGITS.get(ones, -100) if ones else 0)
    return value if value >= 0 else None


def parse_typed_quantity(text: str) -> int | None:
    """The quantity in `text`, or None when the text is not a quantity.

    Full-width digits count (NFKC); 0 is returned as 0 so the caller can say "at least 1".
    """
    cleaned = unicodedata.normalize("NFKC", text or "").strip().lower()
    match = _QUANTITY.fullmatch(cleaned)
    if match is None:
        return None
    number = match["number"]
    if number.isdigit():
        return int(number)
    return _chinese_number(number)
