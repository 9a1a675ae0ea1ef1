"""Typed access to the parameters of one Bot API call.

Form and multipart requests carry every value as a string ("10001", "true",
'{"inline_keyboard": ...}'), JSON bodies carry typed values; method handlers
ask for the type they need and get Telegram's error when it does not fit.
Like Telegram, an empty string counts as "not given".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import ApiError, bad_request
from .httpio import UploadedPart

# How Telegram names a parameter whose JSON it cannot parse.
_JSON_NAMES = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "entities",
    "media": "media",
    "prices": "prices",
    "commands": "commands",
    "scope": "BotCommandScope",
    "allowed_updates": "allowed updates",
    "reply_parameters": "reply parameters",
}


@dataclass(frozen=True)
class FileRef:
    """How a call designates a file: an upload, an existing file_id or a URL."""

    kind: str  # "upload" | "file_id" | "url"
    upload: UploadedPart | None = None
    value: str = ""


class Params:
    """The parameters of one call, with Telegram-like coercion and errors."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedPart] | None = None) -> None:
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        value = self.values.get(name)
        return value is not None and value != ""

    def raw(self, name: str) -> Any:
        return self.values.get(name) if self.has(name) else None

    def string(self, name: str, *, required: bool = False) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(f'parameter "{name}" is required')
            return None
        if isinstance(value, (dict, list)):
            raise bad_request(f'field "{name}" must be of type String')
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, *, required: bool = False, default: int | None = None) -> int | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise bad_request(f'parameter "{name}" is required')
            return default
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).strip().lower() in ("true", "1")

    def json(self, name: str) -> Any:
        """A JSON-valued parameter, decoded."""
        value = self.raw(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {_JSON_NAMES.get(name, name)} JSON object") from None

    def chat_id(self) -> int | str:
        """chat_id as an int, or an "@username" string."""
        value = self.raw("chat_id")
        if value is None:
            raise bad_request("chat_id is empty")
        if isinstance(value, bool):
            raise bad_request("chat not found")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def file_ref(self, name: str, value: Any = None) -> FileRef | None:
        """Resolve a file parameter (or a value from a media JSON object).

        PTB puts a single upload in a part named like the parameter, and
        media-array uploads behind ``attach://<part>``.
        """
        if value is None:
            if name in self.files and not self.has(name):
                return FileRef("upload", upload=self.files[name])
            value = self.raw(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise bad_request(f'field "{name}" must be of type String')
        if value.startswith("attach://"):
            part = self.files.get(value[len("attach://") :])
            if part is None:
                raise bad_request(f"can't find attached file \"{value[len('attach://'):]}\"")
            return FileRef("upload", upload=part)
        if value.startswith(("http://", "https://")):
            return FileRef("url", value=value)
        return FileRef("file_id", value=value)


def require(condition: bool, error: ApiError) -> None:
    """Raise ``error`` unless ``condition`` holds (keeps handlers flat)."""
    if not condition:
        raise error
