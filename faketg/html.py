"""Telegram's HTML parse mode, ported from TDLib's ``parse_html``.

The Bot API formats ``parse_mode="HTML"`` text with TDLib, so this module
follows TDLib's byte-level algorithm rather than a generic HTML parser: the
same tags, the same handful of character references, and the same error
messages (with UTF-8 *byte* offsets), because bot code that gets escaping
wrong should fail here exactly as it would fail in production.

What Telegram does, and therefore what this does:

* Supported tags: b/strong, i/em, u/ins, s/strike/del, tg-spoiler,
  ``span class="tg-spoiler"``, a href, code (``class="language-x"`` inside
  pre), pre, blockquote (optionally ``expandable``), ``tg-emoji emoji-id``.
  Tag and end-tag names are case-insensitive.  Any other tag, or a bare
  ``<`` (for example ``a < b``), is an error.
* Character references: ``&lt; &gt; &amp; &quot;`` and numeric ``&#NN;`` /
  ``&#xNN;``, the ``;`` being optional.  Any *other* ``&name;`` or a bare ``&``
  is NOT an error: Telegram keeps it literally (``Tom & Jerry`` and ``&nbsp;``
  arrive unchanged).
* Entities get UTF-16 offsets and lengths; empty elements produce no entity.
* ``<a>`` without href links to its own text; ``tg://user?id=N`` makes a
  ``text_mention``; a link Telegram would not accept is silently dropped.

Not ported: the newer ``tg-time`` tag (rejected as unsupported here).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = ["HtmlParseError", "check_link", "parse_html", "sort_entities"]


class HtmlParseError(ValueError):
    """TDLib's reason for refusing the text (without the Bot API prefix).

    The Bot API reports it as ``Bad Request: can't parse entities: <message>``.
    """


_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)
# TDLib's is_space(); NUL is included because TDLib reads past the end of the
# C string as NUL, and that is what stops several of its scanning loops.
_SPACE = frozenset(b" \t\r\n\0\v")
_NAMED_REFERENCES = {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}

# MessageEntity::get_type_priority(): ties between entities that start at the
# same offset and have the same length are ordered by it.
_PRIORITY = {
    "mention": 50, "hashtag": 50, "bot_command": 50, "url": 50, "email": 50,
    "bold": 90, "italic": 91, "code": 20, "pre": 11, "text_link": 49,
    "text_mention": 49, "cashtag": 50, "phone_number": 50, "underline": 92,
    "strikethrough": 93, "blockquote": 0, "expandable_blockquote": 0,
    "spoiler": 94, "custom_emoji": 99,
}

_LT, _GT, _AMP, _SLASH, _EQ = ord("<"), ord(">"), ord("&"), ord("/"), ord("=")
_SQUOTE, _DQUOTE, _HASH, _SEMI = ord("'"), ord('"'), ord("#"), ord(";")


@dataclass
class _Open:
    """A start tag waiting for its end tag."""

    tag: str
    argument: str
    utf16_offset: int
    result_pos: int  # byte position in the output, for <a> without href


class _Bytes:
    """The input as TDLib sees it: bytes, reading past the end gives NUL."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def __getitem__(self, index: int) -> int:
        return self.data[index] if index < self.size else 0

    def text(self, begin: int, end: int) -> str:
        return self.data[begin:end].decode("utf-8", "replace")


_PLAIN_RUN = re.compile(rb"[^<&]*")


def _utf16_units(chunk: bytes) -> int:
    """UTF-16 code units of a run of UTF-8 bytes (lead bytes count 1, 4-byte sequences 2)."""
    if chunk.isascii():
        return len(chunk)
    return sum(2 if c >= 0xF0 else 1 for c in chunk if c & 0xC0 != 0x80)


def _is_alnum(c: int) -> bool:
    return 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122


def _decode_reference(text: _Bytes, pos: int) -> tuple[int, int] | None:
    """Decode the character reference at ``pos`` (an '&').

    Returns (code point, position after it), or None when TDLib would keep
    the '&' as a literal character.
    """
    end = pos + 1
    code = 0
    if text[pos + 1] == _HASH:
        end += 1
        if text[pos + 2] == ord("x"):
            end += 1
            while text[end] != 0 and chr(text[end]) in "0123456789abcdefABCDEF":
                code = code * 16 + int(chr(text[end]), 16)
                end += 1
        else:
            while 48 <= text[end] <= 57:
                code = code * 10 + text[end] - 48
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while 65 <= text[end] <= 90 or 97 <= text[end] <= 122:
            end += 1
        named = _NAMED_REFERENCES.get(text.data[pos + 1 : end])
        if named is None:
            return None
        code = named
    if text[end] == _SEMI:
        end += 1
    return code, end


