"""Bot identity, updates, webhook, commands, callback answers, files, chat actions."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import QUERY_TOO_OLD, ApiError, bad_request
from .params import Params
from .registry import Described, api_method

if TYPE_CHECKING:
    from .server import FakeTelegram

CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
    }
)
SCOPE_TYPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)
WEBHOOK_PORTS = (80, 88, 443, 8443)


@api_method("getMe")
def get_me(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    return tg.bot_user(full=True)


@api_method("logOut")
def log_out(tg: FakeTelegram, p: Params) -> bool:
    return True


@api_method("close")
def close(tg: FakeTelegram, p: Params) -> bool:
    return True


# -- updates and webhook ---------------------------------------------------


@api_method("getUpdates")
async def get_updates(tg: FakeTelegram, p: Params) -> list[dict[str, Any]]:
    if tg.webhook["url"]:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    allowed = p.json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
            raise bad_request("can't parse allowed updates JSON object")
        tg.updates.allowed = allowed
    limit = min(max(p.integer("limit", default=100) or 100, 1), 100)
    timeout = max(p.integer("timeout", default=0) or 0, 0)
    return await tg.updates.poll(p.integer("offset"), limit, timeout)


@api_method("setWebhook")
def set_webhook(tg: FakeTelegram, p: Params) -> Described:
    url = p.string("url") or ""
    if not url:
        return _delete_webhook(tg, p)
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if tg.check_webhook_ports and (parts.port or 443) not in WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    secret = p.string("secret_token")
    if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        raise bad_request("secret token contains unallowed characters")
    allowed = p.json("allowed_updates")
    if allowed is not None:
        tg.updates.allowed = allowed
    if p.flag("drop_pending_updates"):
        tg.updates.drop_all()
    tg.webhook.update(
        url=url, secret_token=secret, allowed_updates=allowed,
        max_connections=p.integer("max_connections", default=40),
    )
    return Described(True, "Webhook was set")


@api_method("deleteWebhook")
def _delete_webhook(tg: FakeTelegram, p: Params) -> Described:
    if p.flag("drop_pending_updates"):
        tg.updates.drop_all()
    was_set = bool(tg.webhook["url"])
    tg.webhook.update(url="", secret_token=None, allowed_updates=None)
    return Described(True, "Webhook was deleted" if was_set else "Webhook is already deleted")


@api_method("getWebhookInfo")
def get_webhook_info(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    info: dict[str, Any] = {
        "url": tg.webhook["url"],
        "has_custom_certificate": False,
        "pending_update_count": len(tg.updates),
    }
    if tg.webhook["url"]:
        info["max_connections"] = tg.webhook["max_connections"]
        if tg.webhook["allowed_updates"] is not None:
            info["allowed_updates"] = tg.webhook["allowed_updates"]
    return info


# -- commands and bot settings ---------------------------------------------


def _commands_key(p: Params) -> tuple[str, str]:
    """Commands are stored per (scope, language_code), as Telegram does."""
    scope = p.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
        raise bad_request("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), p.string("language_code") or ""


@api_method("setMyCommands")
def set_my_commands(tg: FakeTelegram, p: Params) -> bool:
    commands = p.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("can't parse commands JSON object")
    cleaned = []
    for command in commands:
        if not isinstance(command, dict):
            raise bad_request("can't parse BotCommand JSON object")
        name, description = command.get("command"), command.get("description")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name, "description": description})
    key = _commands_key(p)
    if cleaned:
        tg.commands[key] = cleaned
    else:
        tg.commands.pop(key, None)
    return True


@api_method("getMyCommands")
def get_my_commands(tg: FakeTelegram, p: Params) -> list[dict[str, Any]]:
    return tg.commands.get(_commands_key(p), [])


@api_method("deleteMyCommands")
def delete_my_commands(tg: FakeTelegram, p: Params) -> bool:
    tg.commands.pop(_commands_key(p), None)
    return True


def _setting(name: str, limit: int) -> Any:
    """A handler storing a per-language text setting (description, short description, name)."""

    def handler(tg: FakeTelegram, p: Params) -> bool:
        value = p.string(name) or ""
        if len(value) > limit:
            raise bad_request(f"{name} is too long")
        tg.bot_settings[(name, p.string("language_code") or "")] = value
        return True

    return handler


api_method("setMyDescription")(_setting("description", 512))
api_method("setMyShortDescription")(_setting("short_description", 120))
api_method("setMyName")(_setting("name", 64))


@api_method("setChatMenuButton")
def set_chat_menu_button(tg: FakeTelegram, p: Params) -> bool:
    tg.bot_settings[("menu_button", str(p.raw("chat_id") or ""))] = p.json("menu_button") or {"type": "default"}
    return True


@api_method("getChat")
def get_chat(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    chat = tg.resolve_chat(p.chat_id())
    # ChatFullInfo needs accent_color_id and max_reaction_count besides the Chat fields.
    return {**chat.to_api(), "accent_color_id": 0, "max_reaction_count": 11}


# -- interactions ----------------------------------------------------------


@api_method("answerCallbackQuery")
def answer_callback_query(tg: FakeTelegram, p: Params) -> bool:
    query = tg.callback_queries.get(p.string("callback_query_id", required=True) or "")
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    text = p.string("text")
    if text is not None and len(text) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    url = p.string("url")
    if url is not None and not url.startswith(("https://t.me/", "http://t.me/", "t.me/")):
        raise bad_request("URL_INVALID")  # only game and t.me/bot?start= links are allowed
    query.answered = True
    query.answer_text = text
    query.show_alert = p.flag("show_alert")
    query.url = url
    query.cache_time = p.integer("cache_time")
    return True


@api_method("sendChatAction")
def send_chat_action(tg: FakeTelegram, p: Params) -> bool:
    action = p.string("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat = tg.writable_chat(p.chat_id())
    chat.actions.append(action)
    return True


@api_method("getFile")
def get_file(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    stored = tg.files.get(p.string("file_id", required=True) or "")
    if stored is None:
        raise bad_request("invalid file_id")
    if stored.file_size > 20 * 1024 * 1024:
        raise bad_request("file is too big")
    return stored.file_json()
