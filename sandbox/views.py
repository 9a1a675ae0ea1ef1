"""What the page is sent: the fake Telegram's chats as plain JSON.

Messages go out as display text plus entities, exactly as the fake stores them; the page turns
those into DOM nodes itself (never HTML), so nothing a bot or user typed can become markup.
Files are referred to by their path under /media/, which the sandbox serves from the fake's
file store (the bot's token never reaches the page).
"""

from __future__ import annotations

from typing import Any

from faketg import FakeChat, FakeFile, FakeMessage, FakeTelegram
from faketg.markup import inline_rows

MEDIA_PREFIX = "/media/"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")


def media_url(stored: FakeFile) -> str:
    return MEDIA_PREFIX + stored.file_path


def _inline_button(button: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"text": button.get("text", "")}
    if "callback_data" in button:
        out["type"] = "callback"
        # The action part only (e.g. "b.now"): lets tests and the page's data-action find a button.
        out["action"] = str(button["callback_data"]).split(":", 1)[0]
    elif "url" in button:
        out["type"] = "url"
        out["url"] = button["url"]
    elif "web_app" in button:
        out["type"] = "web_app"
        out["url"] = (button["web_app"] or {}).get("url", "")
    elif "copy_text" in button:
        out["type"] = "copy"
        out["copy"] = (button["copy_text"] or {}).get("text", "")
    else:
        out["type"] = "unsupported"
    return out


def _reply_button(button: dict[str, Any]) -> dict[str, Any]:
    kind = "contact" if button.get("request_contact") else "location" if button.get("request_location") else "text"
    return {"text": button.get("text", ""), "type": kind}


def message_json(message: FakeMessage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": message.message_id,
        "out": not message.from_bot,
        "date": message.date,
        "edited": message.edited,
        "kind": message.kind,
        "text": message.text or "",
        "entities": message.entities,
        "buttons": [[_inline_button(b) for b in row] for row in inline_rows(message.reply_markup)],
    }
    if message.photo_sizes:
        largest = message.photo_sizes[-1]
        out["photo"] = {"src": media_url(largest), "width": largest.width, "height": largest.height}
    if message.document is not None:
        doc = message.document
        out["document"] = {
            "src": media_url(doc), "name": doc.file_name or "file", "mime": doc.mime_type or "",
            "size": doc.file_size, "image": (doc.mime_type or "") in IMAGE_TYPES,
        }
    if message.contact is not None:
        contact = message.contact
        name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
        out["contact"] = {"phone": contact.get("phone_number", ""), "name": name}
    if message.location is not None:
        out["location"] = {"latitude": message.location["latitude"], "longitude": message.location["longitude"]}
    if message.invoice is not None:
        invoice = message.invoice
        out["invoice"] = {key: invoice.get(key) for key in ("title", "description", "currency", "total_amount")}
    if message.reply_to is not None and not message.reply_to.deleted:
        out["reply_to"] = {"id": message.reply_to.message_id, "text": (message.reply_to.text or "")[:120]}
    return out


def keyboard_json(chat: FakeChat) -> dict[str, Any] | None:
    """The reply keyboard the bot is showing under the text box, if any."""
    keyboard = chat.reply_keyboard
    if not keyboard:
        return None
    return {
        "rows": [[_reply_button(b) for b in row] for row in keyboard.get("keyboard", [])],
        "placeholder": keyboard.get("input_field_placeholder") or "",
        "one_time": bool(keyboard.get("one_time_keyboard")),
    }


def commands_json(tg: FakeTelegram, chat_id: int, language_code: str) -> list[dict[str, str]]:
    """The command menu as a Telegram app shows it: the narrowest scope that has commands wins."""
    chat = {"type": "chat", "chat_id": chat_id}
    private = {"type": "all_private_chats"}
    for scope, language in ((chat, language_code), (chat, ""), (private, language_code), (private, ""),
                            (None, language_code), (None, "")):
        commands = tg.get_commands(scope, language)
        if commands:
            return commands
    return []