def _encode(code: int) -> bytes:
    # surrogatepass: "&#xD800;" is legal input; TDLib checks the whole result
    # for broken surrogate pairs afterwards, and so do we.
    return chr(code).encode("utf-8", "surrogatepass")


def check_link(url: str) -> str | None:
    """The URL Telegram stores for a text link, or None if it would drop it.

    A simplified LinkManager::get_checked_link: http(s) links need a host and
    get a "/" path when they have none, scheme-less links become http, tg://
    and ton:// pass, and every other scheme is refused.
    """
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    if "://" not in url:
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) and not re.match(r"^[^:]+:\d", url):
            return None  # mailto:, javascript: and friends
        url = "http://" + url
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if scheme in ("tg", "ton"):
        return f"{scheme}://{rest}" if rest else None
    if scheme not in ("http", "https"):
        return None
    parts = urlsplit(f"{scheme}://{rest}")
    if not parts.hostname:
        return None
    return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, parts.fragment))


_MENTION_LINK = re.compile(r"^tg://user\?id=(\d{1,19})$", re.IGNORECASE)


def _entity(kind: str, offset: int, length: int, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "offset": offset, "length": length, **extra}


def sort_entities(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TDLib's order: by offset, longer first, then by type priority."""
    return sorted(entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50)))


def _close(opened: _Open, length: int, result: bytearray, entities: list[dict[str, Any]]) -> None:
    """Add the entity an element produces when its end tag is reached."""
    tag, offset = opened.tag, opened.utf16_offset
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in ("i", "em"):
        entities.append(_entity("italic", offset, length))
    elif tag in ("b", "strong"):
        entities.append(_entity("bold", offset, length))
    elif tag in ("s", "strike", "del"):
        entities.append(_entity("strikethrough", offset, length))
    elif tag in ("u", "ins"):
        entities.append(_entity("underline", offset, length))
    elif tag in ("tg-spoiler", "span"):
        entities.append(_entity("spoiler", offset, length))
    elif tag == "tg-emoji":
        # TDLib: to_integer_safe<int64>, and 0 is refused.
        if not opened.argument.isdigit() or not 0 < int(opened.argument) < 2**63:
            raise HtmlParseError("Invalid custom emoji identifier specified")
        entities.append(_entity("custom_emoji", offset, length, custom_emoji_id=opened.argument))
    elif tag == "a":
        url = opened.argument or bytes(result[opened.result_pos :]).decode("utf-8", "replace")
        mention = _MENTION_LINK.match(url.strip())
        if mention:
            # The server fills in the user (or drops the entity if unknown).
            entities.append(_entity("text_mention", offset, length, user={"id": int(mention.group(1))}))
        else:
            checked = check_link(url)
            if checked is not None:
                entities.append(_entity("text_link", offset, length, url=checked))
    elif tag == "pre":
        # <pre><code class="language-x">…</code></pre>: the code entity closed
        # first and carries the language; together they become one pre.
        if same_span and last is not None and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append(_entity("pre", offset, length))
    elif tag == "code":
        if same_span and last is not None and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
        else:
            code = _entity("code", offset, length)
            if opened.argument:
                code["language"] = opened.argument  # dropped below unless it merges into a pre
            entities.append(code)
    elif tag == "blockquote":
        entities.append(_entity("expandable_blockquote" if opened.argument else "blockquote", offset, length))


