"""Small helpers for reading python-telegram-bot's errors."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import RetryAfter
from telegram.warnings import PTBDeprecationWarning


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait, through the public attribute only.

    PTB 22 returns whole seconds (an int, with a deprecation warning) unless PTB_TIMEDELTA is set,
    and a timedelta in its next major release; both are read here, the warning kept quiet because
    the timedelta case is already handled. The Bot API's retry_after is a whole number of seconds,
    so the int loses nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
