"""The Mini App's HTTP side: its pages (miniapp/) and its JSON API, as one small ASGI app.

Served by the webhook's server in webhook mode (under `webapp.url`'s path), and by a server of its
own on `webapp.listen`:`webapp.port` in polling mode; off when `webapp.url` is not set.

Every API call carries the page's init data (`Authorization: tma <initData>`), checked as
Telegram documents (core/initdata.py) before anything is read or changed: missing, forged,
altered or expired init data get 401 and change nothing. The pages themselves and product photos
are public, as the shop's links are: a photo is fetched from Telegram once (getFile) and kept in
memory, by product, for the next buyers.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from core.initdata import InitDataRefused, verify
from handlers import miniapp as api
from handlers.abuse import FloodGate
from handlers.common import Services
from runtime.asgi import answer_lifespan

log = logging.getLogger(__name__)

PAGES = Path(__file__).resolve().parent.parent / "miniapp"
STATIC = {"": ("index.html", "text/html; charset=utf-8"), "index.html": ("index.html", "text/html; charset=utf-8"),
          "app.js": ("app.js", "text/javascript; charset=utf-8"), "app.css": ("app.css", "text/css; charset=utf-8")}
MAX_BODY = 16 * 1024  # a checkout with 20 lines and an address is ~2 KB
PHOTOS_KEPT = 128  # product photos held in memory (~100 KB each at Telegram's largest size)
# The page loads Telegram's script and nothing else from elsewhere; photos are ours.
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; script-src 'self' https://telegram.org; "
                                 b"img-src 'self' data:; style-src 'self'; connect-src 'self'; frame-ancestors *"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]

Call = Callable[[Services, api.Buyer, dict[str, str], dict[str, Any]], Awaitable[dict[str, Any]]]
# The API: GET calls read (the shop's slug in ?shop=), POST calls act on a JSON body; the bag's
# call is the server's own (it keeps a cache: MiniAppServer).
CALLS: dict[tuple[str, str], Call] = {
    ("GET", "me"): lambda svc, buyer, query, body: api.me(svc, buyer, query.get("shop")),
    ("GET", "product"): lambda svc, buyer, query, body: api.product(svc, buyer, query.get("shop"), query.get("id")),
    ("GET", "orders"): lambda svc, buyer, query, body: api.orders(svc, buyer),
    ("POST", "open"): lambda svc, buyer, query, body: api.record_open(svc, buyer, body),
    ("POST", "hold"): lambda svc, buyer, query, body: api.hold(svc, buyer, body),
    ("POST", "quote"): lambda svc, buyer, query, body: api.quote(svc, buyer, body),
    ("POST", "place"): lambda svc, buyer, query, body: api.place(svc, buyer, body),
    ("POST", "allow"): lambda svc, buyer, query, body: api.allow_messages(svc, buyer),
}


class MiniAppServer:
    """ASGI app for `path` ("/app/"): pages, photos and the API."""

    def __init__(self, services: Services, token: str, path: str, fetch_file: Callable[[str], Awaitable[bytes]],
                 max_age: int) -> None:
        self._services = services
        self._token = token
        self.path = path if path.endswith("/") else path + "/"
        self._fetch_file = fetch_file
        self._max_age = max_age
        self._photos: OrderedDict[str, bytes] = OrderedDict()
        self._flood = FloodGate(2 * services.config.limits.updates_per_user_per_minute)
        links = api.LinkCache()  # the bag's links, made once a second or two per shop however many look
        self._calls: dict[tuple[str, str], Call] = {
            **CALLS, ("GET", "bag"): lambda svc, buyer, query, body: api.live_bag(svc, buyer, query.get("shop"), links)}

    def handles(self, path: str) -> bool:
        return path.startswith(self.path) or path + "/" == self.path

    async def __call__(self, scope: MutableMapping[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        if not self.handles(path):
            await _respond(send, 404, b"not found", "text/plain")
            return
        if path + "/" == self.path:  # "/app": the pages' relative addresses need "/app/"
            await send({"type": "http.response.start", "status": 308,
                        "headers": [(b"location", self.path.encode()), *SECURITY_HEADERS]})
            await send({"type": "http.response.body", "body": b""})
            return
        rest = path[len(self.path):] if path.startswith(self.path) else ""
        method = scope.get("method", "GET")
        if rest.startswith("api/"):
            status, payload = await self._api(rest[4:], method, scope, receive)
            await _respond(send, status, json.dumps(payload, ensure_ascii=False).encode(), "application/json")
        elif rest.startswith("photo/") and method == "GET":
            await self._photo(rest[6:], send)
        elif rest in STATIC and method == "GET":
            name, kind = STATIC[rest]
            await _respond(send, 200, (PAGES / name).read_bytes(), kind, cache="no-cache")
        else:
            await _respond(send, 404, b"not found", "text/plain")

    async def _api(self, name: str, method: str, scope: MutableMapping[str, Any], receive) -> tuple[int, dict[str, Any]]:
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"authorization", b"").decode("latin-1")
        try:
            init = verify(given[4:] if given.startswith("tma ") else "", self._token, max_age=self._max_age)
        except InitDataRefused as refused:
            # The page says to reopen in the user's language (a guess from the unchecked init
            # data: only these two texts depend on it).
            return 401, {"error": "init data", "reason": refused.reason,
                         "texts": api.refusal_texts(self._services, given[4:])}
        call = self._calls.get((method, name))
        if call is None:
            return 404, {"reason": "no such call"}  # no "error": the page says its own "try again"
        body = await _json_body(receive) if method == "POST" else {}
        if body is None:
            return 400, {"reason": "body"}
        query = {key: values[0] for key, values in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()}
        try:
            buyer = await api.buyer_of(self._services, init, self._flood)
            return 200, await call(self._services, buyer, query, body)
        except api.ApiError as refused:
            return refused.status, {"error": refused.text}
        except Exception:
            log.exception("Mini App call %s failed", name)
            return 500, {"reason": "server"}

    async def _photo(self, key: str, send) -> None:
        """A product's ("p12") or variant's ("v7") photo, for the page's <img>."""
        kind, digits = key[:1], key[1:]
        file_id = None
        if kind in ("p", "v") and digits.isdigit() and len(digits) <= 12:
            store = self._services.store
            if kind == "p":
                product = await store.products.get(int(digits))
                file_id = product.photo_file_id if product is not None and product.on_sale else None
            else:
                variant = await store.variants.get(int(digits))
                file_id = variant.photo_file_id if variant is not None and variant.on_sale else None
        if file_id is None:
            await _respond(send, 404, b"no photo", "text/plain")
            return
        data = self._photos.get(file_id)
        if data is None:
            try:
                data = await self._fetch_file(file_id)
            except Exception as exc:  # Telegram unreachable: the page shows the name without a picture
                log.warning("could not fetch a product photo for the Mini App: %s", exc)
                await _respond(send, 502, b"photo unavailable", "text/plain")
                return
            self._photos[file_id] = data
            while len(self._photos) > PHOTOS_KEPT:
                self._photos.popitem(last=False)
        else:
            self._photos.move_to_end(file_id)
        await _respond(send, 200, data, "image/jpeg", cache="public, max-age=300")


async def _json_body(receive) -> dict[str, Any] | None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_BODY:
            return None
        if not message.get("more_body"):
            break
    try:
        value = json.loads(body or b"{}")
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


async def _respond(send, status: int, body: bytes, kind: str, *, cache: str = "no-store") -> None:
    headers = [(b"content-type", kind.encode()), (b"cache-control", cache.encode()), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
