"""Webhook mode: Telegram POSTs each update; we answer 200 only once it is stored.

The secret token Telegram sends in X-Telegram-Bot-Api-Secret-Token is required and compared in
constant time; a request without it gets 403 and nothing is stored. A body that is not an update
Telegram could have sent (not JSON, not UTF-8, nested deeper than any update, numbers past
64 bits) gets 400: retrying it cannot help, and it must not reach the store. Any failure to store
a good update answers 500, so Telegram delivers it again later. The same server answers GET
/metrics and /healthz (runtime/metrics.py) for the operator; the reverse proxy keeps them private;
and, when `webapp.url` is set, the Mini App's pages and API under its path (runtime/miniapp.py).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from runtime.metrics import OPS_PATHS
from runtime.updates import UpdatePipeline
from runtime.asgi import answer_lifespan

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # an update is a few KB; anything near a megabyte is not from Telegram
# Telegram's updates nest about a dozen levels (a reply to a message quoting another...); JSON
# much deeper is an attack on the parser (Python's json raises RecursionError near 1,000 levels,
# which used to escape as a 500) or on whatever walks the update later.
MAX_DEPTH = 32
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # Telegram's ids fit; SQLite refuses larger integers
SECRET_HEADER = b"x-telegram-bot-api-secret-token"


class WebhookApp:
    """A minimal ASGI app: POST <path> with an update's JSON."""

    def __init__(self, pipeline: UpdatePipeline, secret_token: str, path: str, ops: Any = None,
                 miniapp: Any = None) -> None:
        self._pipeline = pipeline
        self._ops = ops  # an OpsApp for /metrics and /healthz, or None
        self._miniapp = miniapp  # the Mini App's pages and API (runtime/miniapp.py), or None
        self._secret = secret_token.encode()
        self._path = path or "/"

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        if self._ops is not None and scope.get("method") != "POST" and scope.get("path") in OPS_PATHS:
            await self._ops(scope, receive, send)
            return
        if self._miniapp is not None and scope.get("path") != self._path and self._miniapp.handles(scope.get("path", "")):
            await self._miniapp(scope, receive, send)
            return
        status = await self._handle(scope, receive)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": str(status).encode()})

    async def _handle(self, scope: dict[str, Any], receive) -> int:
        if scope.get("method") != "POST" or scope.get("path") != self._path:
            return 404
        given = dict(scope.get("headers") or []).get(SECRET_HEADER, b"")
        if not hmac.compare_digest(given, self._secret):
            log.warning("webhook request without the right secret token from %s", scope.get("client"))
            return 403
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                return 413
            if not message.get("more_body"):
                break
        try:
            update = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's limit
            return 400
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int) or not well_formed(update):
            return 400
        try:
            await self._pipeline.accept([update])
        except Exception:
            log.exception("could not store webhook update %s; Telegram will deliver it again", update.get("update_id"))
            return 500
        return 200


def well_formed(value: Any) -> bool:
    """Whether a decoded body can be an update: at most MAX_DEPTH levels deep, every integer
    within 64 bits, every text encodable as UTF-8 (JSON may carry lone surrogates, which the
    store could not write). Walked with a stack, so a deep body cannot exhaust recursion here."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(item, dict):
            if not all(_encodable(key) for key in item):
                return False
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            if not _encodable(item):
                return False
        elif isinstance(item, int) and not isinstance(item, bool):
            if not INT64_MIN <= item <= INT64_MAX:
                return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
