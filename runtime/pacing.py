"""Telegram's sending budgets as the bot keeps them, by kind of send.

What Telegram documents, and what this keeps to:
- about one message a second to one chat, short bursts tolerated; 20 a minute to one group;
- about 30 a second for bulk notifications to many users. Answers to a user's own action are not
  documented as counted against it, and frameworks that know Telegram well say they are not.

So a send is one of three kinds (storage.outbox.Priority): an ANSWER to what the user just did
(the card, the checkout's edits, the receipt, a sold-out answer) waits only for its chat's pace;
an OWNER notice and other BULK sends (restock notes, reminders, summaries, alerts) also take from
the bulk budget, owners' first. Alerts the operator lets go as Telegram's paid broadcasts
(PAID_BROADCAST, after everything else) take from their own budget of 1,000/s instead. A 429
pauses what it applies to and nothing else:
- on a bulk send: the bulk budget (and that chat) for retry_after;
- on an answer to a chat that was over its own pace: that chat;
- on an answer to a chat well within its own pace: Telegram is counting every message against a
  bot-wide budget (stricter than documented). From then on, for LEARNED_SECONDS, every chat-bound
  message is also paced bot-wide at `all_chats_per_second`, answers before bulk, instead of
  drawing more 429s; the request that got the 429 waits its retry_after.

One Pacer per process. Several workers on PostgreSQL share the bot-wide budgets by splitting
them: each live worker keeps 1/N of the bulk, paid and bot-wide paces (`share`, renewed as
workers come and go: runtime/workers.py), so together they never exceed one bot's. Per-chat
buckets stay local: one worker at a time handles a user's updates and sends a chat's queue.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from core.config import LimitsConfig
from storage.outbox import Priority

CHAT_BURST = 3.0  # messages one chat may get at once before its 1/s pace applies
GROUP_BURST = 3.0
LEARNED_SECONDS = 600.0  # how long a bot-wide pace learned from a 429 stays on
# Telegram's paid broadcasts: up to 1,000 messages a second, each past the free limit paid in Stars.
PAID_BROADCASTS_PER_SECOND = 1000.0


class TokenBucket:
    """A pace of `rate` per second with bursts of up to `burst`."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._at = clock()

    def _refill(self) -> None:
        t = self._clock()
        self._tokens = min(self.burst, self._tokens + (t - self._at) * self.rate)
        self._at = t

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def wait_time(self) -> float:
        """Seconds until a token is available (0 when one is)."""
        self._refill()
        return 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self._tokens -= 1


@dataclass(frozen=True)
class Wait:
    """How long a send must wait, and for what: "chat" (only this chat is held back), "bulk" or
    "all" (every send of its kind behind it is held back too)."""

    seconds: float
    scope: str = "chat"

    def __bool__(self) -> bool:
        return self.seconds > 0


NOW = Wait(0.0)


