"""Exactly once across a crash: what an update's handling read and wrote, committed with its writes.

The inbox replays every update whose handling a crash cut short. Replaying it blindly would do
its writes again (a second "Add to cart" doubles the cart; a second product from /addproduct),
and a handler that writes in several transactions may have committed some of them. So while an
update is handled (`handling()`, set up by runtime/updates.py) the store's calls are journaled:

* a write method (`@journaled_write`) commits, in its own transaction, a row of `update_steps`
  holding its result and the results of the reads made since the previous write;
* a read method (`@journaled_read`) only remembers its result in memory, to be saved with the
  next write (a read that no write follows changed nothing worth replaying).

The rows of an update are useless once it is marked processed (it is never replayed again);
`Inbox.prune` clears them with the housekeeping, so marking stays one write to the inbox.

On a replay each journaled call made before the last committed write returns what it returned
the first time, without touching the database, so the handler takes the same branches and
sends the same answers (an edit or a toast is simply sent again), and no write is done twice.
Calls past the last committed write run for real. A call is known by its method and how many
times the update called that method before, so a handler must make its store calls in the same
order for the same inputs, which handlers do: they are plain code over the update and the store.

Results are stored as JSON; dataclasses (their fields in order) and enums are rebuilt only from
the storage and core packages, never from any class a row names. A replay across an upgrade that
changed such a dataclass cannot rebuild it: that update fails with the usual apology, and still
does nothing twice.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from storage.engine import Engine

T = TypeVar("T")
P = ParamSpec("P")  # the store method's own parameters: mypy checks every call through the journal
_TRUSTED_MODULES = ("storage.", "core.")


class UpdateJournal:
    """The journal of one update being handled."""

    def __init__(self, update_id: int, recorded: Sequence[str] = ()) -> None:
        self.update_id = update_id
        self._recorded: dict[str, Any] = {}  # call key -> JSON-ready value, from an earlier run
        for row in recorded:
            self._recorded.update(json.loads(row))
        self._rows = len(recorded)  # rows saved so far (the next one's sequence number)
        self._calls: dict[str, int] = {}
        self._unsaved: dict[str, Any] = {}  # reads since the last saved row
        self.replayed_calls = 0  # calls answered from the journal (tests, logs)
        self.inside = False  # within a journaled call: the store calls it makes are part of it

    @property
    def replaying(self) -> bool:
        return bool(self._recorded)

    def key(self, name: str) -> str:
        n = self._calls.get(name, 0)
        self._calls[name] = n + 1
        return f"{name}#{n}"

    def recalled(self, key: str) -> tuple[bool, Any]:
        if key not in self._recorded:
            return False, None
        self.replayed_calls += 1
        return True, decode(self._recorded[key])

    def remember(self, key: str, value: Any) -> None:
        self._unsaved[key] = value  # encoded only if a write follows (most reads are not saved)

    def take_row(self, key: str, value: Any) -> tuple[int, str]:
        """The row to save with a write: its sequence number and the calls it records."""
        self._unsaved[key] = value
        row = json.dumps({k: encode(v) for k, v in self._unsaved.items()}, ensure_ascii=False,
                         separators=(",", ":"))
        self._unsaved = {}
        self._rows += 1
        return self._rows - 1, row


_CURRENT: ContextVar[UpdateJournal | None] = ContextVar("livecart_update_journal", default=None)


@contextmanager
def handling(journal: UpdateJournal) -> Iterator[UpdateJournal]:
    """Journal the store calls made in this block (and the tasks it awaits) under `journal`."""
    token = _CURRENT.set(journal)
    try:
        yield journal
    finally:
        _CURRENT.reset(token)


def current() -> UpdateJournal | None:
    return _CURRENT.get()


async def recorded_rows(db: Engine, update_id: int) -> list[str]:
    rows = await db.fetch_all("SELECT calls FROM update_steps WHERE update_id = ? ORDER BY seq", (update_id,))
    return [r[0] for r in rows]


def journaled_read(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A store read a handler decides by: replayed from the journal, remembered for the next write."""
    name = method.__qualname__

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        journal = _CURRENT.get()
        if journal is None or journal.inside:
            return await method(*args, **kwargs)
        key = journal.key(name)
        found, value = journal.recalled(key)
        if found:
            return value
        value = await method(*args, **kwargs)
        journal.remember(key, value)
        return value

    return wrapper


