"""The sandbox's ASGI app: the fake Telegram for the bot, and a chat page (plus its JSON API) for people.

    /bot<token>/<method>, /file/bot<token>/<path>   the Bot API, answered by faketg (the bot calls these)
    /                                                the chat page (static HTML, CSS and JS)
    /api/state                                       who one can be, unread counts, the live links
    /api/chats/<persona>                             that persona's chat with the bot (poll it)
    /api/chats/<persona>/send|tap|contact|location|photo   what a person does in the chat
    /api/demo                                        open the demo shop (through the bot)
    /media/<file path>                               photos and documents in the fake's file store
    /app/...                                         the bot's Mini App (Telegram's script: our stand-in)
    /api/webapp/<persona>?start=<payload>            init data signed for that persona, as Telegram would

The API answers only requests addressed to this machine (Host 127.0.0.1 or localhost, so another
web site cannot reach it through DNS tricks) and takes only JSON POSTs (so a form on another site
cannot post to it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import mimetypes
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.config import WebAppConfig, parse_config
from core.initdata import sign
from faketg import FakeTelegram, FakeUser
from faketg.httpio import Receive, Scope, Send, header
from faketg.markup import inline_rows
from faketg.text import CAPTION_LIMIT, TEXT_LIMIT
from faketg.updates import UpdateQueue
from runtime.livecart import Livecart
from runtime.miniapp import PAGES
from runtime.miniapp import SECURITY_HEADERS as MINIAPP_HEADERS
from sandbox.demo import DEMO_SHOP_NAME, DemoError, open_demo_shop
from sandbox.personas import PERSONAS, Persona
from sandbox.pictures import SAMPLES, product_picture
from sandbox.views import IMAGE_TYPES, MEDIA_PREFIX, commands_json, keyboard_json, media_url, message_json
from storage import Store

log = logging.getLogger(__name__)

BOT_USERNAME = "livecart_sandbox_bot"
STATIC_DIR = Path(__file__).with_name("static")
STATIC_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/static/sandbox.css": ("sandbox.css", "text/css; charset=utf-8"),
    "/static/sandbox.js": ("sandbox.js", "text/javascript; charset=utf-8"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/static/tg-webapp-standin.js": ("tg-webapp-standin.js", "text/javascript; charset=utf-8"),
}
MINIAPP_PATH = "/app/"  # the bot's Mini App, mounted here (runtime/miniapp.py)
TELEGRAM_SCRIPT = b"https://telegram.org/js/telegram-web-app.js"
# Script, styles and images only from this server; no inline script can run even if text slipped through.
SECURITY_HEADERS = [
    (b"content-security-policy", (
        b"default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        b"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]"}
MAX_BODY = 16 * 1024 * 1024  # a photo, base64-encoded
PHOTO_MAX_BYTES = 10 * 1024 * 1024
ANSWER_WAIT = 10.0  # how long a tap waits for the bot's answerCallbackQuery (its toast or alert); Telegram
# apps wait for it too, and on a loaded machine (CI runs two test passes at once) it took over 3 s
LOCATIONS = [  # offered by the page's location picker
    {"label": "上海 人民广场 · Shanghai", "latitude": 31.2304, "longitude": 121.4737},
    {"label": "宜昌 秭归 · Zigui, Yichang", "latitude": 30.8258, "longitude": 110.9778},
    {"label": "成都 春熙路 · Chengdu", "latitude": 30.6570, "longitude": 104.0817},
    {"label": "北京 国贸 · Beijing", "latitude": 39.9087, "longitude": 116.4605},
]
_CHAT_PATH = re.compile(r"^/api/chats/([a-z0-9]+)(?:/([a-z]+))?$")
_WEBAPP_PATH = re.compile(r"^/api/webapp/([a-z0-9]+)$")


class HttpError(Exception):
    """Answer the request with this status and a JSON {"error": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Sandbox:
    """The fake Telegram, the people in it, and (once started) the real bot talking to it over HTTP."""

    def __init__(self, token: str) -> None:
        self.tg = FakeTelegram(token=token, first_name="Livecart", username=BOT_USERNAME)
        # No settle hook: a person's action returns at once and the page polls for the bot's answer.
        self.tg.set_settle_hook(None)
        self.personas: dict[str, Persona] = {p.key: p for p in PERSONAS}
        self.users: dict[str, FakeUser] = {
            p.key: self.tg.user(p.first_name, username=p.username, language_code=p.language_code, phone=p.phone)
            for p in PERSONAS
        }
        self.bot: Livecart | None = None
        self._demo_lock = asyncio.Lock()
        self._static = {path: ((STATIC_DIR / name).read_bytes(), kind) for path, (name, kind) in STATIC_FILES.items()}

    async def start_bot(self, base_url: str, database: Path) -> None:
        """Start the real bot, talking to this app over HTTP at `base_url` (http://127.0.0.1:PORT)."""
        assert self.tg.token is not None
        if database.exists():
            await self._continue_update_ids(database)
        telegram = {"api_base_url": f"{base_url}/bot", "file_base_url": f"{base_url}/file/bot"}
        config = parse_config({"bot": {"token": self.tg.token}, "storage": {"database": str(database)},
                               "telegram": telegram}, env={})
        # The Mini App, served by this app (port None): the page's panel opens it.
        config = replace(config, webapp=WebAppConfig(url=f"{base_url}{MINIAPP_PATH}", port=None))
        bot = Livecart(config)
        try:
            await bot.start()
        except BaseException:
            await bot.stop()
            raise
        self.bot = bot

    async def _continue_update_ids(self, database: Path) -> None:
        """Number new updates after those a kept database has seen, as Telegram's never repeat
        (the bot drops an update whose id it already stored, as a redelivery)."""
        store = await Store.open(database)
        try:
            offset = await store.inbox.next_offset()
        finally:
            await store.close()
        if offset:
            self.tg.updates = UpdateQueue(first_update_id=offset)

    async def stop_bot(self) -> None:
        bot, self.bot = self.bot, None
        if bot is not None:
            await bot.stop()
        # The bot's last long poll may still be waiting in the fake (a closed connection does not
        # end it); a newer getUpdates ends it at once, as on Telegram, so the server can stop now.
        await self.tg.updates.poll(None, 1, 0)

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.tg(scope, receive, send)  # it completes startup and shutdown
            return
        if scope["type"] != "http":
            return
        path: str = scope.get("path", "")
        if path.startswith(("/bot", "/file/bot")):
            await self.tg(scope, receive, send)
            return
        if path.startswith(MINIAPP_PATH) and self.bot is not None and self.bot.miniapp is not None:
            await self._miniapp(scope, receive, send, path)
            return
        try:
            await self._serve_page(scope, receive, send, path)
        except HttpError as error:
            await _send_json(send, error.status, {"error": error.message})
        except Exception as exc:  # a bug here must not take the sandbox down
            log.exception("sandbox request %s failed", path)
            await _send_json(send, 500, {"error": f"the sandbox failed: {exc!r}"})

    async def _serve_page(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        host = header(scope, b"host").lower()
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if hostname not in LOCAL_HOSTS:
            raise HttpError(403, "the sandbox answers only on 127.0.0.1 / localhost")
        method = scope.get("method", "GET")
        if method == "GET":
            await self._get(scope, send, path)
            return
        if method != "POST":
            raise HttpError(405, "use GET or POST")
        if not header(scope, b"content-type").lower().startswith("application/json"):
            raise HttpError(415, "send JSON (Content-Type: application/json)")
        body = await _read_json(receive)
        await _send_json(send, 200, await self._post(path, body))

    async def _get(self, scope: Scope, send: Send, path: str) -> None:
        if path in self._static:
            data, kind = self._static[path]
            await _send(send, 200, data, kind, [(b"cache-control", b"no-cache"), *SECURITY_HEADERS])
        elif path.startswith(MEDIA_PREFIX):
            await self._media(send, path[len(MEDIA_PREFIX):])
        elif path.startswith("/samples/") and path.endswith(".png") and path[9:-4] in SAMPLES:
            data = await asyncio.to_thread(product_picture, path[9:-4])
            await _send(send, 200, data, "image/png", [(b"cache-control", b"max-age=3600"), *SECURITY_HEADERS])
        elif path == "/api/state":
            await _send_json(send, 200, await self.state())
        elif match := _WEBAPP_PATH.match(path):
            await _send_json(send, 200, self.webapp_init(self._persona(match.group(1)), _query(scope).get("start")))
        elif match := _CHAT_PATH.match(path):
            if match.group(2) is not None:
                raise HttpError(405, "use POST for chat actions")
            etag = _query(scope).get("etag")
            await _send_json(send, 200, self.chat(self._persona(match.group(1)), etag))
        else:
            raise HttpError(404, f"nothing at {path}")

    async def _media(self, send: Send, file_path: str) -> None:
        stored = self.tg.files.by_path.get(file_path)
        if stored is None:
            raise HttpError(404, "no such file")
        kind = stored.mime_type or mimetypes.guess_type(stored.file_path)[0] or ""
        extra = [(b"cache-control", b"max-age=3600"), *SECURITY_HEADERS]
        if kind not in IMAGE_TYPES:  # never let a stored file render as a page of this origin
            kind = "application/octet-stream"
            name = (stored.file_name or "file").encode("ascii", "replace").replace(b'"', b"")
            extra.append((b"content-disposition", b'attachment; filename="' + name + b'"'))
        await _send(send, 200, stored.data, kind, extra)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/api/demo":
            return await self.open_demo()
        match = _CHAT_PATH.match(path)
        if not match or match.group(2) is None:
            raise HttpError(404, f"nothing to POST at {path}")
        persona = self._persona(match.group(1))
        if self.bot is None:
            raise HttpError(503, "the bot is still starting; try again in a moment")
        action = {
            "send": self.send_text, "tap": self.tap, "contact": self.share_contact,
            "location": self.share_location, "photo": self.send_photo,
        }.get(match.group(2))
        if action is None:
            raise HttpError(404, f"no chat action {match.group(2)!r}")
        return await action(persona, body)

    def _persona(self, key: str) -> Persona:
        persona = self.personas.get(key)
        if persona is None:
            raise HttpError(404, f"no persona {key!r}; there are {', '.join(self.personas)}")
        return persona

    # ------------------------------------------------------------ reading

    async def state(self) -> dict[str, Any]:
        return {
            "bot": {"name": self.tg.bot_first_name, "username": self.tg.bot_username, "ready": self.bot is not None},
            "personas": [
                {"key": p.key, "role": p.role, "role_zh": p.role_zh, "role_en": p.role_en, "name": p.first_name,
                 "color": p.color, "language": p.language_code, "phone": p.phone,
                 "bot_messages": len(self.users[p.key].chat.bot_messages)}
                for p in PERSONAS
            ],
            "links": await self.live_links(),
            "demo_shop": DEMO_SHOP_NAME,
            "samples": [{"key": s.key, "title": s.title, "caption": s.caption, "src": f"/samples/{s.key}.png"}
                        for s in SAMPLES.values()],
            "locations": LOCATIONS,
        }

    async def live_links(self) -> list[dict[str, Any]]:
        """Every shop's filled live links: what a viewer of the stream could scan right now."""
        if self.bot is None or self.bot.store is None:
            return []
        from core.i18n import translator

        store = self.bot.store
        money = translator("zh").money
        links = []
        shops = {}
        for owner_id in sorted(await store.shops.owner_ids()):
            for membership in await store.shops.memberships(owner_id):
                if membership.is_owner:
                    shops[membership.shop.id] = membership.shop
        for shop in sorted(shops.values(), key=lambda s: s.id):
            for pin in await store.live.pins(shop.id):
                product = await store.products.get(pin.product_id) if pin.product_id else None
                if product is None:
                    continue
                photo = self.tg.files.photos.get(product.photo_file_id or "")
                thumb = next((size for size in photo if (size.width or 0) >= 200), photo[-1]) if photo else None
                links.append({
                    "shop": shop.name, "slug": shop.slug, "slot": pin.slot, "name": product.name,
                    "price": money(product.price, shop.currency), "stock": product.stock,
                    "on_sale": product.on_sale, "payload": f"l_{shop.slug}_{pin.slot}",
                    "thumb": media_url(thumb) if thumb else None,
                })
        return links

    def chat(self, persona: Persona, etag: str | None = None) -> dict[str, Any]:
        """The persona's chat as the page shows it; just the etag when nothing changed since `etag`."""
        user = self.users[persona.key]
        payload = {
            "persona": persona.key,
            "messages": [message_json(m) for m in user.chat.messages],
            "keyboard": keyboard_json(user.chat),
            "commands": commands_json(self.tg, user.id, persona.language_code),
        }
        digest = hashlib.sha1(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:20]
        if etag == digest:
            return {"etag": digest, "unchanged": True}
        return {"etag": digest, **payload}

    # ------------------------------------------------------------ what a person does

    def _hide_one_time_keyboard(self, user: FakeUser, body: dict[str, Any]) -> None:
        # A Telegram app hides a one-time keyboard once one of its keys is pressed.
        keyboard = user.chat.reply_keyboard
        if body.get("keyboard") and keyboard and keyboard.get("one_time_keyboard"):
            user.chat.reply_keyboard = None

    async def send_text(self, persona: Persona, body: dict[str, Any]) -> dict[str, Any]:
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise HttpError(400, "type a message first")
        if len(text) > TEXT_LIMIT:
            raise HttpError(400, f"a message can be at most {TEXT_LIMIT} characters")
        user = self.users[persona.key]
        self._hide_one_time_keyboard(user, body)
        message = await user.send(text.strip())
        return {"ok": True, "message_id": message.message_id}

    async def tap(self, persona: Persona, body: dict[str, Any]) -> dict[str, Any]:
        """Tap an inline button (by message and position); waits briefly for the bot's answer."""
        user = self.users[persona.key]
        message_id, row, column = (_int(body, name) for name in ("message_id", "row", "column"))
        message = user.chat.get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise HttpError(400, "that message is gone")
        rows = inline_rows(message.reply_markup)
        if not (0 <= row < len(rows) and 0 <= column < len(rows[row])):
            raise HttpError(400, "that button is gone (the message changed)")
        button = rows[row][column]
        data = button.get("callback_data")
        if not isinstance(data, str):
            raise HttpError(400, "that button does not send anything to the bot")
        query = await user.send_callback(data, message)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ANSWER_WAIT
        while not query.answered and loop.time() < deadline:
            await asyncio.sleep(0.02)
        return {"ok": True, "answered": query.answered, "text": query.answer_text or "",
                "alert": bool(query.show_alert)}

    async def _miniapp(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """The bot's Mini App, with the page loading our stand-in for Telegram's script (offline)."""
        assert self.bot is not None and self.bot.miniapp is not None
        if path in (MINIAPP_PATH, MINIAPP_PATH + "index.html") and scope.get("method") == "GET":
            page = (PAGES / "index.html").read_bytes().replace(TELEGRAM_SCRIPT, b"/static/tg-webapp-standin.js")
            await _send(send, 200, page, "text/html; charset=utf-8", [(b"cache-control", b"no-cache"),
                                                                      *MINIAPP_HEADERS])
            return
        await self.bot.miniapp(scope, receive, send)

    def webapp_init(self, persona: Persona, start: str | None) -> dict[str, Any]:
        """Init data for the persona's Mini App, signed with the bot's token as Telegram signs it."""
        user = self.users[persona.key]
        fields: dict[str, Any] = {
            "query_id": f"AAQ{user.id}", "auth_date": str(int(time.time())),
            "user": {"id": user.id, "first_name": user.first_name, "username": user.username,
                     "language_code": user.language_code, "allows_write_to_pm": True},
        }
        if start and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", start):
            fields["start_param"] = start
        assert self.tg.token is not None
        return {"init_data": sign(fields, self.tg.token)}

    async def share_contact(self, persona: Persona, body: dict[str, Any]) -> dict[str, Any]:
        user = self.users[persona.key]
        self._hide_one_time_keyboard(user, body)
        message = await user.share_contact()
        return {"ok": True, "message_id": message.message_id}

    async def share_location(self, persona: Persona, body: dict[str, Any]) -> dict[str, Any]:
        latitude, longitude = _number(body, "latitude"), _number(body, "longitude")
        if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise HttpError(400, "a location needs latitude (-90..90) and longitude (-180..180)")
        user = self.users[persona.key]
        self._hide_one_time_keyboard(user, body)
        message = await user.share_location(latitude, longitude)
        return {"ok": True, "message_id": message.message_id}

    async def send_photo(self, persona: Persona, body: dict[str, Any]) -> dict[str, Any]:
        caption = body.get("caption") or None
        if caption is not None and (not isinstance(caption, str) or len(caption) > CAPTION_LIMIT):
            raise HttpError(400, f"a caption can be at most {CAPTION_LIMIT} characters")
        sample = body.get("sample")
        if sample is not None:
            if sample not in SAMPLES:
                raise HttpError(400, f"no sample photo {sample!r}")
            data = await asyncio.to_thread(product_picture, sample)
        else:
            encoded = body.get("data")
            if not isinstance(encoded, str):
                raise HttpError(400, "send the picture as base64 in \"data\" (or a \"sample\")")
            if "," in encoded[:100]:  # a data: URL as FileReader makes it
                encoded = encoded.split(",", 1)[1]
            try:
                data = base64.b64decode(encoded, validate=True)
            except (binascii.Error, ValueError):
                raise HttpError(400, "the picture is not valid base64") from None
            if len(data) > PHOTO_MAX_BYTES:
                raise HttpError(400, "a photo can be at most 10 MB")
        try:
            message = await self.users[persona.key].send_photo(data, caption.strip() if caption else None)
        except ValueError as exc:
            raise HttpError(400, f"this picture cannot be sent: {exc}") from None
        return {"ok": True, "message_id": message.message_id}

    async def open_demo(self) -> dict[str, Any]:
        if self.bot is None:
            raise HttpError(503, "the bot is still starting; try again in a moment")
        if self._demo_lock.locked():
            raise HttpError(409, "the demo shop is being set up already")
        async with self._demo_lock:
            try:
                shop = await open_demo_shop(self.tg, self.bot, self.users["merchant"])
            except DemoError as exc:
                log.error("%s", exc)
                raise HttpError(500, str(exc)) from None
        return {"ok": True, "shop": shop.name, "slug": shop.slug, "created": shop.created,
                "links": [link for link in await self.live_links() if link["slug"] == shop.slug]}


# ---------------------------------------------------------------- HTTP plumbing

def _query(scope: Scope) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def _int(body: dict[str, Any], name: str) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise HttpError(400, f"{name} must be a whole number")
    return value


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


async def _read_json(receive: Receive) -> dict[str, Any]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise HttpError(413, "the request is too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    raw = b"".join(chunks)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise HttpError(400, "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise HttpError(400, "the request body must be a JSON object")
    return body


async def _send(send: Send, status: int, data: bytes, content_type: str,
                extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(data)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _send_json(send: Send, status: int, payload: Any) -> None:
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    await _send(send, status, data, "application/json; charset=utf-8",
                [(b"cache-control", b"no-store"), *SECURITY_HEADERS])
