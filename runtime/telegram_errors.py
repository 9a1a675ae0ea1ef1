"""Small helpers for reading python-telegram-bot's errors."""

from __future__ import annotations

from datetime import timedelta

from telegram.error import RetryAfter


def retry_after_seconds(exc: RetryAfter) -> float:
    """Seconds Telegram asked us to wait. PTB 22 keeps a timedelta and (for now) exposes an int
    with a deprecation warning; read the timedelta where it is, the public value otherwise."""
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    public = exc.retry_after
    return public.total_seconds() if isinstance(public, timedelta) else float(public)
