"""The bot's log: one line per event, as text or JSON, never a buyer's phone number or address.

Log lines end up in journald, in files copied around, in bug reports. Buyers' phones and addresses
have no business there, so masking happens in the formatter, for every logger (ours, PTB's,
uvicorn's), in three ways:

* values of structured data passed as arguments (an update, an outbox message's parameters) are
  masked by key: text a user typed or a message carries may be an address, so `text` and `caption`
  go with `phone_number`, `address`, `recipient`, `vcard` and the coordinates of a location;
* the same keys inside JSON or repr() text already formatted into the message;
* phone numbers anywhere: `+` and 7-15 digits, or a Chinese mobile number (1[3-9]x xxxx xxxx).

Tracebacks and multi-line messages keep one line per event: line breaks are written as `\\n`
(text) or inside the JSON string (json).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

PERSONAL_KEYS = frozenset({
    "phone", "phone_number", "address", "recipient", "text", "caption", "vcard", "latitude", "longitude",
    "street_line1", "street_line2", "post_code",
})
MASK = "***"
PHONE_MASK = "[phone]"

_KEYS = "|".join(sorted(PERSONAL_KEYS, key=len, reverse=True))
# "key": "value" (JSON) and 'key': 'value' / "value" (repr), values with escaped quotes inside.
_QUOTED_VALUE = re.compile(
    rf"""(?P<key>(?P<q>["'])(?:{_KEYS})(?P=q)\s*:\s*)(?:"(?:\\.|[^"\\])*"?|'(?:\\.|[^'\\])*'?|-?\d+(?:\.\d+)?)""")
_PHONE = re.compile(
    r"(?<![\w+])\+\d[\d\s().-]{5,18}\d(?!\d)"  # +86 138 0013 8000, +1 (555) 010-9999
    r"|(?<!\d)1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)"  # 13800138000, 138-0013-8000
)


def mask(text: str) -> str:
    """`text` without phone numbers and without the values of personal keys."""
    text = _QUOTED_VALUE.sub(lambda m: f"{m['key']}{m['q']}{MASK}{m['q']}", text)
    return _PHONE.sub(PHONE_MASK, text)


def scrub(value: Any, depth: int = 0) -> Any:
    """A copy of structured data with personal values masked (by key), for log arguments."""
    if depth > 20:
        return MASK
    if isinstance(value, Mapping):
        return {k: (MASK if isinstance(k, str) and k in PERSONAL_KEYS else scrub(v, depth + 1))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(scrub(v, depth + 1) for v in value)
    return value


def message_of(record: logging.LogRecord) -> str:
    """The record's message with its arguments scrubbed, then masked."""
    message = str(record.msg)
    if record.args:
        args = record.args
        args = scrub(args) if isinstance(args, Mapping) else tuple(scrub(a) for a in args)
        try:
            message = message % args
        except (TypeError, ValueError):
            message = f"{message} {args!r}"
    return mask(message)


class _OneLine(logging.Formatter):
    def exception_text(self, record: logging.LogRecord) -> str | None:
        if record.exc_info:
            return mask(self.formatException(record.exc_info))
        if record.exc_text:
            return mask(record.exc_text)
        return None


class TextFormatter(_OneLine):
    """2026-12-02 16:16:37,123 INFO livecart: message (line breaks as \\n)."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{self.formatTime(record)} {record.levelname} {record.name}: {message_of(record)}"
        exc = self.exception_text(record)
        if exc:
            line = f"{line} | {exc}"
        if "\n" in line or "\r" in line:
            line = line.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
        return line


class JsonFormatter(_OneLine):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and exc when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": message_of(record),
        }
        exc = self.exception_text(record)
        if exc:
            entry["exc"] = exc
        return json.dumps(entry, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else TextFormatter()


def configure_logging(kind: str = "text", level: str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records through one masking, one-line handler (replacing earlier ones)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(kind))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    return handler
