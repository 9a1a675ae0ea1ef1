"""Drains the durable outbox within Telegram's sending limits.

Messages to one chat go out one at a time and in order; different chats are sent concurrently,
in priority order (buyers' answers such as receipts, then owners' notices, then everything else),
each taking its budget from the shared Pacer (runtime/pacing.py) before it goes: answers only
their chat's pace, the rest the bulk budget too. A 429 pauses what it applies to (the Pacer
decides) and the message is retried after Telegram's retry_after; 5xx, timeouts and network
errors back off exponentially; a user who blocked the bot is marked and skipped; a request
Telegram refuses as malformed is given up and logged (retrying cannot fix it).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InputFile, InputMediaPhoto
from telegram.ext import ExtBot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from core.config import LimitsConfig
from core.telegram_text import is_too_long_error, split_request
from storage import Store
from runtime import metrics
from runtime.jobs import Job
from runtime.limiter import OutboxSend
from runtime.pacing import Pacer
from handlers.telegram_errors import retry_after_seconds
from storage.leases import Leases
from storage.outbox import OutboxMessage, Outgoing, Priority

log = logging.getLogger(__name__)

MAX_BACKOFF = 300.0
# Several workers: a chat's queue is sent by the worker holding its lease (storage/leases.py),
# renewed while it sends there. Longer than any send can take, so a send in flight never outlives it.
CHAT_LEASE_SECONDS = 120.0
RENEW_CHAT_LEASE_BEFORE = 60.0
FALLBACK_AFTER_ATTEMPTS = 6  # a message with a fallback (a chart) waits this many tries, then sends that


# Renders one digest for several queued messages of a kind: (chat_id, shop_id, refs) -> message.
Folder = Callable[[int, int, list[int]], Awaitable[Outgoing | None]]
# Learns what a sent message became (Telegram's answer: the Message as JSON): (row, result).
SentHook = Callable[[OutboxMessage, Any], Awaitable[None]]


class OutboxSender:
    def __init__(self, store: Store, bot: ExtBot[Any], limits: LimitsConfig, folders: dict[str, Folder] | None = None,
                 pacer: Pacer | None = None, on_sent: dict[str, SentHook] | None = None,
                 leases: Leases | None = None, worker: str = "") -> None:
        self._store = store
        self._leases = leases  # several workers drain the one outbox (PostgreSQL)
        self._worker = worker
        self._held_chats: dict[int, float] = {}  # chat -> until when (monotonic) this worker holds it
        self._bot = bot
        self.pacer = pacer or Pacer(limits)  # shared with the bot's rate limiter in production
        # A burst of foldable messages queued for one chat (it can take ~1/s) goes out as one digest.
        self._folders = folders or {}
        # Told of each message of a kind sent on its own (not folded), with Telegram's answer.
        self._on_sent = on_sent or {}
        self._busy_chats: set[int] = set()
        # Rows finished while a `due` query was in flight: that query's answer may still list them.
        self._finished_during_fetch: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # One job drains the outbox (runtime/jobs.py): woken by each commit that queued messages
        # and by each send that finishes; otherwise it runs when the next message falls due.
        self.job = Job("outbox", self._dispatch_due, every=30.0, after_failure=1.0)
        store.outbox.listen(self.job.wake)

    def start(self) -> None:
        self.job.start()

    async def stop(self, grace: float = 3.0) -> None:
        """Start no new sends; let those in flight finish for up to `grace` seconds (one cut short
        may have reached Telegram and would go out again after a restart), then cancel the rest."""
        await self.job.stop()
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=grace)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _dispatch_due(self) -> float:
        """Start sends for what is due; return how long to sleep before looking again."""
        self._finished_during_fetch.clear()
        due = await self._store.outbox.due()
        held = await self._chats_held({m.chat_id for m in due if m.chat_id not in self._busy_chats})
        due = [m for m in due if m.id not in self._finished_during_fetch]  # never send a row twice
        wait = 30.0
        started_chats: set[int] = set()
        blocked: set[Priority] = set()  # kinds whose shared budget is spent for now
        for message in due:  # by priority, then oldest first
            chat = message.chat_id
            if chat in self._busy_chats or chat in started_chats or message.priority in blocked or chat not in held:
                continue  # keep one chat's messages in order: one in flight at a time, on one worker
            pause = self.pacer.wait_time(chat, message.priority)
            if pause:
                wait = min(wait, pause.seconds)
                if pause.scope != "chat":  # the bulk or bot-wide budget: the rest of this kind waits too
                    blocked.add(message.priority)
                continue
            self.pacer.take(chat, message.priority)
            started_chats.add(chat)
            self._busy_chats.add(chat)
            task = asyncio.create_task(self._send_or_fold(message), name=f"outbox-{message.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if not due:
            next_at = await self._store.outbox.next_due_at()
            if next_at is not None:
                wait = min(wait, max(0.0, next_at - time.time()))
        elif started_chats:
            wait = 0.0 if len(due) > len(started_chats) else wait
        return wait

    async def _chats_held(self, chats: set[int]) -> set[int]:
        """The chats this worker may send to now: all of them with one worker; with several, those
        whose lease it holds (claimed for the chats it has not got, renewed before they run out)."""
        if self._leases is None:
            return chats
        t = time.monotonic()  # taken before the claim: the lease runs from a moment no earlier
        if len(self._held_chats) > 10_000:
            self._held_chats = {c: until for c, until in self._held_chats.items() if until > t}
        wanted = [c for c in chats if self._held_chats.get(c, 0.0) - t < RENEW_CHAT_LEASE_BEFORE]
        new = [c for c in wanted if c not in self._held_chats]
        if len(new) > 1 and self.pacer.workers > 1:
            # Every worker reads the same oldest chats: each tries a random share of the new
            # ones, so the workers spread over them instead of all asking for the first.
            share = -(-len(new) // self.pacer.workers) + 1
            keep = set(random.sample(new, min(share, len(new))))
            wanted = [c for c in wanted if c in self._held_chats or c in keep]
        if wanted:
            got = await self._leases.claim([f"chat:{c}" for c in wanted], self._worker, CHAT_LEASE_SECONDS)
            for chat in wanted:
                if f"chat:{chat}" in got:
                    self._held_chats[chat] = t + CHAT_LEASE_SECONDS
                else:
                    self._held_chats.pop(chat, None)
        return {c for c in chats if self._held_chats.get(c, 0.0) > t}

    async def _send_or_fold(self, message: OutboxMessage) -> None:
        folder = self._folders.get(message.kind or "")
        if folder is not None and message.kind is not None and message.shop_id is not None:
            try:
                burst = await self._store.outbox.foldable(message.chat_id, message.kind, message.shop_id)
                if len(burst) > 1:
                    digest = await folder(message.chat_id, message.shop_id, [m.ref for m in burst if m.ref])
                    if digest is not None:
                        await self._send(message, digest.method, digest.params, [m.id for m in burst])
                        return
            except Exception:
                log.exception("could not fold outbox messages for chat %d; sending one by one", message.chat_id)
        await self._send(message, message.method, message.params, [message.id])

    async def _send(self, message: OutboxMessage, method: str, params: dict, ids: list[int]) -> None:
        """Send `method(params)` to the message's chat on behalf of outbox rows `ids`."""
        outbox = self._store.outbox
        try:
            upload = await outbox.upload_of(message) if message.upload_field else None
            if upload is not None:  # a stored file (the daily summary's chart) goes as multipart
                params = {**params, upload.field: InputFile(upload.data, filename=upload.filename)}
            if method == "sendMediaGroup":  # stored as Bot API JSON; PTB wants InputMedia objects here
                params = {**params, "media": [InputMediaPhoto(m["media"], caption=m.get("caption"))
                                              for m in params["media"]]}
            result = await self._bot.do_api_request(method, api_kwargs={"chat_id": message.chat_id, **params},
                                                    rate_limit_args=OutboxSend(message.priority))
        except RetryAfter as exc:  # the limiter told the Pacer what to pause
            retry = retry_after_seconds(exc)
            log.warning("429 for chat %d: retrying message %d in %.0fs", message.chat_id, message.id, retry)
            for row in ids:
                await outbox.retry_later(row, retry, f"429 retry_after={retry}")
        except Forbidden as exc:
            log.info("chat %d cannot be reached (%s): marking blocked, dropping its queue", message.chat_id, exc)
            await self._store.users.mark_blocked(message.chat_id)
            await outbox.give_up_chat(message.chat_id, f"forbidden: {exc}")
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                await outbox.mark_sent(ids)  # the chat already shows this
            elif is_too_long_error(str(exc)) and await self._split_refused(message, method, params, ids):
                pass  # queued again as parts that fit; never dropped for its length
            elif message.fallback is not None:
                log.error("Telegram refused outbox message %s (%s to chat %d): %s; sending its fallback",
                          ids, method, message.chat_id, exc)
                await outbox.replace(ids, [message.fallback], f"refused, fallback sent: {exc}")
            else:
                log.error("Telegram refused outbox message %s (%s to chat %d): %s; params=%s",
                          ids, method, message.chat_id, exc, params)
                for row in ids:
                    await outbox.give_up(row, f"bad request: {exc}")
        except (NetworkError, TelegramError) as exc:
            # 5xx, timeouts and connection errors: back off and try again.
            delay = min(MAX_BACKOFF, 2.0 ** message.attempts)
            log.warning("sending outbox message %d to chat %d failed (%s); retry in %.0fs",
                        message.id, message.chat_id, exc, delay)
            if message.fallback is not None and message.attempts + 1 >= FALLBACK_AFTER_ATTEMPTS:
                # e.g. a chart that keeps failing: the summary's text goes out without it
                log.error("outbox message %d to chat %d failed %d times (%s); sending its fallback",
                          message.id, message.chat_id, message.attempts + 1, exc)
                await outbox.replace(ids, [message.fallback], f"failed, fallback sent: {exc}")
                return
            for row in ids:
                if not await outbox.retry_later(row, delay, str(exc)):
                    log.error("gave up on outbox message %d to chat %d after repeated failures", row, message.chat_id)
        except Exception as exc:  # a message we cannot even hand to Telegram (our bug) must not stall its chat
            log.exception("outbox message %s (%s to chat %d) could not be sent; given up", ids, method,
                          message.chat_id)
            for row in ids:
                await outbox.give_up(row, f"not sendable: {exc!r}")
        else:
            metrics.outbox_sent(len(ids))
            await outbox.mark_sent(ids)
            hook = self._on_sent.get(message.kind or "")
            if hook is not None and ids == [message.id]:
                try:
                    await hook(message, result)
                except Exception:  # the message is out; what the hook keeps is a convenience
                    log.exception("after sending outbox message %d", message.id)
        finally:
            self._finished_during_fetch.update(ids)
            self._busy_chats.discard(message.chat_id)
            self.job.wake()

    async def _split_refused(self, message: OutboxMessage, method: str, params: dict, ids: list[int]) -> bool:
        """A text or caption Telegram refused as too long: queue it again cut into messages that
        fit (core.telegram_text.split_request), in place of rows `ids`. False if it cannot be cut."""
        parts = split_request(method, params)
        if not parts:
            return False
        log.warning("Telegram refused outbox message %s (%s to chat %d) as too long; sending it as %d parts",
                    ids, method, message.chat_id, len(parts))
        await self._store.outbox.replace(ids, [Outgoing(message.chat_id, m, p) for m, p in parts],
                                         f"too long: sent as {len(parts)} parts")
        return True

    async def idle(self, horizon: float = 3.0) -> None:
        """Wait until nothing is in flight or due within `horizon` seconds (tests and shutdown);
        messages waiting out a longer backoff count as scheduled, not pending."""
        while True:
            if self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)
                continue
            due = await self._store.outbox.due(limit=1, within=horizon)
            if not due and not self._tasks:
                return
            self.job.wake()
            await asyncio.sleep(0.01)


