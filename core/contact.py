"""Checking what a buyer types for delivery: phone, recipient name, address, note."""

from __future__ import annotations

import re
import unicodedata

PHONE_MIN_DIGITS = 7
PHONE_MAX_DIGITS = 15  # E.164
NAME_MAX = 64
ADDRESS_MIN = 5
ADDRESS_MAX = 300
NOTE_MAX = 300
_PHONE_SHAPE = re.compile(r"^\+?[0-9 ()\-.]+$")


class ContactError(ValueError):
    """`problem` names what is wrong: phone_invalid, name_empty, name_too_long, address_short, ..."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def normalize_phone(text: str) -> str:
    """A phone number as digits with an optional leading +; ContactError("phone_invalid") otherwise.

    Accepts what people type: spaces, dashes, dots, brackets, full-width digits.
    """
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    if not cleaned or not _PHONE_SHAPE.match(cleaned):
        raise ContactError("phone_invalid")
    plus = cleaned.startswith("+")
    digits = re.sub(r"\D", "", cleaned)
    if not PHONE_MIN_DIGITS <= len(digits) <= PHONE_MAX_DIGITS:
        raise ContactError("phone_invalid")
    return ("+" if plus else "") + digits


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
