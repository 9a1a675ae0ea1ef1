"""An httpx transport to the fake that honours read timeouts.

``httpx.ASGITransport`` calls the app in-process and ignores the client's
timeouts, so a slow answer from ``delay_next`` would simply be waited for.
This transport cancels the call when the request's read timeout passes and
raises ``httpx.ReadTimeout``, which python-telegram-bot turns into
``telegram.error.TimedOut`` exactly as with a real network.
"""

from __future__ import annotations

import asyncio

import httpx


class FakeTelegramTransport(httpx.ASGITransport):
    """ASGITransport plus read-timeout enforcement."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {}).get("read")
        if timeout is None:
            return await super().handle_async_request(request)
        try:
            return await asyncio.wait_for(super().handle_async_request(request), timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("faketg: the answer took longer than the read timeout", request=request) from None