def journaled_write(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """A store write: done at most once per update, its journal row committed with it.

    The repository must keep its Engine as `self._db`. Store calls made inside it (a nested
    write, the reads of a message renderer) are part of it and not journaled on their own."""
    name = method.__qualname__

    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        journal = _CURRENT.get()
        if journal is None or journal.inside:
            return await method(*args, **kwargs)
        key = journal.key(name)
        found, value = journal.recalled(key)
        if found:
            return value
        db: Engine = args[0]._db  # type: ignore[attr-defined]  # the repository's (self) Engine
        journal.inside = True
        try:
            async with db.hold_commit() as held:
                value = await method(*args, **kwargs)
                if held.open:  # it wrote: its result and the reads before it commit with it
                    seq, row = journal.take_row(key, value)
                    held.before_commit.append((
                        "INSERT INTO update_steps (update_id, seq, calls) VALUES (?, ?, ?)",
                        (journal.update_id, seq, row)))
                else:  # nothing written (e.g. a user seen before): it is a read
                    journal.remember(key, value)
        finally:
            journal.inside = False
        return value

    return wrapper


# ---------------------------------------------------------------- results as JSON

_PLAIN = (type(None), bool, int, float, str)
_DATACLASS_FIELDS: dict[type, tuple[str, tuple[str, ...]]] = {}  # class -> (its name, its fields)


def encode(value: Any) -> Any:
    """A JSON-ready form of a store result: plain values, lists, tuples, dicts, our dataclasses.

    On the hot path (every write of every update), hence the exact-type checks and the cached
    field lists: a product or an order encodes in a few microseconds."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    known = _DATACLASS_FIELDS.get(kind)
    if known is not None:  # its fields in order (positional: a third of the size, faster to write)
        values = list(value.__dict__.values())
        if not all(type(v) in _PLAIN for v in values):
            values = [encode(v) for v in values]
        return {"$c": known[0], "v": values}
    if isinstance(value, enum.Enum):
        return {"$e": _class_name(kind), "v": value.value}
    if kind is list:
        return [encode(v) for v in value]
    if kind is tuple:
        return {"$t": [encode(v) for v in value]}
    if kind is dict:
        return {"$d": [[encode(k), encode(v)] for k, v in value.items()]}
    if kind in (set, frozenset):
        return {"$s": [encode(v) for v in sorted(value, key=repr)]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and hasattr(value, "__dict__"):
        fields = tuple(f.name for f in dataclasses.fields(value))
        if tuple(value.__dict__) != fields or not all(f.init for f in dataclasses.fields(value)):
            raise TypeError(f"cannot journal a {kind.__name__}: its attributes are not exactly its fields")
        _DATACLASS_FIELDS[kind] = (_class_name(kind), fields)
        return encode(value)
    if isinstance(value, (str, int, float)):  # a subclass of a plain type
        plain: Any = kind.__mro__[1]
        return encode(plain(value)) if plain in _PLAIN else value
    raise TypeError(f"cannot journal a {kind.__name__}: return plain values or dataclasses from the store")


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$t" in value:
        return tuple(decode(v) for v in value["$t"])
    if "$s" in value:
        return frozenset(decode(v) for v in value["$s"])
    if "$d" in value:
        return {decode(k): decode(v) for k, v in value["$d"]}
    if "$e" in value:
        return _trusted_class(value["$e"])(value["v"])
    if "$c" in value:
        cls = _trusted_class(value["$c"])
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{value['$c']} is not a dataclass")
        return cls(*[decode(v) for v in value["v"]])
    raise TypeError(f"not a journaled value: {value!r}")


def _class_name(cls: type) -> str:
    if not cls.__module__.startswith(_TRUSTED_MODULES):
        raise TypeError(f"cannot journal a {cls.__module__}.{cls.__qualname__}")
    return f"{cls.__module__}:{cls.__qualname__}"


@functools.cache
def _trusted_class(name: str) -> type:
    module, _, qualname = name.partition(":")
    if not module.startswith(_TRUSTED_MODULES) or "." in qualname:
        raise TypeError(f"refusing to rebuild {name!r} from the journal")
    cls = getattr(importlib.import_module(module), qualname)
    if not isinstance(cls, type):
        raise TypeError(f"{name!r} is not a class")
    return cls
