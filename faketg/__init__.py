"""faketg: a fake Telegram Bot API server for Livecart's tests and sandbox.

Tests run the real python-telegram-bot against it with no network::

    tg = FakeTelegram()
    bot = Bot("123:ABC", base_url="http://faketg/bot", base_file_url="http://faketg/file/bot",
              request=HTTPXRequest(httpx_kwargs={"transport": httpx.ASGITransport(app=tg)}))
    ann = tg.user("Ann")
    await ann.send("/start")
    ...
    assert "Welcome" in ann.last.text

``FakeTelegram`` is a plain ASGI 3 app, so it can also be served over real
HTTP, e.g. ``uvicorn --factory faketg:FakeTelegram``.  The state is meant for
one event loop: drive users from the loop that serves the app.

Modules: ``server`` (the app and the test API), ``users`` (FakeUser actions),
``model`` (chats, messages, records), ``methods_*`` (the Bot API methods),
``html``/``text`` (Telegram's formatting rules), ``markup`` (keyboards),
``media`` (files), ``updates`` (getUpdates), ``httpio``/``params`` (requests),
``transport`` (an httpx transport that honours timeouts).
"""

from .errors import ApiError
from .html import HtmlParseError, parse_html
from .media import FakeFile, make_png
from .model import CallRecord, FakeCallbackQuery, FakeChat, FakeMessage, FakePreCheckout
from .server import FakeTelegram
from .text import entity_text, utf16_len
from .users import FakeUser

__all__ = [
    "ApiError",
    "CallRecord",
    "FakeCallbackQuery",
    "FakeChat",
    "FakeFile",
    "FakeMessage",
    "FakePreCheckout",
    "FakeTelegram",
    "FakeUser",
    "HtmlParseError",
    "entity_text",
    "make_png",
    "parse_html",
    "utf16_len",
]
