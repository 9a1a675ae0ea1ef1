"""The callback-data codec: `action:arg:arg`, at most 64 bytes, never trusted.

Every button carries an action name and integer arguments. Parsing refuses anything else, and
handlers still re-check that the user may act on the shop or order named.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_BYTES = 64
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,31}$")
_ARG_RE = re.compile(r"^-?\d{1,19}$|^[A-Za-z0-9_-]{1,40}$")


class CallbackDataError(ValueError):
    """The callback data is not something this bot produced."""


@dataclass(frozen=True)
class Callback:
    action: str
    args: tuple[str, ...]

    def int(self, index: int) -> int:
        """Argument `index` as an integer; CallbackDataError when absent or not a number."""
        try:
            return int(self.args[index])
        except (IndexError, ValueError):
            raise CallbackDataError(f"argument {index} of {self.action!r} is not a number") from None

    def opt_int(self, index: int) -> int | None:
        """Argument `index` as an integer, or None when absent or not a number."""
        try:
            return self.int(index)
        except CallbackDataError:
            return None


def encode(action: str, *args: object) -> str:
    if not _ACTION_RE.match(action):
        raise ValueError(f"bad callback action {action!r}")
    parts = [action]
    for arg in args:
        text = str(arg)
        if not _ARG_RE.match(text):
            raise ValueError(f"bad callback argument {text!r}")
        parts.append(text)
    data = ":".join(parts)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str | None) -> Callback:
    if not data or len(data.encode("utf-8", "replace")) > MAX_BYTES:
        raise CallbackDataError("empty or too long")
    action, *args = data.split(":")
    if not _ACTION_RE.match(action) or not all(_ARG_RE.match(a) for a in args):
        raise CallbackDataError(f"malformed callback data {data!r}")
    return Callback(action, tuple(args))

