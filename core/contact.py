"""Checking what a buyer types for delivery: phone, recipient name, address, note."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

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


def check_recipient(text: str) -> str:
    name = " ".join((text or "").split())
    if not name:
        raise ContactError("name_empty")
    if len(name) > NAME_MAX:
        raise ContactError("name_too_long")
    return name


def check_address(text: str) -> str:
    address = (text or "").strip()
    if len(address) < ADDRESS_MIN:
        raise ContactError("address_short")
    if len(address) > ADDRESS_MAX:
        raise ContactError("address_too_long")
    return address


def check_note(text: str) -> str:
    note = (text or "").strip()
    if not note:
        raise ContactError("note_empty")
    if len(note) > NOTE_MAX:
        raise ContactError("note_too_long")
    return note
