"""What the fake Telegram remembers: chats, messages and interaction records.

These are the objects tests look at.  A :class:`FakeMessage` keeps the
*display* text (what the user reads, tags removed and references decoded)
plus its entities, so a test can tell "the product name was escaped" from
"the product name was rendered as markup".
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .markup import find_button, inline_rows
from .media import FakeFile
from .text import entity_text

if TYPE_CHECKING:
    from .users import FakeUser


@dataclass(eq=False, repr=False)
class FakeMessage:
    """One message in a chat, sent by the bot or by a user."""

    chat: FakeChat
    message_id: int
    date: int
    sender: dict[str, Any]  # a Bot API User object
    from_bot: bool
    body: str | None = None  # the text of a text message
    caption: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)  # of the text or the caption
    source: str | None = None  # the text/caption parameter exactly as the bot sent it
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # inline keyboard only
    custom_keyboard: dict[str, Any] | None = None  # reply keyboard / remove / force_reply sent with it
    photo_sizes: list[FakeFile] | None = None  # PhotoSize set, smallest first
    document: FakeFile | None = None
    contact: dict[str, Any] | None = None
    location: dict[str, Any] | None = None
    invoice: dict[str, Any] | None = None  # Bot API Invoice object
    invoice_details: dict[str, Any] | None = None  # payload, prices, provider_token ... (not shown to users)
    successful_payment: dict[str, Any] | None = None
    reply_to: FakeMessage | None = None
    media_group_id: str | None = None
    edit_date: int | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first

    # -- what a test reads -------------------------------------------------

    @property
    def text(self) -> str | None:
        """Text of a text message, or the caption of a media message."""
        return self.body if self.body is not None else self.caption

    @property
    def html(self) -> str | None:
        """The source as the bot sent it (HTML when parse_mode was HTML)."""
        return self.source

    @property
    def edited(self) -> bool:
        return self.edit_date is not None

    @property
    def photo(self) -> FakeFile | None:
        """The photo's largest size (what a user sees); all sizes are in ``photo_sizes``."""
        return self.photo_sizes[-1] if self.photo_sizes else None

    @property
    def kind(self) -> str:
        for name in ("photo", "document", "invoice", "successful_payment", "contact", "location"):
            if getattr(self, name) is not None:
                return name
        return "text" if self.body is not None else "other"

    @property
    def buttons(self) -> list[list[str]]:
        """Inline keyboard as rows of button texts."""
        return [[button["text"] for button in row] for row in inline_rows(self.reply_markup)]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button with this text (or the only one containing it)."""
        found = find_button(inline_rows(self.reply_markup), text)
        if found is None:
            raise AssertionError(f"no button {text!r} in {self}")
        return found

    def callback_data(self, text: str) -> str:
        data = self.button(text).get("callback_data")
        if not isinstance(data, str):
            raise AssertionError(f"button {text!r} has no callback_data: {self.button(text)}")
        return data

    def entities_of(self, kind: str) -> list[str]:
        """The texts covered by entities of one type, e.g. ``entities_of("bold")``."""
        return [entity_text(self.text or "", e) for e in self.entities if e["type"] == kind]

    # -- Bot API shape ------------------------------------------------------

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        """The Message object as the Bot API returns it."""
        message: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        if self.reply_to is not None and with_reply:
            message["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.media_group_id is not None:
            message["media_group_id"] = self.media_group_id
        if self.body is not None:
            message["text"] = self.body
            if self.entities:
                message["entities"] = self.entities
        if self.photo_sizes is not None:
            message["photo"] = [size.photo_size_json() for size in self.photo_sizes]
        if self.document is not None:
            message["document"] = self.document.document_json()
        if self.caption is not None:
            message["caption"] = self.caption
            if self.entities:
                message["caption_entities"] = self.entities
        for name in ("contact", "location", "invoice", "successful_payment"):
            value = getattr(self, name)
            if value is not None:
                message[name] = value
        # Only inline keyboards are part of a Message; reply keyboards are not.
        if self.reply_markup and "inline_keyboard" in self.reply_markup:
            message["reply_markup"] = {"inline_keyboard": self.reply_markup["inline_keyboard"]}
        return message

    def snapshot(self) -> dict[str, Any]:
        """The editable content, to compare edits and to keep history."""
        return {
            "body": self.body,
            "caption": self.caption,
            "entities": self.entities,
            "reply_markup": self.reply_markup,
            "photo": [size.file_id for size in self.photo_sizes] if self.photo_sizes else None,
            "document": self.document.file_id if self.document else None,
            "edit_date": self.edit_date,
        }

    def __str__(self) -> str:
        who = "bot" if self.from_bot else self.sender.get("first_name", "user")
        flags = "".join(
            [" (edited)" if self.edited else "", " (deleted)" if self.deleted else ""]
        )
        content = self.text if self.text is not None else f"<{self.kind}>"
        if self.kind not in ("text", "other"):
            content = f"<{self.kind}> {self.text or ''}".rstrip()
        lines = [f"#{self.message_id} {who}{flags}: {textwrap.shorten(content, 300, placeholder=' …')}"]
        for row in self.buttons:
            lines.append("    " + " ".join(f"[{text}]" for text in row))
        return "\n".join(lines)

    __repr__ = __str__


@dataclass(eq=False, repr=False)
class FakeChat:
    """A chat as the bot sees it: a user's private chat or a group."""

    id: int
    type: str  # "private", "group" or "supergroup"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    user: FakeUser | None = None  # the other side of a private chat
    all_messages: list[FakeMessage] = field(default_factory=list)  # including deleted ones
    reply_keyboard: dict[str, Any] | None = None  # the custom keyboard currently shown
    actions: list[str] = field(default_factory=list)  # sendChatAction history
    members: list[FakeUser] = field(default_factory=list)
    bot_admin: bool = False  # an administrator bot reads every message of a group (no privacy mode)
    _last_message_id: int = 0

    def next_message_id(self) -> int:
        # Per-chat counter from 1, shared by both sides, as in private chats.
        self._last_message_id += 1
        return self._last_message_id

    @property
    def messages(self) -> list[FakeMessage]:
        """Everything visible in the chat, in order (deleted messages gone)."""
        return [m for m in self.all_messages if not m.deleted]

    @property
    def bot_messages(self) -> list[FakeMessage]:
        return [m for m in self.messages if m.from_bot]

    @property
    def last(self) -> FakeMessage | None:
        """The newest visible bot message."""
        bot_messages = self.bot_messages
        return bot_messages[-1] if bot_messages else None

    def get(self, message_id: int) -> FakeMessage | None:
        for message in self.all_messages:
            if message.message_id == message_id:
                return message
        return None

    @property
    def reply_keyboard_buttons(self) -> list[list[str]]:
        if not self.reply_keyboard:
            return []
        return [[button["text"] for button in row] for row in self.reply_keyboard["keyboard"]]

    def to_api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name", "last_name"):
            value = getattr(self, name)
            if value is not None:
                chat[name] = value
        return chat

    def transcript(self) -> str:
        """The visible conversation, one message per block, for failure output."""
        return "\n".join(str(message) for message in self.messages) or "(no messages)"

    def __str__(self) -> str:
        name = self.title or self.first_name or str(self.id)
        return f"FakeChat({self.type} {name} #{self.id}, {len(self.messages)} messages)"

    __repr__ = __str__


@dataclass(eq=False)
class FakeCallbackQuery:
    """A button tap and, once the bot calls answerCallbackQuery, its answer."""

    id: str
    user: FakeUser = field(repr=False)
    message: FakeMessage = field(repr=False)
    data: str
    update_id: int = 0
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    url: str | None = None
    cache_time: int | None = None


@dataclass(eq=False)
class FakePreCheckout:
    """A pre_checkout_query and the bot's answerPreCheckoutQuery."""

    id: str
    user: FakeUser = field(repr=False)
    invoice_message: FakeMessage = field(repr=False)
    currency: str
    total_amount: int
    invoice_payload: str
    update_id: int = 0
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None


@dataclass
class CallRecord:
    """One Bot API call as the fake received and answered it."""

    method: str  # canonical spelling, e.g. "sendMessage" (as sent if unknown)
    params: dict[str, Any]  # raw values: strings for form/multipart requests
    files: dict[str, int]  # uploaded part name -> size in bytes
    chat_id: int | str | None
    time: float
    token: str
    ok: bool = False
    error_code: int | None = None
    description: str | None = None
    result: Any = None

    def __str__(self) -> str:
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        return f"{self.method}(chat_id={self.chat_id}) -> {outcome}"
