"""Checking what a buyer types for delivery: phone, recipient name, address, note."""

from __future__ import annotations

import re
import unicodedata

from core.text import TextProblem, TextRefused, accept_text

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
