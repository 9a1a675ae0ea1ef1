"""Telegram's sizes: 4,096 characters of text, 1,024 of caption, 100 buttons per keyboard.

Lists grow with what users do (a cart of 40 lines, an address and a note of 300 characters each),
so everything that renders a list fits it here: `fit_lines` keeps the lines that fit and says how
many are left out, `pages` cuts lines into pages, and `split_html` cuts a finished Telegram-HTML
text into messages at line breaks where no tag is open. `split_request` turns one Bot API request
whose text Telegram refused as too long into several that fit (the outbox's last resort).

Lengths are what Telegram counts: the text after HTML is parsed (tags gone, entities decoded),
in UTF-16 code units (an emoji counts two).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MAX_BUTTONS = 100

_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*>")


def visible_length(telegram_html: str) -> int:
    """Length Telegram counts for a text or caption: tags removed, entities decoded, UTF-16 units."""
    text = html.unescape(_TAG.sub("", telegram_html))
    return len(text.encode("utf-16-le")) // 2


def fits(telegram_html: str, limit: int = TEXT_LIMIT) -> bool:
    # Every reply and edit asks this: most texts are short enough to say yes without parsing
    # (what Telegram counts is at most two UTF-16 units per character of the source).
    return 2 * len(telegram_html) <= limit or visible_length(telegram_html) <= limit


def fit_lines(lines: Sequence[str], budget: int, more: Callable[[int], str]) -> list[str]:
    """The leading `lines` whose text (joined by line breaks) fits `budget`, then `more(n)` naming
    the n lines left out; all of them when they fit. At least one line is always kept."""
    if visible_length("\n".join(lines)) <= budget:
        return list(lines)
    kept: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        tail = visible_length(more(len(lines) - index - 1)) + 1
        cost = visible_length(line) + (1 if kept else 0)
        if kept and used + cost + tail > budget:
            break
        kept.append(line)
        used += cost
    return kept + [more(len(lines) - len(kept))]


def pages(lines: Sequence[str], budget: int) -> list[list[str]]:
    """`lines` cut into consecutive pages, each within `budget` when joined by line breaks."""
    result: list[list[str]] = []
    current: list[str] = []
    used = 0
    for line in lines:
        cost = visible_length(line) + (1 if current else 0)
        if current and used + cost > budget:
            result.append(current)
            current, used = [], 0
            cost = visible_length(line)
        current.append(line)
        used += cost
    if current or not result:
        result.append(current)
    return result


def _open_tags_after(line: str, stack: list[str]) -> list[str]:
    stack = list(stack)
    for closing, name in _TAG.findall(line):
        name = name.lower()
        if not closing:
            stack.append(name)
        elif name in stack:
            del stack[len(stack) - 1 - stack[::-1].index(name)]
    return stack


def _hard_cut(block: str, limit: int) -> list[str]:
    """A block too long for one message even alone: drop its markup and cut the plain text."""
    plain = html.unescape(_TAG.sub("", block))
    pieces: list[str] = []
    current: list[str] = []
    used = 0
    for ch in plain:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > limit:
            pieces.append(html.escape("".join(current), quote=False))
            current, used = [], 0
        current.append(ch)
        used += size
    if current:
        pieces.append(html.escape("".join(current), quote=False))
    return pieces


def split_html(text: str, limit: int = TEXT_LIMIT, first_limit: int | None = None) -> list[str]:
    """Telegram HTML cut into texts of at most `limit` (the first at most `first_limit`), at line
    breaks where no tag is open, so each piece is valid HTML on its own. A text that fits comes
    back whole."""
    first = limit if first_limit is None else first_limit
    if fits(text, first):
        return [text]
    # Blocks: runs of lines that must stay together because a tag spans them.
    blocks: list[str] = []
    current: list[str] = []
    stack: list[str] = []
    for line in text.split("\n"):
        current.append(line)
        stack = _open_tags_after(line, stack)
        if not stack:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    pieces: list[str] = []
    piece: list[str] = []
    used = 0
    for block in blocks:
        cap = first if not pieces else limit
        size = visible_length(block)
        cost = size + (1 if piece else 0)
        if piece and used + cost > cap:
            pieces.append("\n".join(piece))
            piece, used = [], 0
            cap, cost = limit, size
        if size > cap:
            cut = _hard_cut(block, cap)
            pieces.extend(cut[:-1])
            piece, used = [cut[-1]], visible_length(cut[-1])
            continue
        piece.append(block)
        used += cost
    if piece:
        pieces.append("\n".join(piece))
    # Blank lines at a cut are dropped: Telegram refuses a message with no visible text.
    pieces = [p.strip("\n") for p in pieces]
    return [p for p in pieces if p.strip()] or [text]


# Bot API methods whose text can be split, and which parameter holds it.
_TEXT_METHODS = {"sendMessage": "text", "editMessageText": "text"}
_CAPTION_METHODS = {"sendPhoto": "caption", "sendDocument": "caption", "editMessageCaption": "caption"}
# Parameters of a follow-up sendMessage carried over from the original request.
_KEEP = ("chat_id", "parse_mode", "link_preview_options", "message_thread_id")


def split_request(method: str, params: dict[str, Any], margin: float = 0.95) -> list[tuple[str, dict[str, Any]]]:
    """One Bot API request whose text or caption is too long, as several that fit: the original
    method carries the first part, plain sendMessage calls the rest, and the keyboard moves to
    the last one (where the reader ends up). [] when the request has nothing to split.

    `margin` leaves room for a count that differs from ours (Telegram refused it, after all)."""
    field = _TEXT_METHODS.get(method) or _CAPTION_METHODS.get(method)
    text = params.get(field) if field else None
    if field is None or not isinstance(text, str) or not text:
        return []
    first_limit = int((TEXT_LIMIT if field == "text" else CAPTION_LIMIT) * margin)
    parts = split_html(text, int(TEXT_LIMIT * margin), first_limit)
    if len(parts) < 2:
        return []
    markup = params.get("reply_markup")
    head = {k: v for k, v in params.items() if k != "reply_markup"}
    head[field] = parts[0]
    requests: list[tuple[str, dict[str, Any]]] = [(method, head)]
    follow = {k: params[k] for k in _KEEP if k in params}
    for index, part in enumerate(parts[1:], start=2):
        extra = {"reply_markup": markup} if markup is not None and index == len(parts) else {}
        requests.append(("sendMessage", {**follow, "text": part, **extra}))
    return requests


def is_too_long_error(message: str) -> bool:
    """Whether Telegram refused a request for the length of its text or caption."""
    lowered = message.lower()
    return ("message is too long" in lowered or "caption is too long" in lowered
            or "message_too_long" in lowered or "text is too long" in lowered)
