"""User-typed text: cleaned before it is accepted, and shortened for tight places.

Names, addresses and notes are shown back to other people (the merchant reads the buyer's
address; buyers read the shop's and products' names), so what a user types must not be able to
pass for the bot's own words. `accept_text` is the one gate every typed field goes through:

- control characters go (NUL, escape sequences, backspace...), and so do the bidirectional
  controls (U+202A-202E, U+2066-2069, LRM/RLM/ALM) that reorder what is shown: "‮lanigiro" would
  read "original", and an order note could flip a price;
- other invisible format characters go (zero-width space, word joiner, BOM, soft hyphen...),
  except the zero-width joiner and non-joiner, which emoji sequences and some scripts need
  between visible characters;
- line breaks (and tabs, and every Unicode space) fold into one space for one-line fields, so no
  typed text can start a line of its own that looks like "💳 Paid" under the bot's lines;
- runs of combining marks are capped, so no text can stack marks over the lines above and below;
- text left with nothing visible ("ㅤ" Hangul fillers, braille blanks, only zero-width characters)
  is refused with its own reason, which the handler turns into a sentence in the user's language.

`clean_text` does the cleaning without refusing, for text read back from storage (rows written
before this check existed) and for names that come from Telegram rather than a prompt.
"""

from __future__ import annotations

import enum
import re
import unicodedata

ELLIPSIS = "…"

# Reorder what follows them: embeddings, overrides, isolates and the implicit marks.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE RLE PDF LRO RLO
    "\u2066\u2067\u2068\u2069"  # LRI RLI FSI PDI
    "\u200e\u200f\u061c"  # LRM RLM ALM
)
# Joiners shape emoji sequences (👨‍👩‍👧) and Indic/Persian words: kept between visible characters.
JOINERS = frozenset("\u200c\u200d")
# Letters and symbols that draw nothing: used to make a name look empty or to pad a line.
INVISIBLE_GLYPHS = frozenset(
    "\u115f\u1160\u3164\uffa0"  # Hangul fillers
    "\u2800"  # braille blank
    "\u180e"  # Mongolian vowel separator (a format character in older Unicode)
    "\u17b4\u17b5"  # Khmer inherent vowels
    "\u034f"  # combining grapheme joiner
)
MAX_COMBINING_RUN = 4  # enough for Vietnamese, Thai and Devanagari; Zalgo stacks dozens
_SPACES = re.compile(r"\s+")
_LOOSE_JOINERS = re.compile(r"^[\u200c\u200d]+|[\u200c\u200d]+$|(?<= )[\u200c\u200d]+|[\u200c\u200d]+(?= )")


class TextProblem(enum.StrEnum):
    """Why typed text was refused; handlers map each to a message in the user's language."""

    EMPTY = "empty"
    INVISIBLE = "invisible"  # only invisible or formatting characters
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"


class TextRefused(ValueError):
    def __init__(self, problem: TextProblem, length: int = 0) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.length = length  # the cleaned length, for "62 characters, at most 64"


def _dropped(ch: str) -> bool:
    """Characters that never survive: controls, bidi controls, surrogates, invisible formats."""
    if ch in BIDI_CONTROLS:
        return True
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs"):  # controls (line breaks are folded before this), lone surrogates
        return True
    return category == "Cf" and ch not in JOINERS


def is_visible(ch: str) -> bool:
    """Whether a character draws something a reader sees."""
    if ch in INVISIBLE_GLYPHS or ch in JOINERS or ch.isspace():
        return False
    # Unassigned code points count as visible: they may be emoji newer than this Python's tables.
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Mn", "Me", "Zs", "Zl", "Zp", "Co")


def clean_text(text: str | None, *, multiline: bool = False) -> str:
    """`text` without controls, bidi overrides, stray invisible characters and runaway combining
    marks; whitespace folded to single spaces (one-line) or lines kept with at most one blank line
    between paragraphs (`multiline`). Never refuses: see `accept_text` for that."""
    text = unicodedata.normalize("NFC", text or "")
    if multiline:
        lines = [_clean_line(line) for line in re.split(r"\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]", text)]
        kept: list[str] = []
        for line in lines:
            if line or (kept and kept[-1]):
                kept.append(line)
        return "\n".join(kept).strip("\n")
    return _clean_line(text)


def _clean_line(text: str) -> str:
    out: list[str] = []
    marks = 0
    for ch in _SPACES.sub(" ", text):
        if _dropped(ch):
            continue
        if ch in INVISIBLE_GLYPHS:
            continue
        if unicodedata.category(ch) in ("Mn", "Me"):
            marks += 1
            if marks > MAX_COMBINING_RUN or not out:
                continue
        else:
            marks = 0
        out.append(ch)
    cleaned = _SPACES.sub(" ", "".join(out))
    # A joiner only joins: one left at either end, or next to a space, joins nothing.
    return _LOOSE_JOINERS.sub("", cleaned.strip()).strip()


def accept_text(text: str | None, *, max_length: int, min_length: int = 1, multiline: bool = False) -> str:
    """What a user typed into a field, cleaned (see `clean_text`) and checked; TextRefused with
    EMPTY (nothing typed), INVISIBLE (nothing visible left), TOO_SHORT or TOO_LONG otherwise.

    Every place that stores typed text calls this: recipient, address, note, shop and product
    names, descriptions, cancel reasons, tracking numbers."""
    raw = text or ""
    if not raw.strip():
        raise TextRefused(TextProblem.EMPTY)
    cleaned = clean_text(raw, multiline=multiline)
    if not any(is_visible(ch) for ch in cleaned):
        raise TextRefused(TextProblem.INVISIBLE)
    if len(cleaned) < min_length:
        raise TextRefused(TextProblem.TOO_SHORT, len(cleaned))
    if len(cleaned) > max_length:
        raise TextRefused(TextProblem.TOO_LONG, len(cleaned))
    return cleaned


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, ending in an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: max(0, limit - 1)].rstrip() + ELLIPSIS
