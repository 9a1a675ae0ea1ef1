"""Message text as Telegram stores it: parse modes, clean-up, UTF-16 offsets.

Bot API entity offsets and lengths count UTF-16 code units, so an emoji
outside the BMP counts 2.  After parsing, Telegram runs TDLib's
``fix_formatted_text``: it drops ``\\r``, turns other control characters into
spaces, removes U+2028..U+202E, trims trailing whitespace (and leading
whitespace before the first entity) and discards entities that cover only
whitespace.  Only then are the length limits checked (in characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .errors import bad_request
from .html import HtmlParseError, parse_html, sort_entities

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
    }
)

# Looks up a user for a text_mention entity; None drops the entity.
UserResolver = Callable[[int], dict[str, Any] | None]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# Characters fix_formatted_text changes: \r, other controls except \n, U+2028..U+202E.
_NEEDS_CLEANING = re.compile("[\x00-\x09\x0b-\x1f\u2028-\u202e]")


def utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of ``text`` an entity with this offset and length covers."""
    if text.isascii():
        return text[offset : offset + length]
    raw = text.encode("utf-16-le", "surrogatepass")
    return raw[2 * offset : 2 * (offset + length)].decode("utf-16-le", "replace")


def entity_text(text: str, entity: dict[str, Any]) -> str:
    """The text covered by a MessageEntity dict."""
    return utf16_slice(text, entity["offset"], entity["length"])


def _clean_char(ch: str) -> str:
    """What fix_formatted_text keeps of one character ("" drops it)."""
    code = ord(ch)
    if ch == "\r" or 0x2028 <= code <= 0x202E:
        return ""
    if code < 32 and ch != "\n":
        return " "
    return ch


def _unchanged(position: int) -> int:
    return position


def _same_position(text: str) -> Callable[[int], int]:
    """Maps a UTF-16 position of ``text`` to itself, or back to the start of the character when it
    falls between the two halves of a surrogate pair (as the character walk of clean_text does)."""
    if text.isascii():
        return _unchanged
    units = text.encode("utf-16-le", "surrogatepass")

    def start_of_character(position: int) -> int:
        low_surrogate = 0 < position < len(units) // 2 and 0xDC <= units[2 * position + 1] <= 0xDF
        return position - 1 if low_surrogate else position

    return start_of_character


