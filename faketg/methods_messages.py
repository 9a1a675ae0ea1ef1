"""Sending, editing and deleting messages.

Validation follows the Bot API's order: parameters first (markup, text),
then the chat, so an empty text to an unknown chat reports the text.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from .errors import EDIT_NOT_MODIFIED, bad_request
from .markup import parse_reply_markup
from .media import FakeFile
from .model import FakeChat, FakeMessage
from .params import FileRef, Params
from .registry import api_method
from .text import format_text

if TYPE_CHECKING:
    from .server import FakeTelegram

# -- shared pieces ---------------------------------------------------------


def _formatted(
    tg: FakeTelegram, p: Params, name: str, entities_name: str, field: str
) -> tuple[str, list[dict[str, Any]]]:
    """(display text, entities) of the text or caption parameter."""
    return format_text(
        p.string(name) or "",
        p.string("parse_mode"),
        p.json(entities_name),
        field=field,
        resolve_user=tg.user_json,
    )


def _caption(tg: FakeTelegram, p: Params) -> tuple[str | None, list[dict[str, Any]]]:
    caption, entities = _formatted(tg, p, "caption", "caption_entities", "caption")
    return (caption or None), entities


def _reply_target(chat: FakeChat, p: Params) -> FakeMessage | None:
    """The message a send replies to (reply_parameters or legacy reply_to_message_id)."""
    parameters = p.json("reply_parameters")
    if parameters is None and p.has("reply_to_message_id"):
        parameters = {"message_id": p.integer("reply_to_message_id")}
    if not parameters:
        return None
    if not isinstance(parameters, dict):
        raise bad_request("can't parse reply parameters JSON object")
    target = chat.get(parameters.get("message_id", 0))
    if target is None or target.deleted:
        if parameters.get("allow_sending_without_reply") or p.flag("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return target


def _photo(tg: FakeTelegram, ref: FileRef | None) -> list[FakeFile]:
    if ref is None:
        raise bad_request("there is no photo in the request")
    if ref.kind == "upload":
        assert ref.upload is not None
        return tg.files.add_photo(ref.upload.data)
    if ref.kind == "url":
        raise bad_request("failed to get HTTP URL content")  # the fake has no network
    photo = tg.files.photos.get(ref.value)
    if photo is None:
        known = tg.files.get(ref.value)
        if known is not None:
            raise bad_request("can't use file of type Document as Photo")
        raise bad_request("wrong file identifier/HTTP URL specified")
    tg.file_id_sends += 1
    return photo


def _document(tg: FakeTelegram, ref: FileRef | None) -> FakeFile:
    if ref is None:
        raise bad_request("there is no document in the request")
    if ref.kind == "upload":
        assert ref.upload is not None
        return tg.files.add_document(ref.upload.data, ref.upload.filename, ref.upload.content_type)
    if ref.kind == "url":
        raise bad_request("failed to get HTTP URL content")
    known = tg.files.get(ref.value)
    if known is None:
        raise bad_request("wrong file identifier/HTTP URL specified")
    if known.kind != "document":
        raise bad_request("can't use file of type Photo as Document")
    tg.file_id_sends += 1
    return known


def _post(tg: FakeTelegram, p: Params, markup: dict[str, Any] | None, **content: Any) -> dict[str, Any]:
    """Resolve the chat, store the bot's message, return it as the API does."""
    chat = tg.writable_chat(p.chat_id())
    message = tg.post_bot_message(chat, reply_markup=markup, reply_to=_reply_target(chat, p), **content)
    return message.to_api()


# -- sending ---------------------------------------------------------------


