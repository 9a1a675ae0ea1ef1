"""Long polling that acknowledges an update only after it is stored."""

from __future__ import annotations

import asyncio
import logging
import warnings

from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError

from handlers.telegram_errors import retry_after_seconds
from runtime.updates import UpdatePipeline
from storage.inbox import Inbox

log = logging.getLogger(__name__)

# We call getUpdates (and the outbox its methods) through do_api_request on purpose: it takes
# and returns raw JSON, which is what the inbox and outbox store. PTB warns that typed methods exist.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.")

# Updates the bot handles; Telegram sends nothing else (fewer wake-ups, less to store).
ALLOWED_UPDATES = ["message", "callback_query", "pre_checkout_query", "my_chat_member"]
LONG_POLL_SECONDS = 25


async def poll_forever(bot: Bot, pipeline: UpdatePipeline, inbox: Inbox, *, long_poll: int = LONG_POLL_SECONDS) -> None:
    """Fetch updates until cancelled.

    The offset sent with each getUpdates call confirms the previous batch to Telegram; we only
    move it past updates the inbox has committed, so a crash can never lose one.
    """
    offset = await inbox.next_offset()
    backoff = 1.0
    while True:
        try:
            params: dict = {"timeout": long_poll, "allowed_updates": ALLOWED_UPDATES}
            if offset is not None:
                params["offset"] = offset
            raw = await bot.do_api_request("getUpdates", api_kwargs=params, read_timeout=long_poll + 10)
            backoff = 1.0
        except asyncio.CancelledError:
            raise
        except InvalidToken:
            log.critical("Telegram refused the bot token; check bot.token in the config")
            raise
        except RetryAfter as exc:
            await asyncio.sleep(retry_after_seconds(exc))
            continue
        except Conflict:
            log.error("another process is polling with this token (or a webhook is set); retrying in %.0fs", backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60)
            continue
        except (NetworkError, TelegramError) as exc:
            log.warning("getUpdates failed (%s); retrying in %.0fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60)
            continue
        if not raw:
            continue
        try:
            await pipeline.accept(raw)
        except Exception:
            # Not stored, so not acknowledged: the same batch comes again on the next call.
            log.exception("could not store %d update(s); retrying in %.0fs", len(raw), backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 60)
            continue
        offset = max(u["update_id"] for u in raw) + 1
