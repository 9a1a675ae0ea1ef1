"""Telegram Mini App init data: checked as Telegram's documentation describes, before anything
the Mini App's API does.

The page receives `Telegram.WebApp.initData`, a query string signed by Telegram with the bot's
token: secret = HMAC-SHA256(key="WebAppData", msg=bot token), and the `hash` field is the hex
HMAC-SHA256(key=secret, msg=data-check-string), where the data-check-string is every other field
as "key=value", sorted by key, joined by "\\n" (the `signature` field, Telegram's Ed25519 proof for
third parties, is one of those fields). The page sends it with every call; the server checks it
and its age.

Age: `auth_date` is when Telegram signed it (when the Mini App was opened). Init data older than
MAX_AGE is refused; a page left open longer asks Telegram for fresh init data by reopening from
the bot's button, and keeps its cart in the page's storage meanwhile (miniapp/app.js). One day:
long enough for a live session and its after-sales browsing, short enough that a leaked string
(a screenshot of a debug console) stops working by tomorrow.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_AGE = 24 * 3600
# A clock a little ahead of Telegram's still accepts a just-signed string.
CLOCK_SKEW = 60
MAX_LENGTH = 8192  # Telegram's init data is well under 2 KB; anything near this is not from it


class InitDataRefused(Exception):
    """Init data that must not be trusted: missing, malformed, forged, altered or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class InitData:
    """What a checked init data says: who opens the Mini App, and from where."""

    user_id: int
    first_name: str
    last_name: str
    username: str | None
    language_code: str | None
    allows_write_to_pm: bool
    auth_date: int
    start_param: str | None
    query_id: str | None


def _secret(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields) if key != "hash")


def sign(fields: dict[str, Any], bot_token: str) -> str:
    """Init data as Telegram makes it (for the sandbox and the tests, which play Telegram)."""
    plain = {key: value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
             for key, value in fields.items()}
    digest = hmac.new(_secret(bot_token), _check_string(plain).encode(), hashlib.sha256).hexdigest()
    return urlencode({**plain, "hash": digest})


def verify(init_data: str, bot_token: str, *, now: float | None = None, max_age: int = MAX_AGE) -> InitData:
    """The checked init data, or InitDataRefused (its reason says which check failed)."""
    if not init_data or len(init_data) > MAX_LENGTH:
        raise InitDataRefused("missing" if not init_data else "too_long")
    try:
        pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise InitDataRefused("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):  # a field given twice: which one was signed?
        raise InitDataRefused("malformed")
    given = fields.get("hash", "")
    expected = hmac.new(_secret(bot_token), _check_string(fields).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise InitDataRefused("bad_hash")
    try:
        auth_date = int(fields["auth_date"])
        user = json.loads(fields["user"])
        user_id = int(user["id"])
    except (KeyError, ValueError, TypeError):
        raise InitDataRefused("malformed") from None
    moment = time.time() if now is None else now
    if auth_date > moment + CLOCK_SKEW or moment - auth_date > max_age:
        raise InitDataRefused("expired")
    return InitData(
        user_id=user_id, first_name=str(user.get("first_name") or ""), last_name=str(user.get("last_name") or ""),
        username=user.get("username"), language_code=user.get("language_code"),
        allows_write_to_pm=bool(user.get("allows_write_to_pm")), auth_date=auth_date,
        start_param=fields.get("start_param"), query_id=fields.get("query_id"))
