"""FakeTelegram: the ASGI app that plays the Bot API, and the state behind it.

One object is both the server (``await tg(scope, receive, send)``, usable
through ``httpx.ASGITransport`` or uvicorn) and the world a test controls:
users, chats, the update queue, the call log and injected faults.

All state lives in memory and is touched only from the event loop that runs
the app, so no locks are needed; handlers never await in the middle of a
change.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import methods_core, methods_messages, methods_payments  # noqa: F401  (register handlers)
from .errors import DEFAULT_DESCRIPTIONS, ApiError, bad_request, forbidden
from .flood import FloodControl, FloodModel
from .httpio import Receive, Scope, Send, parse_request, read_body, send_bytes, send_json
from .media import FakeFile, FileStore
from .model import CallRecord, FakeCallbackQuery, FakeChat, FakeMessage, FakePreCheckout
from .params import Params
from .registry import Described, lookup
from .updates import UpdateQueue
from .users import FakeUser

if TYPE_CHECKING:
    from .transport import FakeTelegramTransport

logger = logging.getLogger("faketg")

_API_PATH = re.compile(r"^/bot([^/]+)/([^/]+)/?$")
_FILE_PATH = re.compile(r"^/file/bot([^/]+)/(.+)$")

SettleHook = Callable[[], Awaitable[None]]


@dataclass
class _Fault:
    method: str | None  # lower-case; None matches every method
    chat_id: int | str | None
    error: ApiError
    times: int


@dataclass
class _Delay:
    method: str | None
    seconds: float
    times: int
    after: bool  # True: apply the call, then answer late


def _loose_chat_id(value: Any) -> int | str | None:
    """chat_id for the call log, without failing on odd input."""
    if value is None or isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return str(value)


class FakeTelegram:
    """A fake Telegram Bot API server for tests and sandboxes.

    ``token`` makes the server refuse other tokens with 401 (by default any
    token is accepted, and recorded in :attr:`tokens_seen`).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_id: int = 7000000001,
        first_name: str = "Livecart",
        username: str = "livecart_test_bot",
        privacy_mode: bool = True,
        check_webhook_ports: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_id = bot_id
        self.bot_first_name = first_name
        self.bot_username = username
        self.privacy_mode = privacy_mode  # in groups the bot sees only commands, replies and mentions
        self.check_webhook_ports = check_webhook_ports
        self._clock = clock

        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.files = FileStore()
        self.updates = UpdateQueue()
        self.calls: list[CallRecord] = []
        self.callback_queries: dict[str, FakeCallbackQuery] = {}
        self.pre_checkouts: dict[str, FakePreCheckout] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.bot_settings: dict[tuple[str, str], Any] = {}
        self.webhook: dict[str, Any] = {"url": "", "secret_token": None, "allowed_updates": None, "max_connections": 40}
        self.tokens_seen: set[str] = set()
        self.internal_errors: list[BaseException] = []  # bugs in the fake itself; tests should assert it is empty
        self.paid_broadcasts = 0  # sendMessage calls with allow_paid_broadcast
        self.file_id_sends = 0  # files sent again by file_id (no upload)
        self.uploaded_bytes = 0
        self._uploads = 0
        self._in_flight = 0
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._settle_hook: SettleHook | None = None
        self.flood: FloodControl | None = None  # Telegram's flood control; off unless a test turns it on
        self._user_ids = itertools.count(10001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(4000000000000001)
        self._charges = itertools.count(1)
        self._media_groups = itertools.count(13000000000000001)

    # ------------------------------------------------------------------ ASGI

    @property
    def app(self) -> FakeTelegram:
        """The ASGI application (the object itself)."""
        return self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets are not part of the Bot API
        path = scope.get("path", "")
        if match := _FILE_PATH.match(path):
            await self._serve_file(send, *match.groups())
        elif match := _API_PATH.match(path):
            await self._serve_api(scope, receive, send, *match.groups())
        else:
            await send_json(send, 404, {"ok": False, "error_code": 404, "description": "Not Found"})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _serve_file(self, send: Send, token: str, file_path: str) -> None:
        self.tokens_seen.add(token)
        if self.token is not None and token != self.token:
            await send_json(send, 401, ApiError(401, "Unauthorized").to_json())
            return
        stored = self.files.by_path.get(file_path)
        if stored is None:
            await send_json(send, 404, ApiError(404, "Not Found").to_json())
            return
        await send_bytes(send, 200, stored.data, stored.mime_type or "application/octet-stream")

    async def _serve_api(self, scope: Scope, receive: Receive, send: Send, token: str, method: str) -> None:
        body = await read_body(receive)
        self.tokens_seen.add(token)
        record = CallRecord(method=method, params={}, files={}, chat_id=None, time=self._clock(), token=token)
        self.calls.append(record)
        self._in_flight += 1
        try:
            if self.token is not None and token != self.token:
                raise ApiError(401, "Unauthorized")
            request = parse_request(scope, body)
            record.params = request.values
            record.chat_id = _loose_chat_id(request.values.get("chat_id"))
            record.files = {name: len(part.data) for name, part in request.files.items()}
            self._uploads += len(request.files)
            self.uploaded_bytes += sum(record.files.values())
            found = lookup(method)
            if found is None:
                raise ApiError(404, "Not Found")
            record.method, handler = found
            await self._delay(record, after=False)
            self._raise_fault(record)
            if self.flood is not None:
                self.flood.check(record.method, record.chat_id)
            result = handler(self, Params(request.values, request.files))
            if inspect.isawaitable(result):
                result = await result
            reply: dict[str, Any] = {"ok": True}
            if isinstance(result, Described):
                reply["description"] = result.description
                result = result.result
            reply["result"] = result
            record.ok, record.result = True, result
            status = 200
            await self._delay(record, after=True)
        except ApiError as error:
            record.error_code, record.description = error.error_code, error.description
            reply, status = error.to_json(), error.error_code
        except asyncio.CancelledError:
            # The client gave up (a timeout, or PTB stopping its long poll).
            record.description = ((record.description or "") + " (client gave up before the answer)").strip()
            raise
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test to see
            logger.exception("faketg crashed in %s", method)
            self.internal_errors.append(exc)
            record.error_code, record.description = 500, f"Internal Server Error: faketg crashed: {exc!r}"
            reply, status = {"ok": False, "error_code": 500, "description": record.description}, 500
        finally:
            self._in_flight -= 1
        await send_json(send, status, reply)

    # ------------------------------------------------------ flood control

    def limit_flood(self, model: str | FloodModel | None = "documented") -> FloodControl | None:
        """Answer 429 past Telegram's limits, by the named model (faketg/flood.py); None: off."""
        if model is None:
            self.flood = None
        else:
            self.flood = FloodControl(model if isinstance(model, FloodModel) else FloodModel(model), self._clock)
        return self.flood

    # ------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | None = None,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Make the next ``times`` matching calls fail like Telegram would.

        ``method`` None matches every method.  A 429 carries
        ``parameters.retry_after`` (default 1 s).  The failed calls change
        nothing, as with a real flood-wait.
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if error_code == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
        error = ApiError(error_code, description, retry_after=retry_after)
        self._faults.append(_Fault(method.lower() if method else None, chat_id, error, times))

    def delay_next(
        self, method: str | None = None, seconds: float = 10.0, *, times: int = 1, after: bool = False
    ) -> None:
        """Answer the next matching calls ``seconds`` late.

        With ``after=False`` the call takes effect only after the delay (a
        client that gives up first changes nothing); with ``after=True`` it
        takes effect at once and only the answer is late: the classic "timed
        out, but the message was sent" case.
        """
        self._delays.append(_Delay(method.lower() if method else None, seconds, times, after))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def _raise_fault(self, record: CallRecord) -> None:
        for fault in self._faults:
            if fault.method not in (None, record.method.lower()):
                continue
            if fault.chat_id is not None and fault.chat_id != record.chat_id:
                continue
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)
            raise fault.error

    async def _delay(self, record: CallRecord, *, after: bool) -> None:
        for delay in self._delays:
            if delay.after == after and delay.method in (None, record.method.lower()):
                delay.times -= 1
                if delay.times <= 0:
                    self._delays.remove(delay)
                await asyncio.sleep(delay.seconds)
                return

    # ------------------------------------------------- state used by methods

    def now(self) -> int:
        return int(self._clock())

    def bot_user(self, *, full: bool = False) -> dict[str, Any]:
        """The bot as a User object (``full``: with getMe's capability flags)."""
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if full:
            user.update(
                can_join_groups=True,
                can_read_all_group_messages=not self.privacy_mode,
                supports_inline_queries=False,
                can_connect_to_business=False,
                has_main_web_app=False,
            )
        return user

    def user_json(self, user_id: int) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        return user.to_api() if user else None

    def resolve_chat(self, chat_id: int | str) -> FakeChat:
        """The chat a chat_id designates, or Telegram's "chat not found"."""
        if isinstance(chat_id, str):
            name = chat_id.lstrip("@").lower()
            for chat in self.chats.values():
                if chat.type != "private" and (chat.username or "").lower() == name:
                    return chat
            raise bad_request("chat not found")
        found = self.chats.get(chat_id)
        if found is None:
            raise bad_request("chat not found")
        return found

    def writable_chat(self, chat_id: int | str) -> FakeChat:
        """A chat the bot may send to now (a private chat's user may refuse)."""
        chat = self.resolve_chat(chat_id)
        user = chat.user
        if chat.type == "private" and user is not None:
            if user.deactivated:
                raise forbidden("user is deactivated")
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
        return chat

    def post_bot_message(
        self, chat: FakeChat, *, reply_markup: dict[str, Any] | None = None, **fields: Any
    ) -> FakeMessage:
        """Store a message the bot sent; custom keyboards change the chat's keyboard."""
        inline = reply_markup if reply_markup and "inline_keyboard" in reply_markup else None
        custom = reply_markup if reply_markup and "inline_keyboard" not in reply_markup else None
        message = FakeMessage(
            chat=chat,
            message_id=chat.next_message_id(),
            date=self.now(),
            sender=self.bot_user(),
            from_bot=True,
            reply_markup=inline,
            custom_keyboard=custom,
            **fields,
        )
        chat.all_messages.append(message)
        if custom is not None:
            if "keyboard" in custom:
                chat.reply_keyboard = custom
            elif custom.get("remove_keyboard"):
                chat.reply_keyboard = None
        return message

    # ------------------------------------------- plumbing for FakeUser actions

    def post_user_message(self, user: FakeUser, chat: FakeChat, **fields: Any) -> FakeMessage:
        message = FakeMessage(
            chat=chat, message_id=chat.next_message_id(), date=self.now(),
            sender=user.to_api(), from_bot=False, **fields,
        )
        chat.all_messages.append(message)
        return message

    def bot_sees(self, message: FakeMessage) -> bool:
        """Whether a user's message reaches the bot (group privacy mode)."""
        if message.chat.type == "private" or not self.privacy_mode or message.chat.bot_admin:
            return True
        text = message.text or ""
        replied_to_bot = message.reply_to is not None and message.reply_to.from_bot
        return text.startswith("/") or replied_to_bot or f"@{self.bot_username}".lower() in text.lower()

    def push_update(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue an update (update_id assigned here) for getUpdates."""
        if self.flood is not None:
            for body in payload.values():
                chat = (body.get("message") or body).get("chat") if isinstance(body, dict) else None
                if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                    self.flood.heard_from(chat["id"])
        return self.updates.push(payload)

    def new_query_id(self) -> str:
        return str(next(self._query_ids))

    def new_charge_number(self) -> int:
        return next(self._charges)

    def new_media_group_id(self) -> str:
        return str(next(self._media_groups))

    def set_settle_hook(self, hook: SettleHook | None) -> None:
        """Set what ``settle()`` awaits after each user action (e.g. "until the bot is idle")."""
        self._settle_hook = hook

    async def settle(self) -> None:
        """Let the bot react to what just happened (no-op without a hook)."""
        if self._settle_hook is not None:
            await self._settle_hook()

    # ------------------------------------------------------------- test API

    def user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        phone: str | None = None,
        started: bool = True,
        is_premium: bool = False,
    ) -> FakeUser:
        """A new Telegram user (ids from 10001) with a private chat with the bot.

        ``started=False`` models someone who never pressed Start: the bot
        gets 403 when it writes first.
        """
        user_id = next(self._user_ids)
        user = FakeUser(
            self, user_id, first_name, last_name=last_name, username=username,
            language_code=language_code, phone=phone, started=started, is_premium=is_premium,
        )
        self.users[user_id] = user
        self.chats[user_id] = user.chat
        return user

    def group(self, title: str, *members: FakeUser, username: str | None = None, supergroup: bool = True) -> FakeChat:
        """A group (the bot is a member) with the given users in it."""
        n = next(self._group_ids)
        chat_id = -(1001000000000 + n) if supergroup else -(4000000000 + n)
        chat = FakeChat(
            id=chat_id, type="supergroup" if supergroup else "group", title=title,
            username=username, members=list(members),
        )
        self.chats[chat_id] = chat
        return chat

    def channel(self, title: str, username: str | None = None) -> FakeChat:
        """A channel; the bot posts there once a user adds it as an administrator (FakeUser.add_bot)."""
        n = next(self._group_ids)
        chat = FakeChat(id=-(1002000000000 + n), type="channel", title=title, username=username)
        self.chats[chat.id] = chat
        return chat

    def chat(self, chat_id: int) -> FakeChat:
        if chat_id not in self.chats:
            raise AssertionError(f"no chat {chat_id}; known chats: {sorted(self.chats)}")
        return self.chats[chat_id]

    def file(self, file_id: str) -> FakeFile:
        stored = self.files.get(file_id)
        if stored is None:
            raise AssertionError(f"no file {file_id!r}")
        return stored

    @property
    def uploads(self) -> int:
        """How many files the bot uploaded (file parts actually received)."""
        return self._uploads

    def count(self, method: str | None = None, chat_id: int | str | None = None, *, ok: bool | None = None) -> int:
        """How many calls match (method case-insensitive; None matches all)."""
        return len(self.calls_of(method, chat_id, ok=ok))

    def calls_of(
        self, method: str | None = None, chat_id: int | str | None = None, *, ok: bool | None = None
    ) -> list[CallRecord]:
        return [
            call for call in self.calls
            if (method is None or call.method.lower() == method.lower())
            and (chat_id is None or call.chat_id == chat_id)
            and (ok is None or call.ok == ok)
        ]

    def sent_to(self, chat_id: int) -> list[FakeMessage]:
        """Every message the bot sent to a chat, including later-deleted ones."""
        chat = self.chats.get(chat_id)
        return [m for m in chat.all_messages if m.from_bot] if chat else []

    @property
    def in_flight(self) -> int:
        """API calls being answered right now (a long-polling getUpdates counts too)."""
        return self._in_flight

    def pending_updates(self) -> int:
        """Updates not yet confirmed by a getUpdates offset."""
        return len(self.updates)

    def get_commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, Any]]:
        """Commands set with setMyCommands for a scope and language."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True)
        return self.commands.get((key, language_code), [])

    def transport(self) -> FakeTelegramTransport:
        """An httpx transport to this app that honours read timeouts (see transport.py)."""
        from .transport import FakeTelegramTransport

        return FakeTelegramTransport(app=self)

    async def post_update_to_webhook(self, url: str, secret_token: str | None = None) -> None:
        """Webhook delivery; planned for the browser sandbox."""
        raise NotImplementedError("faketg does not deliver to webhooks yet")
