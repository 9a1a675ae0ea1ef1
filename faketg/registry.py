"""The table of Bot API methods the fake implements.

Handlers register under their canonical name; lookup is case-insensitive,
as Telegram's is (``sendmessage`` and ``SENDMESSAGE`` both work).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .params import Params
    from .server import FakeTelegram

# A handler returns the "result" (or an awaitable of it) or raises ApiError.
Handler = Callable[["FakeTelegram", "Params"], Any]

METHODS: dict[str, tuple[str, Handler]] = {}
H = TypeVar("H", bound=Handler)


def api_method(name: str) -> Callable[[H], H]:
    """Register a handler for the Bot API method ``name``."""

    def register(handler: H) -> H:
        METHODS[name.lower()] = (name, handler)
        return handler

    return register


def lookup(method: str) -> tuple[str, Handler] | None:
    """(canonical name, handler) for a method name in any case."""
    return METHODS.get(method.lower())


class Described:
    """A result Telegram accompanies with a "description" (e.g. "Webhook was set")."""

    def __init__(self, result: Any, description: str) -> None:
        self.result = result
        self.description = description
