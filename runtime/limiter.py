"""The rate limiter every Bot API request passes through.

PTB's AIORateLimiter keeps the whole bot under Telegram's global pace (30/s) and 20/min per
group, and waits out a 429. On top of that, direct replies are retried on transient failures
(timeouts, 5xx, dropped connections) so a user's tap is not lost to a hiccup. The outbox marks its
requests: they share the global pace but are retried by the outbox itself, which keeps them durable
and never blocks the other chats while one chat waits out a 429.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

OUTBOX = "outbox"  # rate_limit_args of outbox requests
TRANSIENT_RETRIES = 3


class LivecartRateLimiter(AIORateLimiter):
    async def process_request(self, callback, args, kwargs, endpoint: str, data: dict[str, Any],
                              rate_limit_args: Any) -> Any:
        if rate_limit_args == OUTBOX:
            chat_id = data.get("chat_id")
            group = chat_id if isinstance(chat_id, int) and chat_id < 0 else False
            # One attempt under the shared pace; the outbox handles 429s and retries.
            return await self._run_request(chat=chat_id is not None, group=group, allow_paid_broadcast=False,
                                           callback=callback, args=args, kwargs=kwargs)
        for attempt in range(TRANSIENT_RETRIES + 1):
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
            except BadRequest as exc:
                if endpoint == "answerCallbackQuery" and "query" in str(exc).lower():
                    # Too late or answered before (an update replayed after a crash): the answer
                    # only stops a spinner, so the action it belongs to must go on regardless.
                    log.info("callback answer not delivered (%s); carrying on", exc)
                    return False  # answerCallbackQuery's result: not shown
                raise  # the request itself is wrong: retrying cannot help
            except NetworkError as exc:  # timeouts, 5xx, connection errors
                if attempt == TRANSIENT_RETRIES:
                    raise
                delay = 0.5 * 2**attempt
                log.warning("%s failed (%s); retry %d in %.1fs", endpoint, exc, attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")
