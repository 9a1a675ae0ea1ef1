"""The running bot: store, Application, update pipeline, outbox sender and polling, started and
stopped together. bot.py runs it for real; tests run the same object against the fake Telegram.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from urllib.parse import urlsplit

import uvicorn
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults
from telegram.request import BaseRequest

from core.config import Config
from handlers.common import Services
from handlers.menu import set_default_commands
from handlers.notices import ORDER_NOTICE, digest_renderer, restock_notifier
from handlers.order_card import card_recorder
from handlers.payments import PaymentClock
from handlers.registry import register
from handlers.summaries import SummaryScheduler
from runtime.limiter import LivecartRateLimiter
from runtime.outbox_sender import OutboxSender
from runtime.polling import ALLOWED_UPDATES, poll_forever
from runtime.telegram_request import TelegramRequest
from runtime.updates import UpdatePipeline
from runtime.webhook import WebhookApp
from storage import Store

log = logging.getLogger(__name__)

KEEP_HANDLED_SECONDS = 7 * 24 * 3600  # handled updates and sent messages are kept a week, for inquiries
HOUSEKEEPING_SECONDS = 3600


def build_application(config: Config, store: Store, request: BaseRequest | None = None,
                      updates_request: BaseRequest | None = None) -> Application:
    """The python-telegram-bot Application with our handlers; `request` swaps the HTTP layer."""
    builder = (
        Application.builder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.file_base_url)
        .updater(None)  # we fetch updates ourselves (runtime/polling.py), storing them first
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(LivecartRateLimiter(
            overall_max_rate=max(30.0, config.limits.sends_per_second),
            group_max_rate=config.limits.sends_per_group_per_minute,
            max_retries=2,
        ))
    )
    if request is None:  # a large pool for the calls, a small one for the long poll
        request = TelegramRequest(connection_pool_size=256)
        updates_request = updates_request or TelegramRequest(connection_pool_size=2)
    builder = builder.request(request).get_updates_request(updates_request or request)
    app = builder.build()
    app.bot_data["services"] = Services(config=config, store=store)
    register(app)
    store.products.restock_listeners[:] = [restock_notifier(store, config)]
    return app


def freeze_startup_heap() -> None:
    """Tell the garbage collector that what exists after start-up (modules, classes, PTB, caches)
    lives for good, so its full collections stop walking it.

    A full collection stops the event loop for as long as it takes to walk every tracked object;
    most of them are start-up's, and walking them again and again added tens of milliseconds to
    the slowest answers of a sale (bench/flash_sale.py, the live pace). Only the process that
    runs the bot calls this (bot.py), once, after the bot started: frozen objects are never freed.
    """
    gc.collect()
    gc.freeze()


class Livecart:
    """Everything that runs, in the order it must start and stop."""

    def __init__(self, config: Config, *, request: BaseRequest | None = None,
                 updates_request: BaseRequest | None = None, long_poll: int = 25) -> None:
        self.config = config
        self._request = request
        self._updates_request = updates_request
        self._long_poll = long_poll
        self.store: Store | None = None
        self.app: Application | None = None
        self.pipeline: UpdatePipeline | None = None
        self.outbox: OutboxSender | None = None
        self.summaries: SummaryScheduler | None = None  # the daily summaries
        self._poller: asyncio.Task[None] | None = None
        self.payment_clock: PaymentClock | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._webhook_server = None
        self._webhook_task: asyncio.Task[None] | None = None

    async def start(self, *, polling: bool = True) -> None:
        self.store = await Store.open(self.config.database)
        self.app = build_application(self.config, self.store, self._request, self._updates_request)
        await self.app.initialize()  # getMe: fails fast on a bad token
        self.app.bot_data["services"].bot_username = self.app.bot.username
        await self.app.start()
        await set_default_commands(self.app.bot)
        self.outbox = OutboxSender(self.store, self.app.bot, self.config.limits,
                                   folders={ORDER_NOTICE: digest_renderer(self.store, self.config)},
                                   on_sent={ORDER_NOTICE: card_recorder(self.app.bot_data["services"])})
        self.outbox.start()
        self.summaries = SummaryScheduler(self.store, self.app.bot, self.config)
        self.summaries.start()
        self.payment_clock = PaymentClock(self.app.bot_data["services"])
        self.payment_clock.start()
        self._housekeeping = asyncio.create_task(self._keep_house(), name="housekeeping")
        self.pipeline = UpdatePipeline(self.app, self.store.inbox,
                                       max_concurrency=self.config.limits.concurrent_updates)
        await self.pipeline.start()
        if polling:
            await self.app.bot.delete_webhook()
            self._poller = asyncio.create_task(
                poll_forever(self.app.bot, self.pipeline, self.store.inbox, long_poll=self._long_poll),
                name="polling",
            )
        elif self.config.webhook is not None:
            await self._serve_webhook(self.config.webhook)
        log.info("Livecart is running as @%s (%s mode)", self.app.bot.username, "polling" if polling else "webhook")

    async def _serve_webhook(self, webhook) -> None:
        """Serve the webhook endpoint, then tell Telegram where it is (with our secret)."""
        app = WebhookApp(self.pipeline, webhook.secret_token, urlsplit(webhook.url).path or "/")
        self._webhook_server = uvicorn.Server(uvicorn.Config(app, host=webhook.listen, port=webhook.port,
                                                             log_level="warning", lifespan="off"))
        self._webhook_task = asyncio.create_task(self._webhook_server.serve(), name="webhook")
        while not self._webhook_server.started:  # listening before Telegram is told to call
            if self._webhook_task.done():
                await self._webhook_task  # raises what went wrong (e.g. the port is taken)
                raise RuntimeError(f"the webhook server on {webhook.listen}:{webhook.port} stopped at once")
            await asyncio.sleep(0.01)
        await self.app.bot.set_webhook(webhook.url, secret_token=webhook.secret_token,
                                       allowed_updates=ALLOWED_UPDATES, max_connections=40)

    async def prune(self, now: float | None = None) -> tuple[int, int]:
        """Forget updates handled and messages sent more than a week ago: (updates, messages)."""
        assert self.store is not None
        cutoff = (time.time() if now is None else now) - KEEP_HANDLED_SECONDS
        return await self.store.inbox.prune(cutoff), await self.store.outbox.prune(cutoff)

    async def _keep_house(self) -> None:
        while True:
            try:
                updates, messages = await self.prune()
                if updates or messages:
                    log.info("pruned %d handled update(s) and %d sent message(s) older than a week", updates, messages)
            except Exception:
                log.exception("housekeeping failed; trying again in an hour")
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    async def settle(self) -> None:
        """Wait until every stored update is handled and the outbox has nothing due (tests)."""
        assert self.pipeline is not None and self.outbox is not None
        for _ in range(1000):
            await self.pipeline.idle()
            await self.outbox.idle()
            if not self.pipeline.busy:
                return
        raise RuntimeError("the bot did not settle")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._webhook_server is not None:
            self._webhook_server.should_exit = True
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self.summaries is not None:
            await self.summaries.stop()
        if self.pipeline is not None:
            await self.pipeline.stop()
        if self.payment_clock is not None:
            await self.payment_clock.stop()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            await asyncio.gather(self._housekeeping, return_exceptions=True)
        if self.outbox is not None:
            await self.outbox.stop()
        if self.app is not None:
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        if self.store is not None:
            await self.store.close()
