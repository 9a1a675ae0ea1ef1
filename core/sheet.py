"""Cells for files a merchant opens in a spreadsheet program (the CSV export today).

Two jobs, one place, so every export does both the same way:

- A text cell must never run as a formula. Excel, LibreOffice and Google Sheets treat a cell that
  starts with `=`, `+`, `-` or `@` as a formula (and a leading tab or carriage return can hide one),
  so a buyer who names themself `=HYPERLINK("http://evil", "click")` would attack the merchant's
  computer. Such cells get a leading apostrophe (OWASP's advice): the text shows as typed, nothing
  runs. Numbers are left as numbers, so sums still work.
- Values a spreadsheet should add up stay numbers (money as a plain decimal in its own column), and
  values it must not turn into numbers (phones: 8.6E+12) are written as text it keeps as text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal

import phonenumbers

from core.money import format_amount_plain

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
Cell = str | int | Decimal


def safe_cell(value: object) -> Cell:
    """A value ready for a spreadsheet cell: numbers unchanged, text neutralised if it could run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, Decimal)):
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def safe_row(values: Iterable[object]) -> list[Cell]:
    """Every cell of a row through `safe_cell`: what every export writes."""
    return [safe_cell(v) for v in values]


def money_cell(minor: int, currency: str) -> Decimal:
    """An amount as a plain decimal number (39.90), for a column a spreadsheet can add up."""
    return Decimal(format_amount_plain(minor, currency))


@functools.lru_cache(maxsize=4096)  # a day's export repeats returning buyers' phones
def phone_cell(phone: str | None, home_region: str | None = "CN") -> str:
    """A phone as text a spreadsheet keeps as text: the local way for the shop's own country
    ("138 0013 8000"), the international way otherwise ("+1 415-555-0100"). The spaces are what
    stop a spreadsheet from reading it as the number 8.6E+12; what is left starting with `+`
    is neutralised by `safe_cell`."""
    if not phone:
        return ""
    try:
        number = phonenumbers.parse(phone, home_region)
    except phonenumbers.NumberParseException:
        return phone
    if home_region and phonenumbers.region_code_for_number(number) == home_region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# The country whose phones a shop's buyers mostly have, from its currency: enough to show their
# numbers the local way. Other currencies show every number the international way.
HOME_REGION_BY_CURRENCY = {"CNY": "CN", "HKD": "HK", "TWD": "TW", "USD": "US", "SGD": "SG", "MYR": "MY",
                           "JPY": "JP", "KRW": "KR", "THB": "TH", "VND": "VN", "EUR": None, "GBP": "GB"}


def home_region(currency: str) -> str | None:
    return HOME_REGION_BY_CURRENCY.get(currency)
