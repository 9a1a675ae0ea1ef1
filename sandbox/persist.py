"""Keeping the pretend Telegram's files beside a kept database (`--db PATH`).

The database remembers products by the file_id of their photo, and QR codes by the file_id they
were uploaded under. Telegram keeps those files forever; the fake keeps them in memory. So with a
kept database the sandbox also keeps the fake's files, in `<database>.files/`, and loads them at
the next start: product cards then still show their photos. Chats themselves start empty.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from pathlib import Path
from typing import Any

from faketg import FakeFile
from faketg.media import FileStore

log = logging.getLogger(__name__)

INDEX = "index.json"
SAVE_EVERY = 5.0  # seconds between checks for new files
_NUMBER = re.compile(r"(\d+)$")
_FIELDS = ("file_id", "file_unique_id", "kind", "file_path", "file_name", "mime_type", "width", "height", "from_bot")


def files_folder(database: Path) -> Path:
    return database.with_name(database.name + ".files")


def save_files(store: FileStore, folder: Path) -> int:
    """Write every file not yet saved, then the index; returns how many files there are."""
    return _write(_snapshot(store), folder)


def _snapshot(store: FileStore) -> tuple[list[FakeFile], list[list[str]]]:
    # Taken on the event loop, so the store does not change while it is read.
    groups = {tuple(size.file_id for size in sizes) for sizes in store.photos.values()}
    return list(store.by_id.values()), sorted(list(group) for group in groups)


def _write(snapshot: tuple[list[FakeFile], list[list[str]]], folder: Path) -> int:
    files, groups = snapshot
    folder.mkdir(parents=True, exist_ok=True)
    for stored in files:
        blob = folder / f"{stored.file_unique_id}.bin"
        if not blob.exists():
            blob.write_bytes(stored.data)
    index: dict[str, Any] = {"files": [{name: getattr(f, name) for name in _FIELDS} for f in files], "photos": groups}
    partial = folder / (INDEX + ".partial")
    partial.write_text(json.dumps(index, ensure_ascii=False), encoding="utf-8")
    partial.replace(folder / INDEX)
    return len(files)


def load_files(store: FileStore, folder: Path) -> int:
    """Put the saved files back into an empty file store; returns how many were loaded."""
    index_path = folder / INDEX
    if not index_path.is_file():
        return 0
    index = json.loads(index_path.read_text(encoding="utf-8"))
    highest = 0
    for entry in index["files"]:
        blob = folder / f"{entry['file_unique_id']}.bin"
        if not blob.is_file():
            log.warning("sandbox: saved file %s is missing from %s; skipped", entry["file_id"], folder)
            continue
        stored = FakeFile(data=blob.read_bytes(), **{name: entry.get(name) for name in _FIELDS})
        store.by_id[stored.file_id] = stored
        store.by_path[stored.file_path] = stored
        if match := _NUMBER.search(stored.file_id):
            highest = max(highest, int(match.group(1)))
    for group in index["photos"]:
        sizes = [store.by_id[file_id] for file_id in group if file_id in store.by_id]
        if len(sizes) == len(group):
            for size in sizes:
                store.photos[size.file_id] = sizes
    # New files must not reuse a loaded file's number (the fake numbers them from 1).
    store._ids = itertools.count(highest + 1)
    return len(store.by_id)


async def keep_saving(store: FileStore, folder: Path) -> None:
    """Save new files every few seconds (so a hard stop loses at most a few), until cancelled."""
    saved = len(store.by_id)
    while True:
        await asyncio.sleep(SAVE_EVERY)
        if len(store.by_id) != saved:
            try:
                saved = await asyncio.to_thread(_write, _snapshot(store), folder)
            except OSError as exc:
                log.warning("sandbox: could not save the fake Telegram's files to %s: %s", folder, exc)
