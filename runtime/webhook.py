"""Webhook mode: Telegram POSTs each update; we answer 200 only once it is stored.

The secret token Telegram sends in X-Telegram-Bot-Api-Secret-Token is required and compared in
constant time; a request without it gets 403 and nothing is stored. Any failure to store answers
500, so Telegram delivers the update again later. The same server answers GET /metrics and
/healthz (runtime/metrics.py) for the operator; the reverse proxy keeps them private.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from runtime.metrics import OPS_PATHS
from runtime.updates import UpdatePipeline

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20  # an update is a few KB; anything near a megabyte is not from Telegram
SECRET_HEADER = b"x-telegram-bot-api-secret-token"


class WebhookApp:
    """A minimal ASGI app: POST <path> with an update's JSON."""

    def __init__(self, pipeline: UpdatePipeline, secret_token: str, path: str, ops: Any = None) -> None:
        self._pipeline = pipeline
        self._ops = ops  # an OpsApp for /metrics and /healthz, or None
        self._secret = secret_token.encode()
        self._path = path or "/"

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        if self._ops is not None and scope.get("method") != "POST" and scope.get("path") in OPS_PATHS:
            await self._ops(scope, receive, send)
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
        except ValueError:
            return 400
        if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
            return 400
        try:
            await self._pipeline.accept([update])
        except Exception:
            log.exception("could not store webhook update %s; Telegram will deliver it again", update.get("update_id"))
            return 500
        return 200
