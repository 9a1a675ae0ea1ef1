"""Validation of reply_markup: inline keyboards, reply keyboards, removal.

Telegram refuses malformed keyboards with 400s a bot only discovers in
production (callback_data over 64 bytes, a button with no action, a URL it
does not like), so the fake checks them the same way.  One deliberate
strictness: Telegram silently uses the first action of a button that has
several; the fake refuses it, since such a button is always a bot bug.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .errors import bad_request

INLINE_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
    "copy_text", "callback_game", "pay",
)
MAX_BUTTONS = 100
CALLBACK_DATA_MAX_BYTES = 64


def _check_button_url(url: Any) -> None:
    if not isinstance(url, str):
        raise bad_request("can't parse inline keyboard button: Field \"url\" must be of type String")
    scheme, _, _ = url.partition("://")
    if "://" not in url or scheme.lower() not in ("http", "https", "tg", "ton"):
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol")
    if scheme.lower() in ("http", "https"):
        host = urlsplit(url).hostname or ""
        if not host or any(ch.isspace() for ch in url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
        if "." not in host:
            # Telegram's servers refuse dot-less hosts such as "localhost".
            raise bad_request("BUTTON_URL_INVALID")


def _inline_button(button: Any) -> dict[str, Any]:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Can't find field \"text\"")
    actions = [name for name in INLINE_ACTIONS if button.get(name) not in (None, False)]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(
            f"can't parse inline keyboard button: exactly one of {', '.join(actions)} must be used "
            "(faketg is stricter than Telegram here)"
        )
    if "callback_data" in actions:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in actions:
        _check_button_url(button["url"])
    return {key: value for key, value in button.items() if value is not None}


def _reply_button(button: Any) -> dict[str, Any]:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse keyboard button: Field \"text\" must be of type String")
    return {key: value for key, value in button.items() if value is not None}


def _rows(markup: dict[str, Any], key: str, kind: str) -> list[list[Any]]:
    rows = markup[key]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(f'field "{key}" of the {kind} must be an Array of Arrays')
    if sum(len(row) for row in rows) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    return rows


def parse_reply_markup(raw: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """Validate and normalise a decoded reply_markup; None when absent.

    ``inline_only`` is for edits and invoices, which only take inline keyboards.
    """
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = _rows(raw, "inline_keyboard", "InlineKeyboardMarkup")
        return {"inline_keyboard": [[_inline_button(button) for button in row] for row in rows]}
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in raw:
        rows = _rows(raw, "keyboard", "ReplyKeyboardMarkup")
        options = {key: value for key, value in raw.items() if key != "keyboard" and value is not None}
        return {"keyboard": [[_reply_button(button) for button in row] for row in rows], **options}
    if raw.get("remove_keyboard"):
        return {key: value for key, value in raw.items() if value is not None}
    if raw.get("force_reply"):
        return {key: value for key, value in raw.items() if value is not None}
    raise bad_request("can't parse reply keyboard markup JSON object")


def inline_rows(markup: dict[str, Any] | None) -> list[list[dict[str, Any]]]:
    """The rows of an inline keyboard ([] for anything else)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    rows: list[list[dict[str, Any]]] = markup["inline_keyboard"]
    return rows


def find_button(rows: list[list[dict[str, Any]]], text: str) -> dict[str, Any] | None:
    """The button with exactly this text, else the only one containing it.

    Raises AssertionError when several buttons contain the text and none
    matches exactly, so a test never taps a button by accident.
    """
    buttons = [button for row in rows for button in row]
    exact = [button for button in buttons if button["text"] == text]
    if exact:
        return exact[0]
    partial = [button for button in buttons if text in button["text"]]
    if len(partial) > 1:
        names = ", ".join(repr(button["text"]) for button in partial)
        raise AssertionError(f"{text!r} matches several buttons: {names}")
    return partial[0] if partial else None
