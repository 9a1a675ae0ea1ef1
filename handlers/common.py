"""What every handler needs: the services, who is acting (in their language), and replies."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import CallbackQuery, Chat, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from core.callbacks import CallbackDataError, Tap, read
from core.config import Config
from core.i18n import Safe, Translator, language_for, translator
from core.telegram_text import CAPTION_LIMIT, TEXT_LIMIT, fits, split_html
from storage import Store
from storage.models import Flow, Membership, Shop, User

log = logging.getLogger(__name__)
T = TypeVar("T", bound=Tap)



@dataclass
class Services:
    """Shared by all handlers; put in bot_data by the runtime."""

    config: Config
    store: Store
    bot_username: str = ""
    # What a buyer was told, by catalog key ("buyer.sold_out"), for the runtime's metrics: handlers
    # do not import runtime/ (it imports them), so the runtime hands its counter in here.
    told: Callable[[str], None] = lambda key: None


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """The context every handler gets (the Application is built with CONTEXT_TYPES): the bot's
    services, the acting user once `actor()` has read them, and the tapped button decoded once for
    the whole update (None when it is not ours: forged, stale, garbled)."""

    __slots__ = ("_actor", "_button", "_flow")

    def __init__(self, application: Any, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self._actor: Actor | None = None
        self._button: Tap | None = None
        self._flow: Flow | None = None

    @classmethod
    def from_update(cls, update: object, application: Any) -> Context:
        context = super().from_update(update, application)
        query = update.callback_query if isinstance(update, Update) else None
        if query is not None:
            try:
                context._button = read(query.data)
            except CallbackDataError:
                context._button = None
        return context

    @property
    def services(self) -> Services:
        return self.bot_data["services"]

    @property
    def actor(self) -> Actor | None:
        """Who acts, once `await actor(update, context)` has recorded them in this update."""
        return self._actor

    @property
    def button(self) -> Tap | None:
        """The tapped button's data, typed (core/callbacks.py); None for another update or a tap
        whose data is not ours (forged, stale, garbled)."""
        return self._button

    @property
    def flow(self) -> Flow:
        """The conversation this update continues: set by handlers/flows.py before the handler of
        a step's typed input or of a button declared for a step (so they need not read it again)."""
        if self._flow is None:
            raise LookupError(type(self._button))  # a button not declared for a step (handlers/registry.py)
        return self._flow

    @flow.setter
    def flow(self, flow: Flow) -> None:
        self._flow = flow

    @property
    def has_flow(self) -> bool:
        return self._flow is not None

    def tap(self, kind: type[T]) -> T:
        """The tapped button as `kind`: the router calls a button's handler only for its own
        kind, so this is how a handler takes the typed object (and mypy knows its fields)."""
        if not isinstance(self._button, kind):
            raise CallbackDataError(f"expected a {kind.__name__} tap, got {self._button!r}")
        return self._button


CONTEXT_TYPES = ContextTypes(context=Context)


def opens_app(svc: Services, shop: Shop) -> bool:
    """Whether the shop's QR codes and posted cards open the Mini App (the shop's setting, when
    the bot has a Mini App) rather than the chat: their links then say `startapp`."""
    return bool(svc.config.webapp.url) and shop.opens_in == "app"


def query_of(update: Update) -> CallbackQuery:
    """The tap a button handler answers: the router calls button handlers only for taps, so
    this is never None there (mypy cannot know that from PTB's Optional)."""
    query = update.callback_query
    if query is None:
        raise TypeError("a button handler was called without a tap")
    return query


def chat_of(update: Update) -> Chat:
    """The chat an update came from: every update our handlers take has one (messages, taps and
    chat-member changes; a pre-checkout query is answered without it)."""
    chat = update.effective_chat
    if chat is None:
        raise TypeError("an update without a chat reached a handler that answers in it")
    return chat


def services(context: Context) -> Services:
    return context.services


