"""The rate limiter every Bot API request passes through (PTB's public BaseRateLimiter).

It paces by kind (runtime/pacing.py): a direct answer to a user's action goes out at once within
its chat's pace; the outbox reserves its budget itself before sending and marks its requests with
`OutboxSend`, so they are not paced twice. A 429 pauses only what it applies to; a direct answer
waits its retry_after and tries again, an outbox request hands the 429 back to the outbox, which
keeps the message stored and retries it. Calls that are not messages (answerCallbackQuery,
getUpdates, getMe...) are never held back. Direct answers are also retried on transient failures
(timeouts, 5xx, dropped connections) so a user's tap is not lost to a hiccup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import BaseRateLimiter

from runtime.pacing import Pacer
from handlers.telegram_errors import retry_after_seconds
from storage.outbox import Priority

log = logging.getLogger(__name__)

TRANSIENT_RETRIES = 3
FLOOD_RETRIES = 3  # a direct answer waits out this many 429s before giving up


@dataclass(frozen=True)
class OutboxSend:
    """rate_limit_args of an outbox request: its budget is already taken; 429s go back to it."""

    priority: Priority


def is_message(endpoint: str) -> bool:
    """Calls that put or change a message in a chat: what Telegram's flood limits count."""
    return endpoint.startswith(("send", "edit", "copyMessage", "forwardMessage")) and endpoint != "sendChatAction"


class LivecartRateLimiter(BaseRateLimiter[Any]):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer
        self.retried_429 = 0  # 429s on direct answers, waited out and retried (metrics, bench)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any,
                              kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: Any) -> Any:
        chat = data.get("chat_id")
        chat_id = chat if isinstance(chat, int) else None
        counted = chat_id is not None and is_message(endpoint)
        if isinstance(rate_limit_args, OutboxSend):
            if chat_id is None or not counted:
                return await callback(*args, **kwargs)
            slack = self.pacer.slack(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                self.pacer.note_429(chat_id, rate_limit_args.priority, retry_after_seconds(exc), had_slack=slack)
                raise
        return await self._answer(callback, args, kwargs, endpoint, chat_id if counted else None)

    async def _answer(self, callback: Callable[..., Coroutine[Any, Any, Any]], args: Any, kwargs: dict[str, Any],
                      endpoint: str, chat_id: int | None) -> Any:
        """A direct answer: paced by its chat, 429s waited out, transient failures retried."""
        floods = failures = 0
        while True:
            slack = True
            if chat_id is not None:
                await self.pacer.acquire(chat_id, Priority.ANSWER)
                slack = self.pacer.slack(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                retry = retry_after_seconds(exc)
                if chat_id is None or floods == FLOOD_RETRIES:
                    raise
                floods += 1
                self.retried_429 += 1
                learned = self.pacer.learned
                paused = self.pacer.note_429(chat_id, Priority.ANSWER, retry, had_slack=slack)
                if self.pacer.learned > learned:  # once per learning, not for every answer caught in it
                    log.warning("Telegram answered 429 to chat %s within its own pace: pacing every message "
                                "bot-wide for the next ten minutes", chat_id)
                log.info("429 on %s to chat %s (%s budget): retrying in %.0fs", endpoint, chat_id, paused, retry)
                await asyncio.sleep(retry)  # the retry_after is honoured even if the chat's pause was shorter
            except BadRequest as exc:
                if endpoint == "answerCallbackQuery" and "query" in str(exc).lower():
                    # Too late or answered before (an update replayed after a crash): the answer
                    # only stops a spinner, so the action it belongs to must go on regardless.
                    log.info("callback answer not delivered (%s); carrying on", exc)
                    return False  # answerCallbackQuery's result: not shown
                raise  # the request itself is wrong: retrying cannot help
            except NetworkError as exc:  # timeouts, 5xx, connection errors
                if failures == TRANSIENT_RETRIES:
                    raise
                delay = 0.5 * 2**failures
                failures += 1
                log.warning("%s failed (%s); retry %d in %.1fs", endpoint, exc, failures, delay)
                await asyncio.sleep(delay)
