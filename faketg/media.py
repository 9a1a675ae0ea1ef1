"""Files Telegram stores: photos (as PhotoSize sets) and documents.

An uploaded photo becomes a list of sizes, smallest first; the largest has
the picture's real dimensions (read with Pillow), the smaller ones are
scaled JPEGs.  Each size has its own file_id; sending any of them again
re-sends the whole photo without a new upload, which is what bots rely on
to avoid uploading the same product picture twice.
"""

from __future__ import annotations

import io
import itertools
import mimetypes
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from .errors import bad_request

PHOTO_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
DOWNLOAD_MAX_BYTES = 20 * 1024 * 1024
# Long-side sizes Telegram generates below the original ("s", "m", "x", "y").
THUMBNAIL_SIDES = (90, 320, 800, 1280)
LARGEST_SIDE = 2560


@dataclass(eq=False)
class FakeFile:
    """One stored file (a single photo size, or a document)."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    data: bytes = field(repr=False)
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None
    from_bot: bool = True

    @property
    def file_size(self) -> int:
        return len(self.data)

    def photo_size_json(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "width": self.width,
            "height": self.height,
            "file_size": self.file_size,
        }

    def document_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
        }
        if self.file_name is not None:
            result["file_name"] = self.file_name
        if self.mime_type is not None:
            result["mime_type"] = self.mime_type
        return result

    def file_json(self) -> dict[str, Any]:
        """The Bot API File object returned by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


def make_png(width: int = 640, height: int = 480, color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    """A small solid-colour PNG, for photos a test does not care about."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(image: Image.Image, width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    image.convert("RGB").resize((width, height)).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def _scaled(width: int, height: int, side: int) -> tuple[int, int]:
    """Dimensions scaled so the long side is ``side``."""
    ratio = side / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


class FileStore:
    """Every file the fake knows, by file_id and by file_path."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self.by_id: dict[str, FakeFile] = {}
        self.by_path: dict[str, FakeFile] = {}
        # file_id of any size -> the whole photo (smallest first)
        self.photos: dict[str, list[FakeFile]] = {}

    def _new(self, kind: str, data: bytes, extension: str, **details: Any) -> FakeFile:
        n = next(self._ids)
        # Real ids are opaque base64; these keep Telegram's type prefixes
        # (AgAC photo, BQAC document) and stay readable in test failures.
        prefix = "AgAC" if kind == "photo" else "BQAC"
        folder = "photos" if kind == "photo" else "documents"
        stored = FakeFile(
            file_id=f"{prefix}FakeFile{n:06d}",
            file_unique_id=f"AQADFake{n:06d}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{n}{extension}",
            **details,
        )
        self.by_id[stored.file_id] = stored
        self.by_path[stored.file_path] = stored
        return stored

    def add_photo(self, data: bytes, *, from_bot: bool = True) -> list[FakeFile]:
        """Store an uploaded picture as a PhotoSize set (smallest first)."""
        if len(data) > PHOTO_MAX_BYTES:
            raise bad_request("file is too big")
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except (UnidentifiedImageError, OSError, ValueError):
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        width, height = image.size
        if width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")

        sizes: list[FakeFile] = []
        for side in THUMBNAIL_SIDES:
            if max(width, height) > side:
                w, h = _scaled(width, height, side)
                sizes.append(self._new("photo", _jpeg(image, w, h), ".jpg", width=w, height=h, from_bot=from_bot))
        if max(width, height) > LARGEST_SIDE:
            w, h = _scaled(width, height, LARGEST_SIDE)
            largest = self._new("photo", _jpeg(image, w, h), ".jpg", width=w, height=h, from_bot=from_bot)
        else:
            # The original bytes are kept, so a test can decode exactly what the bot
            # sent (a QR code, say); Telegram would recompress them to JPEG.
            extension = ".png" if image.format == "PNG" else ".jpg"
            largest = self._new("photo", data, extension, width=width, height=height, from_bot=from_bot)
        sizes.append(largest)
        for size in sizes:
            self.photos[size.file_id] = sizes
        return sizes

    def add_document(
        self, data: bytes, file_name: str | None, mime_type: str | None, *, from_bot: bool = True
    ) -> FakeFile:
        if len(data) > DOCUMENT_MAX_BYTES:
            raise bad_request("file is too big")
        if mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0]
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1][:10]
        return self._new(
            "document", data, extension, file_name=file_name, mime_type=mime_type, from_bot=from_bot
        )

    def get(self, file_id: str) -> FakeFile | None:
        return self.by_id.get(file_id)