class Pacer:
    def __init__(self, limits: LimitsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits
        self._clock = clock
        self._chats: dict[int, TokenBucket] = {}
        self._paused_until: dict[int, float] = {}  # chat -> clock time, after a 429
        rate = limits.sends_per_second
        self._bulk = TokenBucket(rate, max(1.0, rate), clock)
        self._bulk_paused_until = 0.0
        # Paid broadcasts (Priority.PAID_BROADCAST) take from their own budget, not the bulk one.
        self._paid = TokenBucket(PAID_BROADCASTS_PER_SECOND, PAID_BROADCASTS_PER_SECOND, clock)
        overall = limits.all_chats_per_second
        self._all = TokenBucket(overall, max(1.0, overall), clock)
        self._all_until = 0.0  # the learned bot-wide pace is on until then
        # Answers waiting for the bot-wide budget, in arrival order: one releaser hands out its
        # tokens (a thousand waiters each polling the bucket would cost more than the sends).
        self._turns: deque[asyncio.Future[None]] = deque()
        self._releaser: asyncio.Task[None] | None = None
        self.learned = 0  # how often a 429 showed a bot-wide budget (metrics, tests)
        self.workers = 1  # the live workers this process shares the bot-wide budgets with

    def share(self, workers: int) -> None:
        """Keep 1/workers of the bot-wide budgets (several workers send for one bot)."""
        n = max(1, workers)
        for bucket, rate in ((self._bulk, self._limits.sends_per_second),
                             (self._all, self._limits.all_chats_per_second),
                             (self._paid, PAID_BROADCASTS_PER_SECOND)):
            bucket.rate = rate / n
            bucket.burst = max(1.0, bucket.rate)
        self.workers = n

    # ------------------------------------------------------------ budgets

    def _chat(self, chat_id: int) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if chat_id < 0:  # groups and channels
                bucket = TokenBucket(self._limits.sends_per_group_per_minute / 60, GROUP_BURST, self._clock)
            else:
                bucket = TokenBucket(self._limits.sends_per_chat_per_second, CHAT_BURST, self._clock)
            self._chats[chat_id] = bucket
        return bucket

    @property
    def bot_wide(self) -> bool:
        """Whether every chat-bound message is paced bot-wide now (learned from a 429)."""
        return self._clock() < self._all_until

    def wait_time(self, chat_id: int, priority: Priority) -> Wait:
        """How long a message of this priority to this chat must wait; takes nothing."""
        now = self._clock()
        chat = max(self._chat(chat_id).wait_time(), self._paused_until.get(chat_id, 0.0) - now)
        waits = [Wait(chat, "chat")]
        if priority is not Priority.ANSWER:
            budget = self._paid if priority is Priority.PAID_BROADCAST else self._bulk
            waits.append(Wait(max(budget.wait_time(), self._bulk_paused_until - now), "bulk"))
            if self._turns:
                waits.append(Wait(1 / max(self._all.rate, 1.0), "bulk"))  # answers go first
        if now < self._all_until:
            waits.append(Wait(self._all.wait_time(), "all"))
        longest = max(waits, key=lambda w: w.seconds)
        return longest if longest.seconds > 0 else NOW

    def take(self, chat_id: int, priority: Priority, *, bot_wide_reserved: bool = False) -> None:
        """Count a message as sent (after wait_time said it may go)."""
        self._chat(chat_id).take()
        if priority is Priority.PAID_BROADCAST:
            self._paid.take()
        elif priority is not Priority.ANSWER:
            self._bulk.take()
        if self._clock() < self._all_until and not bot_wide_reserved:
            self._all.take()

    async def acquire(self, chat_id: int, priority: Priority) -> None:
        """Wait until a message may go, then count it (direct answers)."""
        reserved = False
        while wait := self.wait_time(chat_id, priority):
            if wait.scope == "all" and not reserved:
                await self._turn()  # in line for the bot-wide budget; its token is ours after
                reserved = True
                continue
            if wait.scope == "all":  # our reserved token is counted already: only the chat's pace
                chat_wait = max(self._chat(chat_id).wait_time(), self._paused_until.get(chat_id, 0.0) - self._clock())
                if chat_wait <= 0:
                    break
                await asyncio.sleep(chat_wait)
                continue
            await asyncio.sleep(wait.seconds)
        self.take(chat_id, priority, bot_wide_reserved=reserved)

    async def _turn(self) -> None:
        turn = asyncio.get_running_loop().create_future()
        self._turns.append(turn)
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release_turns(), name="pacer-turns")
        await turn

    async def _release_turns(self) -> None:
        """Hand the bot-wide budget's tokens to waiting answers, first come first served."""
        while self._turns:
            wait = self._all.wait_time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            turn = self._turns.popleft()
            if not turn.done():  # a waiter that gave up (cancelled) gets nothing
                self._all.take()
                turn.set_result(None)

    # ------------------------------------------------------------ 429s

    def note_429(self, chat_id: int, priority: Priority, retry_after: float, *, had_slack: bool) -> str:
        """Telegram refused a message to `chat_id` with 429: pause what it applies to. `had_slack`:
        the chat had room in its own pace when the message went. Returns what was paused."""
        now = self._clock()
        self._paused_until[chat_id] = max(self._paused_until.get(chat_id, 0.0), now + retry_after)
        if priority is not Priority.ANSWER:
            self._bulk_paused_until = max(self._bulk_paused_until, now + retry_after)
            return "bulk"
        if had_slack and chat_id > 0:
            if now >= self._all_until:
                self.learned += 1
            self._all_until = now + LEARNED_SECONDS
            return "all"
        return "group" if chat_id < 0 else "chat"

    def slack(self, chat_id: int) -> bool:
        """Whether this chat could take another message now (read before sending, for note_429)."""
        return self._chat(chat_id).tokens >= 1
