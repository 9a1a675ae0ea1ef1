"""What the operator sees of a running bot: Prometheus metrics and a health check.

The update path, the outbox and the HTTP layer report here through one-line calls
(`updates_received`, `handling_started`/`update_handled`, `outbox_sent`, `measured_api_call`), so
the code that does the work stays about the work. Backlogs and totals are read from the database
at scrape time (storage/vitals.py). Served as `/metrics` and `/healthz` by `OpsApp`: on the
webhook server in webhook mode, and on `metrics.port` when one is set.

The registry is one per process, as Prometheus expects of a process: in the tests, several bots
run one after another in one process and the counters add up (tests compare before and after).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from runtime.asgi import answer_lifespan

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # CPU, memory, open files of the bot's process
PlatformCollector(registry=REGISTRY)

UPDATES_RECEIVED = Counter("livecart_updates_received", "Updates stored in the inbox (redeliveries not counted)",
                           registry=REGISTRY)
UPDATES_HANDLED = Counter("livecart_updates_handled", "Updates handled, by result", ["result"], registry=REGISTRY)
HANDLING_SECONDS = Histogram(
    "livecart_update_handling_seconds", "Time to handle one update (handlers and their Bot API calls)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0), registry=REGISTRY)
INBOX_BACKLOG = Gauge("livecart_inbox_backlog", "Stored updates not handled yet", registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("livecart_outbox_backlog", "Messages waiting in the outbox (due now or later)",
                       registry=REGISTRY)
OUTBOX_DUE = Gauge("livecart_outbox_due", "Messages in the outbox whose time to be sent has come", registry=REGISTRY)
OUTBOX_OLDEST_AGE = Gauge("livecart_outbox_oldest_age_seconds",
                          "Seconds since the oldest message still waiting in the outbox was queued", registry=REGISTRY)
API_CALLS = Counter("livecart_bot_api_calls", "Bot API calls by method and outcome (ok, 429, 5xx, blocked, "
                    "rejected = another 4xx, network = no answer)", ["method", "outcome"], registry=REGISTRY)
OUTBOX_SENT = Counter("livecart_outbox_sent", "Outbox rows delivered", registry=REGISTRY)
SEND_RATE = Gauge("livecart_send_rate_per_second",
                  f"Messages sent or edited per second over the last {10} s (all chat-bound Bot API calls)",
                  registry=REGISTRY)
SEND_BUDGET = Gauge("livecart_send_budget_per_second", "The bot-wide sending pace in force (limits.sends_per_second)",
                    registry=REGISTRY)
SEND_BUDGET_USED = Gauge("livecart_send_budget_used_ratio", "Send rate / sending budget (1 = at the budget)",
                         registry=REGISTRY)
ORDERS_PLACED = Gauge("livecart_orders_placed", "Orders ever placed (from the database)", registry=REGISTRY)
SOLD_OUT_ANSWERS = Counter("livecart_sold_out_answers", "Buyers told a product is sold out", registry=REGISTRY)
HOLDS_OPEN = Gauge("livecart_holds_open", "Units held for buyers at Buy now (NaN until holds exist)",
                   registry=REGISTRY)
BACKUPS = Counter("livecart_backups", "Scheduled backups by result", ["result"], registry=REGISTRY)
LAST_BACKUP = Gauge("livecart_last_backup_timestamp_seconds", "When the last good scheduled backup was written",
                    registry=REGISTRY)
HEALTHY = Gauge("livecart_healthy", "1 while updates and the outbox move, 0 when one is stuck", registry=REGISTRY)

# Bot API methods that put or change a message in a chat: what Telegram's sending limits count.
SEND_METHODS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "sendInvoice", "sendLocation", "sendVideo",
    "sendAnimation", "sendAudio", "sendVoice", "sendSticker", "copyMessage", "forwardMessage",
    "editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup",
})
RATE_WINDOW = 10  # seconds the send rate is averaged over

clock: Callable[[], float] = time.time  # wall time; the health tests move it forward


@dataclass
class Progress:
    """When the update path and the outbox last moved (wall time)."""

    started: float = field(default_factory=lambda: clock())
    last_handled: float = 0.0
    last_sent: float = 0.0
    last_polled: float = 0.0
    mode: str = "polling"
    budget: float = 0.0  # limits.sends_per_second
    send_buckets: dict[int, int] = field(default_factory=dict)  # second -> chat-bound calls

    def since(self, moment: float) -> float:
        return clock() - max(moment, self.started)


progress = Progress()


def bot_started(mode: str, sends_per_second: float) -> None:
    """A bot (re)starts: its progress is counted from now."""
    global progress
    progress = Progress(mode=mode, budget=sends_per_second)
    SEND_BUDGET.set(sends_per_second)


# ---------------------------------------------------------------- hooks (one line at each call site)

def updates_received(count: int) -> None:
    if count:
        UPDATES_RECEIVED.inc(count)


def handling_started() -> float:
    return time.perf_counter()


def update_handled(started: float, error: str | None) -> None:
    HANDLING_SECONDS.observe(time.perf_counter() - started)
    UPDATES_HANDLED.labels("error" if error else "ok").inc()
    progress.last_handled = clock()


def outbox_sent(rows: int) -> None:
    OUTBOX_SENT.inc(rows)
    progress.last_sent = clock()


SOLD_OUT_KEYS = frozenset({"buyer.sold_out", "checkout.sold_out"})


def buyer_told(message_key: str) -> None:
    """A buyer was answered with the catalog message `message_key` (sold-out answers are counted)."""
    if message_key in SOLD_OUT_KEYS:
        SOLD_OUT_ANSWERS.inc()


def backup_written(ok: bool) -> None:
    BACKUPS.labels("ok" if ok else "failed").inc()
    if ok:
        LAST_BACKUP.set(clock())


@functools.cache
def _method_of(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def _outcome(status: int) -> str:
    if 200 <= status < 300:
        return "ok"
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    if status == 403:
        return "blocked"
    return "rejected"


def api_call(url: str, status: int | None) -> None:
    method = _method_of(url)
    outcome = "network" if status is None else _outcome(status)
    API_CALLS.labels(method, outcome).inc()
    if outcome == "ok":
        if method in SEND_METHODS:
            _count_send(int(clock()))
        elif method == "getUpdates":
            progress.last_polled = clock()


def measured_api_call(do_request: Callable[..., Awaitable[tuple[int, bytes]]]):
    """Decorates a BaseRequest.do_request: each call is counted by method and outcome."""

    @functools.wraps(do_request)
    async def measured(self: Any, url: str, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, body = await do_request(self, url, *args, **kwargs)
        except Exception:
            api_call(url, None)
            raise
        api_call(url, status)
        return status, body

    return measured


def _count_send(second: int) -> None:
    buckets = progress.send_buckets
    if second not in buckets:
        _forget_before(second - RATE_WINDOW)  # at most one bucket per second of the window is kept
        buckets[second] = 0
    buckets[second] += 1


def _forget_before(second: int) -> None:
    buckets = progress.send_buckets
    for old in [s for s in buckets if s <= second]:
        del buckets[old]


def send_rate() -> float:
    """Sends per second over the last RATE_WINDOW whole seconds (the current one is still counting)."""
    now = int(clock())
    _forget_before(now - RATE_WINDOW - 1)
    return sum(count for second, count in progress.send_buckets.items() if now - RATE_WINDOW <= second < now) \
        / RATE_WINDOW


# ---------------------------------------------------------------- health


@dataclass(frozen=True)
class Health:
    ok: bool
    reasons: list[str]

    def text(self) -> str:
        return "ok\n" if self.ok else "".join(f"{reason}\n" for reason in self.reasons)


async def check_health(store: Any, stuck_after: float, long_poll: float = 25.0) -> Health:
    """Stuck means: work is waiting and nothing of its kind moved for `stuck_after` seconds."""
    try:
        vitals = await store.vitals.read()
    except Exception as exc:  # the database itself is the problem
        return Health(False, [f"database: cannot read the backlog ({exc.__class__.__name__}: {exc})"])
    reasons = []
    quiet = progress.since(progress.last_handled)
    if vitals.inbox_backlog and quiet > stuck_after:
        reasons.append(f"updates stuck: {vitals.inbox_backlog} stored update(s) waiting, "
                       f"none handled for {quiet:.0f}s")
    quiet = progress.since(progress.last_sent)
    if vitals.outbox_due and quiet > stuck_after:
        reasons.append(f"outbox stuck: {vitals.outbox_due} message(s) due, none sent for {quiet:.0f}s")
    quiet = progress.since(progress.last_polled)
    if progress.mode == "polling" and quiet > stuck_after + long_poll:
        reasons.append(f"not fetching updates: no getUpdates answered for {quiet:.0f}s "
                       "(check the network and the token: python bot.py doctor)")
    HEALTHY.set(0 if reasons else 1)
    return Health(not reasons, reasons)


async def render_metrics(store: Any) -> bytes:
    """The Prometheus text exposition, with the backlogs read now."""
    vitals = await store.vitals.read()
    INBOX_BACKLOG.set(vitals.inbox_backlog)
    OUTBOX_BACKLOG.set(vitals.outbox_backlog)
    OUTBOX_DUE.set(vitals.outbox_due)
    OUTBOX_OLDEST_AGE.set(vitals.outbox_oldest_age)
    ORDERS_PLACED.set(vitals.orders_placed)
    HOLDS_OPEN.set(float("nan") if vitals.holds_open is None else vitals.holds_open)
    rate = send_rate()
    SEND_RATE.set(rate)
    SEND_BUDGET_USED.set(rate / progress.budget if progress.budget else 0.0)
    return generate_latest(REGISTRY)


OPS_PATHS = ("/metrics", "/healthz")


class OpsApp:
    """ASGI: GET /metrics (Prometheus text format) and GET /healthz (200 "ok" or 503 with reasons)."""

    def __init__(self, store: Any, stuck_after: float, long_poll: float = 25.0) -> None:
        self._store = store
        self._stuck_after = stuck_after
        self._long_poll = long_poll

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        status, content_type, body = await self.answer(scope.get("method", "GET"), scope.get("path", ""))
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type.encode()), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body})

    async def answer(self, method: str, path: str) -> tuple[int, str, bytes]:
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"405\n"
        if path == "/metrics":
            try:
                return 200, CONTENT_TYPE_LATEST, await render_metrics(self._store)
            except Exception as exc:
                return 503, "text/plain", f"metrics unavailable: {exc.__class__.__name__}: {exc}\n".encode()
        if path == "/healthz":
            health = await check_health(self._store, self._stuck_after, self._long_poll)
            return (200 if health.ok else 503), "text/plain; charset=utf-8", health.text().encode()
        return 404, "text/plain", b"404\n"
