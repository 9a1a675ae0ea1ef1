"""The few differences between the SQL the repositories write and what PostgreSQL reads.

The repositories write one SQL, SQLite's, and it runs on both engines: on PostgreSQL each
statement passes through `to_postgres` once (the result is cached by its text). Everything the
two engines spell differently is here, and nowhere else:

* placeholders: `?` and `:name` become `$1, $2, ...` (a named one keeps one number however often
  it appears; `Translated.args` orders a dict's values to match);
* scalar `min(a, b)` / `max(a, b)` become LEAST / GREATEST (the one-argument aggregates stay);
* `a IS b` (NULLs equal) becomes `a IS NOT DISTINCT FROM b`;
* `group_concat(x, sep)` becomes `string_agg(x, sep)`, `instr(a, b)` `strpos(a, b)`, and
  `json_object(...)` `json_build_object(...)`.

What both engines read alike is written that way in the repositories instead of being translated:
`INSERT ... ON CONFLICT ... DO NOTHING / DO UPDATE`, `RETURNING id` rather than lastrowid, and
`ORDER BY rowid`, which PostgreSQL's schema answers with a real `rowid` column on the tables that
are read in insertion order (storage/migrations_pg/).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_RENAMED = {"group_concat": "string_agg", "instr": "strpos", "json_object": "json_build_object"}
_SCALAR = {"min": "LEAST", "max": "GREATEST"}
_AFTER_IS = {"null", "not", "true", "false", "distinct"}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RETURNS_ROWS = re.compile(r"^\s*(SELECT|WITH|VALUES)\b|\bRETURNING\b", re.IGNORECASE)


@dataclass(frozen=True)
class Translated:
    sql: str
    names: tuple[str, ...]  # the named parameters in $-number order (empty for `?` statements)
    returns_rows: bool  # a query or a statement with RETURNING: read it with fetch

    def args(self, params: Sequence[Any] | Mapping[str, Any]) -> Sequence[Any]:
        if isinstance(params, Mapping):
            return [params[name] for name in self.names]
        return params


@functools.lru_cache(maxsize=4096)
def to_postgres(sql: str) -> Translated:
    out: list[str] = []
    names: list[str] = []
    numbered = 0
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if c == "'":  # a string literal, copied as it is ('' is an escaped quote inside)
            end = i + 1
            while end < n:
                if sql[end] == "'" and not (end + 1 < n and sql[end + 1] == "'"):
                    break
                end += 2 if sql[end] == "'" else 1
            out.append(sql[i:end + 1])
            i = end + 1
        elif c == "-" and sql.startswith("--", i):  # a comment, dropped
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif c == "?":
            numbered += 1
            out.append(f"${numbered}")
            i += 1
        elif c == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_") and sql[i - 1:i] != ":":
            name = _WORD.match(sql, i + 1)
            assert name is not None
            if name.group() not in names:
                names.append(name.group())
            out.append(f"${names.index(name.group()) + 1}")
            i = name.end()
        elif c.isalpha() or c == "_":
            word = _WORD.match(sql, i)
            assert word is not None
            text = word.group()
            follows_paren = sql[word.end():word.end() + 1] == "("
            lower = text.lower()
            if lower == "is" and _next_word(sql, word.end()) not in _AFTER_IS:
                text = "IS NOT DISTINCT FROM"  # SQLite's `a IS b` compares NULLs as equal
            elif follows_paren and lower in _RENAMED:
                text = _RENAMED[lower]
            elif follows_paren and lower in _SCALAR and _has_top_level_comma(sql, word.end()):
                text = _SCALAR[lower]
            out.append(text)
            i = word.end()
        else:
            out.append(c)
            i += 1
    if numbered and names:
        raise ValueError(f"a statement mixes ? and :name placeholders: {' '.join(sql.split())[:80]}")
    translated = "".join(out)
    return Translated(translated, tuple(names), bool(_RETURNS_ROWS.search(translated)))


def _next_word(sql: str, at: int) -> str:
    word = _WORD.search(sql, at)
    return word.group().lower() if word is not None else ""


def _has_top_level_comma(sql: str, open_paren: int) -> bool:
    """Whether the call whose `(` is at `open_paren` has two or more arguments."""
    depth = 0
    for j in range(open_paren, len(sql)):
        ch = sql[j]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return False
        elif ch == "," and depth == 1:
            return True
    return False