@dataclass(frozen=True)
class Actor:
    """The user behind an update, with their language."""

    user: User
    t: Translator

    @property
    def id(self) -> int:
        return self.user.id


async def actor(update: Update, context: Context) -> Actor:
    """Record the sender and return them with a translator (cached for the update)."""
    cached = context.actor
    if cached is not None:
        return cached
    sender = update.effective_user
    assert sender is not None, "actor() needs an update with a sender"
    svc = services(context)
    user = await svc.store.users.seen(sender.id, sender.first_name or "", sender.username, sender.language_code)
    result = Actor(user, translator_for(user, svc.config))
    context._actor = result
    return result


def translator_for(user: User, config: Config) -> Translator:
    return translator(language_for(user.language, user.language_code, config.language))


def forget_actor(context: Context) -> None:
    """After the user changed (e.g. their language) within this update."""
    context._actor = None


async def current_membership(who: Actor, context: Context) -> Membership | None:
    """The shop the user is working on: their chosen one if still a member, else their first."""
    shops = services(context).store.shops
    if who.user.current_shop_id is not None:
        membership = await shops.membership(who.id, who.user.current_shop_id)
        if membership is not None:
            return membership
    memberships = await shops.memberships(who.id)
    return memberships[0] if memberships else None


# Inline keyboards are built as the Bot API's own JSON, not as PTB objects: they go straight into
# requests and into the outbox, and constructing and then serialising PTB objects for every
# button cost about 5% of a tap (bench/flash_sale.py).
Button = dict[str, Any]  # text and callback_data (or url, or web_app: {url})
Keyboard = dict[str, list[list[Button]]]


def button(text: str, tap: Tap) -> Button:
    return {"text": text, "callback_data": tap.pack()}


def keyboard(rows: Sequence[Sequence[Button]]) -> Keyboard:
    return {"inline_keyboard": [list(r) for r in rows if r]}


# Replies and edits go out through do_api_request, which hands back Telegram's raw JSON: nothing
# reads the Message Telegram answers with, and turning it into PTB objects was about a fifth of
# each call's cost on the hot path (bench/flash_sale.py). Raw calls get no Defaults, so the
# parse mode and the link-preview setting are spelled out here.
_NO_PREVIEW = {"is_disabled": True}


async def _call(update: Update, method: str, params: dict[str, Any]) -> None:
    await update.get_bot().do_api_request(method, api_kwargs=params)  # PTB drops the None values


def tapped_message(update: Update) -> Message | None:
    """The message the tapped button sits on; None when it is not a tap, or when Telegram no
    longer gives the message (too old: an InaccessibleMessage)."""
    query = update.callback_query
    message = query.message if query is not None else None
    return message if isinstance(message, Message) else None


async def set_buttons(update: Update, markup: Keyboard | None) -> None:
    """Change the buttons under the tapped message (None takes them off)."""
    message = tapped_message(update)
    if message is not None:
        await _call(update, "editMessageReplyMarkup",
                    {"chat_id": message.chat_id, "message_id": message.message_id, "reply_markup": markup})


async def reply(update: Update, text: str, markup: Any = None) -> None:
    """Send a new message into the chat the update came from; a text past Telegram's 4,096
    characters goes as several messages, cut at line breaks, the buttons under the last."""
    chat = update.effective_chat
    assert chat is not None
    parts = split_html(text, TEXT_LIMIT)
    for index, part in enumerate(parts, start=1):
        await _call(update, "sendMessage", {"chat_id": chat.id, "text": part, "parse_mode": ParseMode.HTML,
                                            "link_preview_options": _NO_PREVIEW,
                                            "reply_markup": markup if index == len(parts) else None})


async def show(update: Update, text: str, markup: Any = None) -> None:
    """Answer a button tap by editing the message it sits on (one call instead of a new message).

    Falls back to a new message when the old one cannot be edited (too old, or a photo card).
    """
    query = update.callback_query
    if query is None or query.message is None:
        await reply(update, text, markup)
        return
    message = query.message
    captioned = bool(getattr(message, "photo", None) or getattr(message, "document", None))
    await edit_message(update, message.message_id, text, markup, captioned=captioned)


