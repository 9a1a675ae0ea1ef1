"""Telegram's flood control, modelled so the bot's pacing can be tested and measured.

Telegram does not publish exact limits. What it documents: avoid more than about one message a
second to one chat (short bursts are tolerated), 20 a minute to one group, and about 30 a second
for bulk notifications to many users; past a limit the call fails with 429 and `retry_after`.
Two models of that, chosen per fake:

- ``documented``: per chat about 1/s with a short burst, per group 20/min, and 30/s overall for
  messages to chats that have not written to the bot recently (bulk notifications). Replies to a
  chat that has just written are held only to that chat's pace.
- ``strict``: the same, and every chat-bound message counts against the 30/s overall.

Only calls that put or change a message in a chat count (send*, edit*, copy, forward);
answerCallbackQuery, getUpdates and the like are not messages. A refused call changes nothing and
takes no budget, as a real flood-wait. `retry_after` is whole seconds, at least 1, as Telegram's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import too_many_requests

MODELS = ("documented", "strict")
NOT_MESSAGES = frozenset({"sendchataction"})  # "typing…" is not a message


def counts_as_message(method: str) -> bool:
    """Whether a Bot API method puts or changes a message in a chat (what flood limits count)."""
    m = method.lower()
    if m in NOT_MESSAGES:
        return False
    return m.startswith(("send", "edit", "copymessage", "forwardmessage"))


@dataclass
class Bucket:
    """`rate` tokens a second, holding at most `burst`."""

    rate: float
    burst: float
    tokens: float = field(default=-1.0)
    at: float = 0.0

    def wait(self, now: float) -> float:
        """Seconds until a token is there (0: one is there now)."""
        if self.tokens < 0:  # a new bucket starts full
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


@dataclass(frozen=True)
class FloodModel:
    """The figures of one model; the defaults are Telegram's documented ones."""

    name: str = "documented"
    per_chat_rate: float = 1.0
    per_chat_burst: float = 5.0  # "short bursts": Telegram gives no number
    per_group_per_minute: float = 20.0
    group_burst: float = 3.0
    overall_rate: float = 30.0
    overall_burst: float = 30.0
    recent_seconds: float = 60.0  # a chat that wrote within this long is answered, not bulk-notified

    def __post_init__(self) -> None:
        if self.name not in MODELS:
            raise ValueError(f"flood model must be one of {MODELS}, not {self.name!r}")


class FloodControl:
    """Decides, call by call, whether Telegram would refuse it with 429."""

    def __init__(self, model: FloodModel, clock: Callable[[], float]) -> None:
        self.model = model
        self._clock = clock
        self._chats: dict[int, Bucket] = {}
        self._overall = Bucket(model.overall_rate, model.overall_burst)
        self._last_heard: dict[int, float] = {}  # chat -> when a user last wrote or tapped there
        self.refused = 0
        self.refused_by: dict[str, int] = {"chat": 0, "group": 0, "overall": 0}

    def heard_from(self, chat_id: int) -> None:
        """A user wrote or tapped in this chat (a reply to it is not a bulk notification)."""
        self._last_heard[chat_id] = self._clock()

    def _chat_bucket(self, chat_id: int) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            m = self.model
            bucket = (Bucket(m.per_group_per_minute / 60, m.group_burst) if chat_id < 0
                      else Bucket(m.per_chat_rate, m.per_chat_burst))
            self._chats[chat_id] = bucket
        return bucket

    def _counts_overall(self, chat_id: int, now: float) -> bool:
        if self.model.name == "strict":
            return True
        heard = self._last_heard.get(chat_id)
        return heard is None or now - heard > self.model.recent_seconds

    def check(self, method: str, chat_id: Any) -> None:
        """Raise 429 if this call is over a limit; otherwise count it."""
        if not isinstance(chat_id, int) or not counts_as_message(method):
            return
        now = self._clock()
        chat = self._chat_bucket(chat_id)
        chat_wait = chat.wait(now)
        overall = self._counts_overall(chat_id, now)
        overall_wait = self._overall.wait(now) if overall else 0.0
        if chat_wait or overall_wait:
            self.refused += 1
            which = "overall" if overall_wait > chat_wait else ("group" if chat_id < 0 else "chat")
            self.refused_by[which] += 1
            raise too_many_requests(max(1, math.ceil(max(chat_wait, overall_wait))))
        chat.take()
        if overall:
            self._overall.take()
