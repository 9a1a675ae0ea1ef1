"""Small helpers for reading python-telegram-bot's errors."""

from __future__ import annotations

from telegram.error import RetryAfter


def retry_after_seconds(exc: RetryAfter) -> float:
    """PTB 22 gives retry_after as a timedelta (older versions: int seconds)."""
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