async def edit_message(update: Update, message_id: int, text: str, markup: Any = None, *,
                       captioned: bool = False) -> None:
    """Edit an earlier message of this chat to `text` (its caption, for a photo card); a new
    message when it cannot be edited (too old, gone, or the text too long for a caption)."""
    if not fits(text, CAPTION_LIMIT if captioned else TEXT_LIMIT):
        # Too long to become this message (a caption holds 1,024 characters): say it anew.
        await reply(update, text, markup)
        return
    chat = update.effective_chat
    assert chat is not None
    where = {"chat_id": chat.id, "message_id": message_id, "parse_mode": ParseMode.HTML, "reply_markup": markup}
    try:
        if captioned:
            await _call(update, "editMessageCaption", {**where, "caption": text})
        else:
            await _call(update, "editMessageText", {**where, "text": text, "link_preview_options": _NO_PREVIEW})
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        log.info("could not edit message %s (%s); sending a new one", message_id, exc)
        await reply(update, text, markup)


async def edit_photo(update: Update, photo: str, caption: str, markup: Any = None) -> None:
    """Change the tapped photo card's picture and caption in one call (a variant with a picture
    of its own); its caption alone when the picture cannot be changed."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.message is not None and chat is not None
    media = {"type": "photo", "media": photo, "caption": caption, "parse_mode": ParseMode.HTML}
    try:
        await _call(update, "editMessageMedia", {"chat_id": chat.id, "message_id": query.message.message_id,
                                                 "media": media, "reply_markup": markup})
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            log.info("could not change the card's picture (%s); its caption changes", exc)
            await show(update, caption, markup)


async def present(update: Update, text: str, markup: Any = None, photo: str | None = None) -> None:
    """Show a card that may have a photo: edit the tapped message when its kind matches
    (text for text, photo for photo), otherwise send a new one."""
    query = update.callback_query
    message = query.message if query is not None else None
    if message is not None and bool(getattr(message, "photo", None)) == bool(photo):
        await show(update, text, markup)
        return
    chat = update.effective_chat
    assert chat is not None
    if photo and fits(text, CAPTION_LIMIT):
        await chat.send_photo(photo, caption=text, parse_mode=ParseMode.HTML, reply_markup=markup)
    elif photo:  # a caption holds 1,024 characters: the photo first, the text and buttons under it
        await chat.send_photo(photo)
        await reply(update, text, markup)
    else:
        await reply(update, text, markup)


def message_text(update: Update) -> str:
    """The text (or caption) of the update's message, stripped; "" when there is none."""
    message = update.effective_message
    if message is None:
        return ""
    return (message.text or message.caption or "").strip()


def largest_photo(update: Update) -> str | None:
    """The file_id of the largest size of the message's photo (Telegram lists them smallest first)."""
    message = update.effective_message
    if message is None or not message.photo:
        return None
    return max(message.photo, key=lambda size: size.width * size.height).file_id


def with_notice(notice: str | None, text: str) -> str:
    """A view shown again after a change, with what changed above it ("Saved.")."""
    return f"{notice}\n\n{text}" if notice else text


def chunks(lines: Sequence[str], limit: int = 4000) -> list[str]:
    """Join lines into texts that each fit one Telegram message (4096), never splitting a line."""
    texts, current = [], ""
    for line in lines:
        line = line[:limit]
        if current and len(current) + 1 + len(line) > limit:
            texts.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        texts.append(current)
    return texts


def session_title(t: Translator, title: str | None) -> Safe:
    """A live session's title as it sits in a sentence (“Spring sale” / 「春季特卖」), or nothing
    for an untitled session: the messages are written so that both read well (no dangling colon,
    no empty brackets)."""
    return Safe(t("live.title_fragment", title=title) if title else "")