def clean_text(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """TDLib's fix_formatted_text (the parts that matter to a bot).

    Returns the cleaned text (possibly empty) and entities with offsets that
    point into it.
    """
    if _NEEDS_CLEANING.search(text) is None:
        # Nothing to drop or replace (the common case): positions stay where they are.
        cleaned, moved_to = text, _same_position(text)
        total = utf16_len(text)
    else:
        # new_at[k] is the cleaned UTF-16 position of original UTF-16 position k.
        out: list[str] = []
        new_at: list[int] = []
        position = 0
        for ch in text:
            kept = _clean_char(ch)
            new_at.extend([position] * (2 if ord(ch) > 0xFFFF else 1))
            out.append(kept)
            position += utf16_len(kept)
        new_at.append(position)
        cleaned, moved_to = "".join(out), new_at.__getitem__
        total = len(new_at) - 1

    moved: list[dict[str, Any]] = []
    for entity in entities:
        start = min(max(entity["offset"], 0), total)
        end = min(max(entity["offset"] + entity["length"], start), total)
        start, end = moved_to(start), moved_to(end)
        if end > start and utf16_slice(cleaned, start, end - start).strip(" \n"):
            moved.append({**entity, "offset": start, "length": end - start})

    # rtrim: everything after the last character that is not ' ' or '\n'.
    kept_len = len(cleaned.rstrip(" \n"))
    cleaned = cleaned[:kept_len]
    limit = utf16_len(cleaned)
    for entity in moved:
        entity["length"] = min(entity["offset"] + entity["length"], limit) - entity["offset"]
    moved = [e for e in moved if e["length"] > 0]

    # ltrim, but never past the start of the first entity.
    first = min((e["offset"] for e in moved), default=limit)
    skip = 0
    while skip < first and cleaned[skip] in " \n":
        skip += 1
    if skip:
        cleaned = cleaned[skip:]
        for entity in moved:
            entity["offset"] -= skip  # leading whitespace is ASCII: chars == UTF-16 units
    return cleaned, sort_entities(moved)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _is_command_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def find_bot_commands(text: str) -> list[dict[str, Any]]:
    """bot_command entities as Telegram detects them in a user's message.

    TDLib's match_bot_commands: ``/name`` (1-64 of [A-Za-z0-9_]) optionally
    followed by ``@botname`` (3-32), not glued to a word or to ``/<>``.
    """
    found: list[dict[str, Any]] = []
    i = 0
    size = len(text)
    while True:
        i = text.find("/", i)
        if i < 0:
            return found
        if i > 0 and (_is_word_char(text[i - 1]) or text[i - 1] in "/<>"):
            i += 1
            continue
        begin = i
        i += 1
        while i < size and _is_command_char(text[i]):
            i += 1
        if not 1 <= i - begin - 1 <= 64:
            continue
        end = i
        if i < size and text[i] == "@":
            i += 1
            mention_begin = i
            while i < size and _is_command_char(text[i]):
                i += 1
            if not 3 <= i - mention_begin <= 32:
                continue
            end = i
        if i < size and (_is_word_char(text[i]) or text[i] in "/<>"):
            continue
        found.append(
            {"type": "bot_command", "offset": utf16_len(text[:begin]), "length": utf16_len(text[begin:end])}
        )


def _explicit_entities(raw: Any) -> list[dict[str, Any]]:
    """Validate an ``entities``/``caption_entities`` array sent by the bot."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise bad_request("can't parse entities JSON object")
    entities: list[dict[str, Any]] = []
    for item in raw:
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            raise bad_request("can't parse MessageEntity: field \"type\" must be of type String")
        if item["type"] not in ENTITY_TYPES:
            raise bad_request(f"can't parse MessageEntity: unsupported entity type \"{item['type']}\"")
        offset, length = item.get("offset"), item.get("length")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length <= 0:
            raise bad_request("can't parse MessageEntity: wrong offset or length")
        entities.append(dict(item))
    # Offsets beyond the text are clipped later by clean_text, as TDLib does.
    return sort_entities(entities)


def _resolve_mentions(entities: list[dict[str, Any]], resolve_user: UserResolver | None) -> list[dict[str, Any]]:
    kept = []
    for entity in entities:
        if entity["type"] == "text_mention":
            user = resolve_user(entity["user"]["id"]) if resolve_user else None
            if user is None:
                continue  # Telegram cannot mention a user the bot has never seen
            entity = {**entity, "user": user}
        kept.append(entity)
    return kept


def format_text(
    source: str,
    parse_mode: str | None,
    raw_entities: Any,
    *,
    field: str,
    resolve_user: UserResolver | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Turn a bot's text or caption parameter into what Telegram stores.

    ``field`` is "text" or "caption"; it picks the limit and the wording of
    the length errors.  Returns (display text, entities); the text may be
    empty for a caption.  Raises :class:`ApiError` like the Bot API.
    """
    mode = (parse_mode or "").strip().lower()
    if raw_entities is not None:
        # Explicit entities win over parse_mode, as in the Bot API.
        text, entities = source, _explicit_entities(raw_entities)
    elif mode == "":
        text, entities = source, []
    elif mode == "html":
        try:
            text, entities = parse_html(source)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("markdown", "markdownv2"):
        raise bad_request(f"faketg does not implement parse_mode {parse_mode}; use HTML")
    else:
        raise bad_request("unsupported parse_mode")

    text, entities = clean_text(text, _resolve_mentions(entities, resolve_user))
    if field == "text":
        if not text:
            raise bad_request("message text is empty")
        if len(text) > TEXT_LIMIT:
            raise bad_request("message is too long")
    elif len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return text, entities