def _start_tag(text: _Bytes, begin: int, i: int) -> tuple[str, str, int]:
    """Read a start tag whose name starts at ``i``; return (tag, argument, index of '>')."""
    while text[i] not in _SPACE and text[i] != _GT:
        i += 1
    if text[i] == 0:
        raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")

    tag = text.data[begin + 1 : i].lower().decode("utf-8", "replace")  # ASCII-only lowering, as TDLib
    if tag not in _SUPPORTED_TAGS:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')

    argument = ""
    while text[i] != _GT:
        while text[i] != 0 and text[i] in _SPACE:
            i += 1
        if text[i] == _GT:
            break
        name_begin = i
        while text[i] not in _SPACE and text[i] not in (_EQ, _GT, _SLASH, _DQUOTE, _SQUOTE):
            i += 1
        name = text.data[name_begin:i]
        if not name:
            raise HtmlParseError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while text[i] != 0 and text[i] in _SPACE:
            i += 1
        if text[i] != _EQ:
            # An attribute without a value; only <blockquote expandable> means anything.
            if text[i] == 0:
                raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if tag == "blockquote" and name == b"expandable":
                argument = "1"
            continue
        i += 1
        while text[i] != 0 and text[i] in _SPACE:
            i += 1
        if text[i] == 0:
            raise HtmlParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')

        if text[i] not in (_SQUOTE, _DQUOTE):
            # A name token: letters, digits, '.', '-'; case-insensitive.
            token_begin = i
            while _is_alnum(text[i]) or text[i] in (ord("."), ord("-")):
                i += 1
            value = text.data[token_begin:i].lower().decode("utf-8", "replace")
            if text[i] not in _SPACE and text[i] != _GT:
                raise HtmlParseError(f"Unexpected end of name token at byte offset {token_begin}")
        else:
            quote = text[i]
            i += 1
            raw = bytearray()
            while text[i] != quote and text[i] != 0:
                if text[i] == _AMP:
                    decoded = _decode_reference(text, i)
                    if decoded is not None:
                        raw += _encode(decoded[0])
                        i = decoded[1]
                        continue
                raw.append(text[i])
                i += 1
            if text[i] == quote:
                i += 1
            value = bytes(raw).decode("utf-8", "replace")
        if text[i] == 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {begin}")

        if tag == "a" and name == b"href":
            argument = value
        elif tag == "code" and name == b"class" and value.startswith("language-"):
            argument = value[len("language-") :]
        elif tag == "span" and name == b"class" and value.startswith("tg-"):
            argument = value[len("tg-") :]
        elif tag == "tg-emoji" and name == b"emoji-id":
            argument = value
        elif tag == "blockquote" and name == b"expandable":
            argument = "1"

    if tag == "span" and argument != "spoiler":
        raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
    return tag, argument, i


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (display text, Bot API MessageEntity dicts).

    Raises :class:`HtmlParseError` with TDLib's message when Telegram would
    answer ``Bad Request: can't parse entities: ...``.
    """
    if "\0" in source:
        raise HtmlParseError("Text must not contain null bytes")
    text = _Bytes(source.encode("utf-8", "surrogatepass"))
    result = bytearray()
    entities: list[dict[str, Any]] = []
    nested: list[_Open] = []
    utf16_offset = 0
    need_recheck = False

    i = 0
    while i < text.size:
        c = text[i]
        if c == _AMP:
            decoded = _decode_reference(text, i)
            if decoded is not None:
                code, i = decoded
                utf16_offset += 2 if code > 0xFFFF else 1
                need_recheck |= 0xD800 <= code <= 0xDFFF
                result += _encode(code)
                continue
        if c != _LT:
            # A run of plain text up to the next tag or reference, copied in one go.
            run = _PLAIN_RUN.match(text.data, i)
            end = run.end() if run is not None and run.end() > i else i + 1
            chunk = text.data[i:end]
            utf16_offset += _utf16_units(chunk)
            result += chunk
            i = end
            continue

        begin = i
        i += 1
        if text[i] != _SLASH:
            tag, argument, i = _start_tag(text, begin, i)
            nested.append(_Open(tag, argument, utf16_offset, len(result)))
            i += 1  # past '>'
            continue

        if not nested:
            raise HtmlParseError(f"Unexpected end tag at byte offset {begin}")
        while text[i] not in _SPACE and text[i] != _GT:
            i += 1
        end_tag = text.data[begin + 2 : i].lower().decode("utf-8", "replace")
        while text[i] in _SPACE and text[i] != 0:
            i += 1
        if text[i] != _GT:
            raise HtmlParseError(f"Unclosed end tag at byte offset {begin}")
        opened = nested[-1]
        # "</>" closes whatever is open, as in TDLib.
        if end_tag and end_tag != opened.tag:
            raise HtmlParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", found "</{end_tag}>"'
            )
        if utf16_offset > opened.utf16_offset:
            _close(opened, utf16_offset - opened.utf16_offset, result, entities)
        nested.pop()
        i += 1  # past '>'

    if nested:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{nested[-1].tag}"')

    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)  # a language only counts on a pre

    try:
        display = bytes(result).decode("utf-8", "strict" if need_recheck else "surrogatepass")
    except UnicodeDecodeError:
        raise HtmlParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None
    return display, sort_entities(entities)
