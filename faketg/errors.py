"""Bot API errors as Telegram reports them.

Every refusal the fake makes is an :class:`ApiError`; the server turns it into
``{"ok": false, "error_code": N, "description": "...", "parameters": {...}}``
with the HTTP status equal to ``error_code``, which is what python-telegram-bot
maps to ``BadRequest`` (400), ``Forbidden`` (403), ``Conflict`` (409),
``RetryAfter`` (429) and ``NetworkError`` (5xx).
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error reply."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        # PTB treats any other "parameters" as unexpected and appends them to the
        # message, so only send the block when there is something real in it.
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    """400 with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    """403 with Telegram's ``Forbidden: `` prefix."""
    return ApiError(403, f"Forbidden: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    """429 flood-wait, the way Telegram words it."""
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


# Descriptions used when a test injects a fault without giving one.
DEFAULT_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: injected by faketg",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}

EDIT_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