@api_method("sendMessage")
def send_message(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"))
    text, entities = _formatted(tg, p, "text", "entities", "text")
    if p.flag("allow_paid_broadcast"):  # sendMessage only; Telegram charges Stars past the free limit
        tg.paid_broadcasts += 1
    return _post(
        tg, p, markup, body=text, entities=entities, source=p.string("text"), parse_mode=p.string("parse_mode")
    )


@api_method("sendPhoto")
def send_photo(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"))
    caption, entities = _caption(tg, p)
    tg.writable_chat(p.chat_id())  # refuse before storing an upload for nobody
    photo = _photo(tg, p.file_ref("photo"))
    return _post(
        tg, p, markup, photo_sizes=photo, caption=caption, entities=entities,
        source=p.string("caption"), parse_mode=p.string("parse_mode"),
    )


@api_method("sendDocument")
def send_document(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"))
    caption, entities = _caption(tg, p)
    tg.writable_chat(p.chat_id())
    document = _document(tg, p.file_ref("document"))
    return _post(
        tg, p, markup, document=document, caption=caption, entities=entities,
        source=p.string("caption"), parse_mode=p.string("parse_mode"),
    )


def _media_item(tg: FakeTelegram, p: Params, item: Any) -> dict[str, Any]:
    """Validate one InputMedia object; return the message content it makes."""
    if not isinstance(item, dict) or item.get("type") not in ("photo", "document"):
        kind = item.get("type") if isinstance(item, dict) else None
        raise bad_request(f"faketg supports only photo and document media, not {kind!r}")
    caption, entities = format_text(
        item.get("caption") or "", item.get("parse_mode"), item.get("caption_entities"),
        field="caption", resolve_user=tg.user_json,
    )
    ref = p.file_ref(item["type"], item.get("media"))
    content: dict[str, Any] = {
        "caption": caption or None, "entities": entities,
        "source": item.get("caption"), "parse_mode": item.get("parse_mode"),
    }
    if item["type"] == "photo":
        content["photo_sizes"] = _photo(tg, ref)
    else:
        content["document"] = _document(tg, ref)
    return content


@api_method("sendMediaGroup")
def send_media_group(tg: FakeTelegram, p: Params) -> list[dict[str, Any]]:
    media = p.json("media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media in the album: must be between 2 and 10")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if "document" in kinds and len(kinds) > 1:
        raise bad_request("document can't be mixed with other media types")
    chat = tg.writable_chat(p.chat_id())
    contents = [_media_item(tg, p, item) for item in media]
    reply_to = _reply_target(chat, p)
    group_id = tg.new_media_group_id()
    return [
        tg.post_bot_message(chat, reply_to=reply_to, media_group_id=group_id, **content).to_api()
        for content in contents
    ]


# -- editing ---------------------------------------------------------------


def _editable(tg: FakeTelegram, p: Params) -> FakeMessage:
    """The bot's own message that an edit* call designates."""
    if p.has("inline_message_id"):
        raise bad_request("faketg does not implement inline messages (inline_message_id)")
    if not p.has("chat_id") or not p.has("message_id"):
        raise bad_request("message identifier is not specified")
    chat = tg.writable_chat(p.chat_id())
    message = chat.get(p.integer("message_id") or 0)
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _apply_edit(tg: FakeTelegram, message: FakeMessage, **changes: Any) -> dict[str, Any]:
    """Apply an edit unless it changes nothing (which Telegram refuses)."""
    before = message.snapshot()
    if dataclasses.replace(message, **changes).snapshot() == before:
        raise bad_request(EDIT_NOT_MODIFIED)
    message.history.append(before)
    for name, value in changes.items():
        setattr(message, name, value)
    message.edit_date = tg.now()
    return message.to_api()


@api_method("editMessageText")
def edit_message_text(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"), inline_only=True)
    text, entities = _formatted(tg, p, "text", "entities", "text")
    message = _editable(tg, p)
    if message.body is None:
        raise bad_request("there is no text in the message to edit")
    # Leaving reply_markup out removes the inline keyboard, as in Telegram.
    return _apply_edit(
        tg, message, body=text, entities=entities, reply_markup=markup,
        source=p.string("text"), parse_mode=p.string("parse_mode"),
    )


@api_method("editMessageCaption")
def edit_message_caption(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"), inline_only=True)
    caption, entities = _caption(tg, p)
    message = _editable(tg, p)
    if message.photo_sizes is None and message.document is None:
        raise bad_request("there is no caption in the message to edit")
    return _apply_edit(
        tg, message, caption=caption, entities=entities, reply_markup=markup,
        source=p.string("caption"), parse_mode=p.string("parse_mode"),
    )


@api_method("editMessageReplyMarkup")
def edit_message_reply_markup(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"), inline_only=True)
    message = _editable(tg, p)
    return _apply_edit(tg, message, reply_markup=markup)


@api_method("editMessageMedia")
def edit_message_media(tg: FakeTelegram, p: Params) -> dict[str, Any]:
    markup = parse_reply_markup(p.json("reply_markup"), inline_only=True)
    media = p.json("media")
    if media is None:
        raise bad_request('parameter "media" is required')
    message = _editable(tg, p)
    content = _media_item(tg, p, media)
    # A text message may become a media message; the old text goes away.
    changes: dict[str, Any] = {"body": None, "photo_sizes": None, "document": None, "reply_markup": markup, **content}
    return _apply_edit(tg, message, **changes)


@api_method("deleteMessage")
def delete_message(tg: FakeTelegram, p: Params) -> bool:
    chat = tg.resolve_chat(p.chat_id())
    message = chat.get(p.integer("message_id", required=True) or 0)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    if not message.from_bot and chat.type != "private":
        raise bad_request("message can't be deleted")
    message.deleted = True
    return True


@api_method("deleteMessages")
def delete_messages(tg: FakeTelegram, p: Params) -> bool:
    chat = tg.resolve_chat(p.chat_id())
    ids = p.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must be a non-empty array of at most 100 identifiers")
    # Telegram skips the ones it cannot find and still answers True.
    for message_id in ids:
        message = chat.get(message_id)
        if message is not None and (message.from_bot or chat.type == "private"):
            message.deleted = True
    return True
