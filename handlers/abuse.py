"""Flood protection: a user sending more updates than a person could is slowed down.

Runs before every other handler. Over the limit, the update is answered once with a short note
(so a tapped button stops spinning) and goes no further. Counting is in memory and per user, so
one user's flood costs the others nothing.
"""

from __future__ import annotations

import time
from collections import deque

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from telegram.error import TelegramError

from core.i18n import translator
from handlers.common import Context, query_of, services, translator_for

WINDOW = 60.0


class FloodGate:
    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def allow(self, user_id: int) -> bool:
        now = self._clock()
        stamps = self._seen.setdefault(user_id, deque())
        while stamps and now - stamps[0] > WINDOW:
            stamps.popleft()
        if len(stamps) >= self.per_minute:
            return False
        stamps.append(now)
        if len(self._seen) > 100_000:  # forget quiet users now and then
            self._seen = {u: s for u, s in self._seen.items() if s and now - s[-1] <= WINDOW}
        return True

    def should_warn(self, user_id: int) -> bool:
        """Say "slow down" once per window, not once per dropped update."""
        now = self._clock()
        if now - self._warned.get(user_id, -WINDOW - 1) > WINDOW:
            self._warned[user_id] = now
            return True
        return False


# The kinds of update the handlers act on. polling and the webhook ask Telegram for only these
# (allowed_updates), but that is a request, not a guarantee: a webhook registered earlier, a
# self-hosted Bot API server or a forged POST can still bring an edited message, a channel post or
# a business message, and PTB's CommandHandler and MessageHandler would run commands from them.
HANDLED_KINDS = ("message", "callback_query", "pre_checkout_query", "my_chat_member")


async def only_handled_kinds(update: Update, context: Context) -> None:
    """Stop every update that is not a new message, a button tap or a pre-checkout query: an
    edited "/newshop" must not open a second shop, nor an edited address re-enter checkout."""
    if not any(getattr(update, kind, None) is not None for kind in HANDLED_KINDS):
        raise ApplicationHandlerStop


async def gate(update: Update, context: Context) -> None:
    """Stop updates of a user who is over the limit."""
    user = update.effective_user
    if user is None:
        return
    flood: FloodGate | None = context.bot_data.get("flood_gate")
    if flood is None:  # made once, not on every update
        flood = context.bot_data["flood_gate"] = FloodGate(services(context).config.limits.updates_per_user_per_minute)
    if flood.allow(user.id):
        reason = await services(context).store.operator.user_suspension(user.id)
        if reason is None:
            return
        await _say(update, context, user.id, "account.suspended", reason=reason)
        raise ApplicationHandlerStop
    if update.callback_query is not None or flood.should_warn(user.id):
        await _say(update, context, user.id, "abuse.slow_down")
    raise ApplicationHandlerStop


async def _say(update: Update, context: Context, user_id: int, key: str, **values: object) -> None:
    """A stopped update's one answer, in the user's language (a toast for a tap)."""
    config = services(context).config
    known = await services(context).store.users.get(user_id)
    t = translator_for(known, config) if known else translator(config.language)
    text = t.plain(key, **values)
    try:
        if update.callback_query is not None:
            await query_of(update).answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await update.effective_chat.send_message(text)
    except TelegramError:
        pass
