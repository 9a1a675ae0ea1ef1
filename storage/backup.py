"""Consistent copies of the database: `bot.py backup`, the scheduled backups, the one made before
a migration.

A copy is taken with SQLite's online backup API from a read-only connection, so it is consistent
while the bot writes (WAL) and can never create, migrate or change the source. It is written to a
temporary file beside the target, created readable by its owner only (it holds buyers' phones and
addresses), checked (it opens, passes a quick check and holds the same number of orders as the
source had when it was copied), and only then renamed over the target: a crash or a full disk
leaves either the old target or none, never half a copy.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

BACKUP_MODE = 0o600
SCHEDULED_PREFIX = "livecart-"
SCHEDULED_SUFFIX = ".sqlite3"
_PARTIAL_RE = re.compile(r"^\.livecart-\d{8}-\d{6}-\d{3}\.sqlite3\.\d+\.partial(-wal|-shm|-journal)?$")
_SCHEDULED_RE = re.compile(r"^livecart-\d{8}-\d{6}-\d{3}\.sqlite3$")


class BackupError(Exception):
    """The copy was not made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    orders: int
    schema_version: int
    size: int
    seconds: float


def backup_database(source: str | Path, target: str | Path) -> BackupResult:
    """Copy the database at `source` to `target` (replacing it) and check the copy.

    Blocking: the bot runs it in a thread (asyncio.to_thread).
    """
    began = time.monotonic()
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise BackupError(f"{source} does not exist (or is not a file); nothing was copied")
    if target.is_dir():
        raise BackupError(f"{target} is a directory; give the path of the file to write")
    if _same_file(source, target):
        raise BackupError(f"the target {target} is the database itself; choose another path")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist; create it first")
    temporary = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        # Created 0600 before a byte is written: the copy is never readable by others, not even briefly.
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, BACKUP_MODE))
        os.chmod(temporary, BACKUP_MODE)  # O_CREAT keeps the mode of a file left by an earlier crash
        orders, version = _copy(source, temporary)
        _check(temporary, orders)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return BackupResult(target, orders, version, target.stat().st_size, time.monotonic() - began)


def _same_file(source: Path, target: Path) -> bool:
    if target.exists():
        return os.path.samefile(source, target)
    return source.resolve() == target.resolve()


def _read_only(path: Path) -> sqlite3.Connection:
    """A connection that cannot create or write the file (mode=ro): opening never migrates."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


def _copy(source: Path, temporary: Path) -> tuple[int, int]:
    """Copy in one step inside one read transaction; return (orders, schema version) of that snapshot."""
    try:
        src = _read_only(source)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {source} ({exc})") from None
    try:
        try:
            src.execute("BEGIN")
            version = int(src.execute("PRAGMA user_version").fetchone()[0])
            orders = _order_count(src)
            dest = sqlite3.connect(temporary)
            try:
                src.backup(dest)  # pages=-1: the whole file in one step, the snapshot counted above
                # A self-contained file: no -wal/-shm beside it to copy or lose.
                dest.execute("PRAGMA journal_mode = DELETE")
            finally:
                dest.close()
            src.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} could not be read ({exc}); is it a Livecart database?") from None
    finally:
        src.close()
    return orders, version


def _order_count(conn: sqlite3.Connection) -> int:
    """Orders in the database (0 in one made before the orders table existed)."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders'").fetchone() is None:
        return 0
    return int(conn.execute("SELECT count(*) FROM orders").fetchone()[0])


def _check(path: Path, orders: int) -> None:
    """The copy opens, is sound and holds what the source held."""
    conn = _read_only(path)
    try:
        problem = conn.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise BackupError(f"the copy failed SQLite's check ({problem}); the previous backup is kept")
        copied = _order_count(conn)
        if copied != orders:
            raise BackupError(f"the copy holds {copied} orders, the database {orders}; the previous backup is kept")
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"the copy cannot be read ({exc}); the previous backup is kept") from None
    finally:
        conn.close()


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- scheduled backups and their rotation

def scheduled_name(at: float) -> str:
    """livecart-YYYYMMDD-HHMMSS-mmm.sqlite3 (UTC): names sort in time order."""
    millis = int(at * 1000) % 1000
    return time.strftime(f"{SCHEDULED_PREFIX}%Y%m%d-%H%M%S-{millis:03d}{SCHEDULED_SUFFIX}", time.gmtime(at))


def scheduled_backups(directory: Path) -> list[Path]:
    """The scheduled backups in `directory`, oldest first (other files are never touched)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if _SCHEDULED_RE.match(p.name) and p.is_file())


def rotate(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` scheduled backups; returns what was deleted."""
    backups = scheduled_backups(directory)
    doomed = backups[:-keep] if keep > 0 else backups
    for path in doomed:
        path.unlink(missing_ok=True)
    return doomed


def sweep_partial_copies(directory: Path) -> list[Path]:
    """Delete temporary copies left by a backup that a stop or a crash cut off (never a finished one)."""
    if not directory.is_dir():
        return []
    stale = [p for p in directory.iterdir() if _PARTIAL_RE.match(p.name)]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def pre_migration_path(database: Path, version: int, at: float) -> Path:
    """Where the copy made before migrating from `version` goes: beside the database."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(at))
    return database.with_name(f"{database.name}.v{version}-{stamp}.backup")
