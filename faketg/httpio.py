"""Reading Bot API requests off an ASGI connection, and writing replies.

Telegram accepts parameters as a query string, ``application/json``,
``application/x-www-form-urlencoded`` or ``multipart/form-data``.  PTB uses
form encoding for ordinary calls and multipart when it uploads a file; in
both every value is a string and complex values are JSON inside it.

The multipart parser is hand-written (stdlib only) and byte-exact, because
uploads are binary and must reach the file store unchanged.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from .errors import ApiError

# ASGI 3 types, spelled out so no framework is needed.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class UploadedPart:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class ParsedRequest:
    """Parameters (raw values) and file parts of one call."""

    values: dict[str, Any]
    files: dict[str, UploadedPart]
    typed: bool  # True for JSON bodies, whose values are already typed


async def read_body(receive: Receive) -> bytes:
    """Collect the whole request body from ASGI ``http.request`` messages."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def header(scope: Scope, name: bytes) -> str:
    """A request header from an ASGI scope ('' when absent)."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def _split_content_type(value: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = value.partition(";")
    return kind.strip().lower(), _header_params(rest)


# name=value pairs of a header such as Content-Disposition; values may be quoted.
_PARAM = re.compile(r';?\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(text: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in _PARAM.findall(text):
        value = value.strip()
        if value.startswith('"') and value.endswith('"') and len(value) >= 2:
            # httpx and browsers percent-escape '"' (and CR/LF) in names;
            # older clients backslash-escape.
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
            value = value.replace("%22", '"').replace("%0D", "\r").replace("%0A", "\n")
        name = name.lower()
        if name.endswith("*"):  # RFC 5987: filename*=utf-8''na%C3%AFve.txt
            charset, _, encoded = value.partition("''")
            value = unquote(encoded, encoding=charset or "utf-8", errors="replace")
            name = name[:-1]
        params[name] = value
    return params


def parse_multipart(body: bytes, boundary: str) -> tuple[dict[str, str], dict[str, UploadedPart]]:
    """Split a multipart/form-data body into text fields and file parts."""
    values: dict[str, str] = {}
    files: dict[str, UploadedPart] = {}
    delimiter = b"\r\n--" + boundary.encode("latin-1")
    # Prepending CRLF lets the first delimiter match like all the others.
    pieces = (b"\r\n" + body).split(delimiter)
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break  # the closing delimiter
        # The rest of the delimiter line (transport padding) ends with CRLF.
        _, _, piece = piece.partition(b"\r\n")
        head, separator, data = piece.partition(b"\r\n\r\n")
        if not separator:
            raise ApiError(400, "Bad Request: can't parse multipart/form-data body")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", "").partition(";")[2])
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition:
            files[name] = UploadedPart(name, disposition["filename"] or None, headers.get("content-type"), data)
        else:
            values[name] = data.decode("utf-8", "replace")
    return values, files


def parse_request(scope: Scope, body: bytes) -> ParsedRequest:
    """Parameters of a Bot API call from its query string and body."""
    values: dict[str, Any] = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    files: dict[str, UploadedPart] = {}
    typed = False
    kind, options = _split_content_type(header(scope, b"content-type"))
    if kind == "application/json" and body.strip():
        try:
            decoded = json.loads(body)
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON encoded request body") from None
        if not isinstance(decoded, dict):
            raise ApiError(400, "Bad Request: JSON request body must be an object")
        values.update(decoded)
        typed = True
    elif kind == "multipart/form-data":
        if "boundary" not in options:
            raise ApiError(400, "Bad Request: multipart/form-data without boundary")
        fields, files = parse_multipart(body, options["boundary"])
        values.update(fields)
    elif body:
        values.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return ParsedRequest(values, files, typed)


async def send_json(send: Send, status: int, payload: Any) -> None:
    """Answer with a JSON body."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    await send_bytes(send, status, data, "application/json")


async def send_bytes(send: Send, status: int, data: bytes, content_type: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
