"""The running bot: store, Application, update pipeline, outbox sender and polling, started and
stopped together. bot.py runs it for real; tests run the same object against the fake Telegram.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.metadata
import logging
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Application, Defaults
from telegram.request import BaseRequest

from core.config import Config
from handlers.common import CONTEXT_TYPES, Services
from handlers.menu import set_default_commands
from handlers.notices import ORDER_NOTICE, digest_renderer, restock_renderer
from handlers.order_card import card_recorder
from handlers.payments import PaymentClock
from handlers.registry import register
from handlers.summaries import SummaryScheduler
from runtime import metrics
from runtime.backups import BackupScheduler
from runtime.jobs import Job, Jobs
from runtime.limiter import LivecartRateLimiter
from runtime.outbox_sender import OutboxSender
from runtime.pacing import Pacer
from runtime.polling import ALLOWED_UPDATES, poll_forever
from handlers.channels import REFRESH_SECONDS, PostRefresher
from runtime.telegram_request import TelegramRequest
from runtime.updates import ADOPT_AFTER_SECONDS, UpdatePipeline
from runtime.miniapp import MiniAppServer
from runtime.single_poller import poller_lock
from runtime.workers import Workers
from storage.engine import is_postgres, redacted
from runtime.webhook import WebhookApp
from storage import Store

log = logging.getLogger(__name__)

KEEP_HANDLED_SECONDS = 7 * 24 * 3600  # handled updates and sent messages are kept a week, for inquiries
HOUSEKEEPING_SECONDS = 3600
KEEP_ENDED_CARDS_SECONDS = 30 * 24 * 3600  # an ended order's card copies: nothing edits them after
HOLD_CHECK_SECONDS = 5.0  # a hold taken meanwhile expires minutes later: looking this often is enough
# A graceful stop gives handlers in flight this long, then the outbox's sends in flight this long:
# together well inside bot.py's 10 s bound.
HANDLERS_STOP_GRACE = 5.0
OUTBOX_STOP_GRACE = 2.5


def build_application(config: Config, store: Store, request: BaseRequest | None = None,
                      updates_request: BaseRequest | None = None, pacer: Pacer | None = None) -> Application:
    """The python-telegram-bot Application with our handlers; `request` swaps the HTTP layer;
    `pacer` is the sending budget it shares with the outbox."""
    builder = (
        Application.builder()
        .token(config.token)
        .base_url(config.api_base_url)
        .base_file_url(config.file_base_url)
        .updater(None)  # we fetch updates ourselves (runtime/polling.py), storing them first
        .context_types(CONTEXT_TYPES)  # context.services, context.actor, context.button
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(LivecartRateLimiter(pacer or Pacer(config.limits)))
    )
    if request is None:  # a large pool for the calls, a small one for the long poll
        request = TelegramRequest(connection_pool_size=256)
        updates_request = updates_request or TelegramRequest(connection_pool_size=2)
    builder = builder.request(request).get_updates_request(updates_request or request)
    app = builder.build()
    app.bot_data["services"] = Services(config=config, store=store, told=metrics.buyer_told)
    register(app)
    store.products.restock_renderer = restock_renderer(config)
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


async def _serve(app, host: str, port: int, name: str) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    """Serve an ASGI app with uvicorn; returns once it listens (raises if it cannot, e.g. the port is taken)."""
    # log_config=None: uvicorn's lines go through our one-line, masking handler (runtime/logs.py).
    # A stop waits at most 3 s for open requests (each is one update being stored).
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off",
                                           log_config=None, timeout_graceful_shutdown=3))
    task = asyncio.create_task(server.serve(), name=name)
    while not server.started:
        if task.done():
            await task  # raises what went wrong
            raise RuntimeError(f"the {name} server on {host}:{port} stopped at once (is the port taken?)")
        await asyncio.sleep(0.01)
    return server, task


def version() -> str:
    """Livecart's version, from the pyproject.toml of this checkout (or the installed package)."""
    try:
        with (Path(__file__).resolve().parent.parent / "pyproject.toml").open("rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        try:
            return importlib.metadata.version("livecart")
        except importlib.metadata.PackageNotFoundError:
            return "unknown"


def startup_line(config: Config, mode: str, username: str | None, schema: int) -> str:
    """The one line that says what is running: mode, database, limits in force, version."""
    limits = config.limits
    if mode == "webhook" and config.webhook is not None:
        where = f"webhook {config.webhook.url} on {config.webhook.listen}:{config.webhook.port}"
    else:
        where = "polling"
    backups = (f"every {config.backup.every / 3600:g}h, keep {config.backup.keep}, in {config.backup.directory}"
               if config.backup.every else "off")
    database = config.database
    if is_postgres(database):  # no password in the log; its backups are the server's
        database, backups = redacted(database), "the PostgreSQL server's (pg_dump)"
    served = f"{config.metrics.listen}:{config.metrics.port}" if config.metrics.port else \
        ("on the webhook server" if mode == "webhook" else "off")
    return (f"Livecart {version()} started as @{username}: mode={where} database={database} "
            f"(schema {schema}) limits: {limits.sends_per_second:g} sends/s, {limits.sends_per_chat_per_second:g}/s "
            f"per chat, {limits.sends_per_group_per_minute:g}/min per group, {limits.updates_per_user_per_minute} "
            f"updates/min per user, {limits.open_orders_per_buyer_per_shop} open orders per buyer per shop, "
            f"{limits.concurrent_updates} users at once; backups: {backups}; metrics: {served}; "
            f"logs: {config.logging.format}")


class Livecart:
    """Everything that runs, in the order it must start and stop."""

    def __init__(self, config: Config, *, request: BaseRequest | None = None,
                 updates_request: BaseRequest | None = None, long_poll: int = 25) -> None:
        self.config = config
        self._request = request
        self._updates_request = updates_request
        self._long_poll = long_poll
        self.store: Store | None = None
        self.pacer: Pacer | None = None
        self.app: Application | None = None
        self.pipeline: UpdatePipeline | None = None
        self.outbox: OutboxSender | None = None
        self.summaries: SummaryScheduler | None = None  # the daily summaries
        self._poller: asyncio.Task[None] | None = None
        self.payment_clock: PaymentClock | None = None
        self.post_refresher: PostRefresher | None = None  # keeps posts in shop channels up to date
        self.workers: Workers | None = None  # one of several workers on PostgreSQL
        self.jobs = Jobs()  # all periodic work (runtime/jobs.py), the outbox sender's included
        self._webhook_server: uvicorn.Server | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.ops: metrics.OpsApp | None = None  # /metrics and /healthz
        self.backups = BackupScheduler(config.database, config.backup)
        self._ops_server: uvicorn.Server | None = None
        self._ops_task: asyncio.Task[None] | None = None
        self._poller_lock = poller_lock(config.database)
        self.miniapp: MiniAppServer | None = None  # the Mini App's pages and API, when webapp.url is set
        self._miniapp_server: uvicorn.Server | None = None
        self._miniapp_task: asyncio.Task[None] | None = None

    async def start(self, *, polling: bool = True) -> None:
        if polling:  # one polling process per database (runtime/single_poller.py); before anything else
            await self._poller_lock.acquire()
        metrics.bot_started("polling" if polling else "webhook", self.config.limits.sends_per_second)
        self.store = await Store.open(self.config.database)
        self.pacer = Pacer(self.config.limits)  # one sending budget for direct answers and the outbox
        self.ops = metrics.OpsApp(self.store, self.config.metrics.stuck_after, self._long_poll)
        self.store.orders.max_open_cod_units = self.config.limits.open_cod_units_per_buyer_per_shop
        self.app = build_application(self.config, self.store, self._request, self._updates_request, self.pacer)
        await self.app.initialize()  # getMe: fails fast on a bad token
        self.app.bot_data["services"].bot_username = self.app.bot.username
        await self.app.start()
        await set_default_commands(self.app.bot)
        if self.store.shared:  # PostgreSQL: other workers may share the database (runtime/workers.py)
            self.workers = Workers(self.store.leases, self.pacer)
            await self.workers.beat()  # before the jobs start: whether this one runs the scheduled work
            # A message another worker queues may be for a chat this one holds: wake on its commit.
            await self.store.db.listen("outbox", lambda: self.outbox.job.wake() if self.outbox else None)
        leases, worker = (self.store.leases, self.workers.name) if self.workers is not None else (None, "")
        self.outbox = OutboxSender(self.store, self.app.bot, self.config.limits,
                                   folders={ORDER_NOTICE: digest_renderer(self.store, self.config)},
                                   pacer=self.pacer,
                                   on_sent={ORDER_NOTICE: card_recorder(self.app.bot_data["services"])},
                                   leases=leases, worker=worker)
        self.summaries = SummaryScheduler(self.store, self.config)
        self.payment_clock = PaymentClock(self.app.bot_data["services"])
        self._add_jobs()
        self.jobs.start()
        self.pipeline = UpdatePipeline(self.app, self.store.inbox,
                                       max_concurrency=self.config.limits.concurrent_updates,
                                       leases=leases, worker=worker)
        await self.pipeline.start()
        if self.workers is not None:
            pipeline = self.pipeline

            async def adopt() -> None:
                await pipeline.adopt()

            self.jobs.add(Job("adopt-updates", adopt, every=ADOPT_AFTER_SECONDS, first_in=ADOPT_AFTER_SECONDS))
            self.jobs.start()
        if self.config.webapp.url:
            self.miniapp = MiniAppServer(self.app.bot_data["services"], self.config.token, self.config.webapp.path,
                                         self._fetch_file, self.config.webapp.max_age)
        if polling:
            await self.app.bot.delete_webhook()
            self._poller = asyncio.create_task(
                poll_forever(self.app.bot, self.pipeline, self.store.inbox, long_poll=self._long_poll),
                name="polling",
            )
        elif self.config.webhook is not None:
            await self._serve_webhook(self.config.webhook)
        if self.miniapp is not None and self.config.webapp.port is not None and (polling or self.config.webhook is None):
            self._miniapp_server, self._miniapp_task = await _serve(self.miniapp, self.config.webapp.listen,
                                                                     self.config.webapp.port, "miniapp")
        if self.config.metrics.port is not None:
            self._ops_server, self._ops_task = await _serve(self.ops, self.config.metrics.listen,
                                                             self.config.metrics.port, "metrics")
        log.info("%s", startup_line(self.config, "polling" if polling else "webhook", self.app.bot.username,
                                    await self.store.db.schema_version()))

    async def _serve_webhook(self, webhook) -> None:
        """Serve the webhook endpoint, then tell Telegram where it is (with our secret)."""
        assert self.pipeline is not None and self.app is not None
        app = WebhookApp(self.pipeline, webhook.secret_token, urlsplit(webhook.url).path or "/", ops=self.ops,
                         miniapp=self.miniapp)
        # Listening before Telegram is told to call.
        self._webhook_server, self._webhook_task = await _serve(app, webhook.listen, webhook.port, "webhook")
        await self.app.bot.set_webhook(webhook.url, secret_token=webhook.secret_token,
                                       allowed_updates=ALLOWED_UPDATES, max_connections=40)

    async def _fetch_file(self, file_id: str) -> bytes:
        """A stored file's bytes from Telegram (the Mini App's product photos)."""
        assert self.app is not None
        return bytes(await (await self.app.bot.get_file(file_id)).download_as_bytearray())

    async def prune(self, now: float | None = None) -> tuple[int, int]:
        """Forget updates handled and messages sent more than a week ago: (updates, messages)."""
        assert self.store is not None
        cutoff = (time.time() if now is None else now) - KEEP_HANDLED_SECONDS
        return await self.store.inbox.prune(cutoff), await self.store.outbox.prune(cutoff)

    async def prune_abuse_traces(self, now: float | None = None) -> tuple[int, int]:
        """Forget link opens older than limits.keep_link_opens_days, and staff invites used or
        expired more than a week ago: (opens, invites). Anyone can open links and owners can
        make invites, so without this both tables grow for as long as someone keeps trying."""
        assert self.store is not None
        t = time.time() if now is None else now
        opens = await self.store.live.prune_opens(t - self.config.limits.keep_link_opens_days * 24 * 3600)
        invites = await self.store.staff.prune_invites(t - KEEP_HANDLED_SECONDS)
        return opens, invites

    async def keep_house_once(self, now: float | None = None) -> dict[str, int]:
        """One pass of the hourly housekeeping: what was pruned, by table."""
        updates, messages = await self.prune(now)
        if updates or messages:
            log.info("pruned %d handled update(s) and %d sent message(s) older than a week", updates, messages)
        opens, invites = await self.prune_abuse_traces(now)
        if opens or invites:
            log.info("pruned %d old link open(s) and %d spent or expired staff invite(s)", opens, invites)
        assert self.store is not None
        cards = await self.store.orders.prune_cards((time.time() if now is None else now) - KEEP_ENDED_CARDS_SECONDS)
        if cards:
            log.info("forgot %d card copy(ies) of orders that ended over a month ago", cards)
        leases = await self.store.leases.prune()  # those of workers gone for an hour (runtime/workers.py)
        return {"updates": updates, "messages": messages, "link_opens": opens, "staff_invites": invites,
                "order_cards": cards, "leases": leases}

    def _add_jobs(self) -> None:
        assert self.outbox is not None and self.summaries is not None and self.payment_clock is not None
        summaries, payment_clock = self.summaries, self.payment_clock

        async def summarise() -> None:
            await summaries.tick()

        async def keep_house() -> None:
            await self.keep_house_once()

        # Scheduled work runs once across workers: on the one holding the `jobs` lease.
        once = self.workers.only_leading if self.workers is not None else (lambda work: work)
        self.jobs.add(self.outbox.job)  # drained by every worker
        if self.workers is not None:
            self.jobs.add(self.workers.job())
        self.jobs.add(Job("summaries", once(summarise), every=summaries.interval))
        self.jobs.add(Job("payment-clock", once(payment_clock.tick), every=payment_clock.interval))
        self.jobs.add(Job("hold-clock", once(self._expire_holds), every=HOLD_CHECK_SECONDS))
        self.jobs.add(Job("housekeeping", once(keep_house), every=HOUSEKEEPING_SECONDS))
        assert self.app is not None
        self.post_refresher = PostRefresher(self.app.bot_data["services"], self.app.bot)
        self.jobs.add(Job("channel-posts", once(self.post_refresher.run), every=REFRESH_SECONDS))
        backups = self.backups.job()
        if backups is not None:
            self.jobs.add(backups)

    async def _expire_holds(self) -> float:
        """Give back held units when their checkout's time is up (storage/holds.py); the seconds
        until the next hold expires (looked at again within HOLD_CHECK_SECONDS: holds taken
        meanwhile expire minutes later)."""
        assert self.store is not None
        next_at = await self.store.holds.next_expiry()
        if next_at is not None and next_at <= time.time():
            units = await self.store.holds.expire()
            if units:
                log.info("%d held unit(s) returned to stock: their checkouts timed out", units)
            return 0.0
        return HOLD_CHECK_SECONDS if next_at is None else max(0.05, min(HOLD_CHECK_SECONDS, next_at - time.time()))

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
        if self._webhook_server is not None and self._webhook_task is not None:
            self._webhook_server.should_exit = True
            await asyncio.gather(self._webhook_task, return_exceptions=True)
        if self._ops_server is not None and self._ops_task is not None:
            self._ops_server.should_exit = True
            await asyncio.gather(self._ops_task, return_exceptions=True)
        if self._miniapp_server is not None and self._miniapp_task is not None:
            self._miniapp_server.should_exit = True
            await asyncio.gather(self._miniapp_task, return_exceptions=True)
        await self.jobs.stop("summaries")  # no new summary while the last updates finish
        if self.pipeline is not None:
            await self.pipeline.stop(grace=HANDLERS_STOP_GRACE)
        await self.jobs.stop(*(name for name in self.jobs.names if name != "outbox"))
        comments = self.app.bot_data.get("comment_orders") if self.app is not None else None
        if comments is not None:  # orders typed in a group in the last seconds get their reply before we go
            try:
                await comments.flush_all()
            except Exception:  # noqa: BLE001 - stopping goes on
                log.exception("could not answer the last group orders while stopping")
        if self.outbox is not None:
            await self.outbox.stop(grace=OUTBOX_STOP_GRACE)
        if self.app is not None:
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        if self.workers is not None:
            try:
                await self.workers.leave()  # the others take over its users, chats and jobs at once
            except Exception:  # noqa: BLE001 - stopping goes on; the leases run out by themselves
                log.exception("could not give back this worker's leases")
        if self.store is not None:
            await self.store.close()
        await self._poller_lock.release()
