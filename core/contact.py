"""Checking what a buyer types for delivery: phone, recipient name, address, note."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from core.text import TextProblem, TextRefused, accept_text

PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15  # E.164
NAME_MAX = 64
ADDRESS_MIN = 5
ADDRESS_MAX = 300
NOTE_MAX = 300
#: Where a number without a country code is taken to be, when the shop's currency names no country.
DEFAULT_PHONE_REGION = "CN"


class ContactError(ValueError):
    """`problem` names what is wrong: phone_invalid, name_empty, name_too_long, address_short, ..."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def phone_region(currency: str) -> str:
    """The country a shop's buyers' numbers are read in: the one its currency belongs to (an ISO
    4217 code starts with its ISO 3166 country: CNY -> CN, USD -> US, HKD -> HK), else China."""
    region = (currency or "")[:2].upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else DEFAULT_PHONE_REGION


def normalize_phone(text: str, region: str = DEFAULT_PHONE_REGION, *, shared: bool = False) -> str:
    """The phone number in what a buyer typed, as E.164 ("+8613800138000"); ContactError otherwise.

    The number may sit inside a sentence ("call 138 0013 8000 after 6pm") and be written with
    spaces, dashes, dots, brackets or full-width digits; Google's libphonenumber (`phonenumbers`)
    finds and checks it, reading a number without a country code as one of `region`. A contact
    shared by Telegram's button carries its number in international form, often without the "+"
    (`shared`).
    """
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if shared and cleaned and not cleaned.startswith("+"):
        cleaned = "+" + cleaned
    found = next(iter(phonenumbers.PhoneNumberMatcher(cleaned, region, leniency=phonenumbers.Leniency.VALID)), None)
    number = found.number if found is not None else None
    if number is None:
        # A full international number libphonenumber does not know yet (a new range) is still
        # taken when it is all the text says; a bare local number must be one it knows.
        if not cleaned.startswith("+") or re.search(r"[^\d\s()+\-.]", cleaned):
            raise ContactError("phone_invalid")
        try:
            number = phonenumbers.parse(cleaned, region)
        except phonenumbers.NumberParseException:
            raise ContactError("phone_invalid") from None
        if not phonenumbers.is_possible_number(number):
            raise ContactError("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(stored: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """A stored number the way people there write it: "138 0013 8000" for a Chinese number in a
    Chinese shop, "+1 201-555-0123" for one from abroad; as stored when it cannot be read."""
    try:
        number = phonenumbers.parse(stored, region)
    except phonenumbers.NumberParseException:
        return stored
    if phonenumbers.region_code_for_number(number) == region:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# Recipient, address and note are read by the merchant under the bot's own lines: each is one
# line (a line break in an address becomes a space), cleaned by core.text.accept_text.

def _accept(text: str, field: str, *, max_length: int, min_length: int = 1) -> str:
    try:
        return accept_text(text, max_length=max_length, min_length=min_length)
    except TextRefused as exc:
        problem = {TextProblem.EMPTY: "empty", TextProblem.INVISIBLE: "invisible",
                   TextProblem.TOO_SHORT: "short", TextProblem.TOO_LONG: "too_long"}[exc.problem]
        if field == "address" and problem == "empty":
            problem = "short"  # "too short (5 characters at least)" says more than "empty"
        raise ContactError(f"{field}_{problem}") from None


def check_recipient(text: str) -> str:
    """name_empty, name_invisible, name_too_long."""
    return _accept(text, "name", max_length=NAME_MAX)


def check_address(text: str) -> str:
    """address_short, address_invisible, address_too_long."""
    return _accept(text, "address", max_length=ADDRESS_MAX, min_length=ADDRESS_MIN)


def check_note(text: str) -> str:
    """note_empty, note_invisible, note_too_long."""
    return _accept(text, "note", max_length=NOTE_MAX)
