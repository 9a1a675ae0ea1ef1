"""The message catalogs are complete, agree with each other, and hold every user-facing text."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from babel.messages.pofile import read_po

from core.i18n import LANGUAGES, catalog_path, translator

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ["handlers", "core", "runtime", "storage"]
TRANSLATING_CALLS = {"t", "plain", "plural", "N_"}
# Calls whose string arguments never reach a user.
SILENT_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log", "button", "encode",
                "pattern", "register_flow", "getLogger", "RuntimeError", "ValueError", "TypeError", "AssertionError",
                "CallbackDataError", "PayloadError", "get", "startswith", "split", "join", "replace"}
HUMAN_TEXT = re.compile(r"[A-Za-z]{2,}[,.!?:;]?\s+[A-Za-z]{2,}|[\u4e00-\u9fff]")


def catalog(language: str) -> dict[str, str]:
    with open(catalog_path(language), "rb") as fh:
        cat = read_po(fh)
    result = {}
    for message in cat:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        text = message.string if isinstance(message.string, str) else "\n".join(message.string)
        result[key] = text
    return result


def python_files() -> list[Path]:
    return [p for d in CODE_DIRS for p in (ROOT / d).rglob("*.py")]


def call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def keys_used_in_code() -> dict[str, str]:
    """Every literal message key passed to a translator, with where it is used."""
    used = {}
    for path in python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and call_name(node) in TRANSLATING_CALLS and node.args:
                # A key is a literal, or chosen inline: t("a" if x else "b").
                first = node.args[0]
                parts = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
                for part in parts:
                    if isinstance(part, ast.Constant) and isinstance(part.value, str):
                        used[part.value] = f"{path.relative_to(ROOT)}:{node.lineno}"
    return used


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_the_code_uses_is_in_every_catalog():
    used = keys_used_in_code()
    assert len(used) > 20, "the scan found too few keys: is it still looking at the code?"
    for language in LANGUAGES:
        missing = {key: where for key, where in used.items() if key not in catalog(language)}
        assert not missing, f"{language}.po lacks: {missing}"


def test_catalogs_have_the_same_keys():
    en, zh = catalog("en"), catalog("zh")
    assert sorted(set(en) - set(zh)) == [], "in en.po only"
    assert sorted(set(zh) - set(en)) == [], "in zh.po only"


def test_catalogs_use_the_same_placeholders():
    en, zh = catalog("en"), catalog("zh")
    differ = {key: (placeholders(en[key]), placeholders(zh[key])) for key in en if key in zh
              and placeholders(en[key]) != placeholders(zh[key])}
    assert not differ


def test_no_message_is_empty_or_untranslated():
    for language in LANGUAGES:
        empty = [key for key, text in catalog(language).items() if not text.strip()]
        assert not empty, f"{language}.po has empty messages: {empty}"
    en, zh = catalog("en"), catalog("zh")
    # Chinese texts should be Chinese: only names, commands and symbols may stay as in English.
    def words(text: str) -> str:
        return re.sub(r"\{\w+\}|<[^>]+>", "", text)

    same = [k for k in en if en[k] == zh[k] and re.search(r"[a-z]{4,}", words(en[k]))
            and not k.startswith("language.name")]
    assert not same, f"zh.po copies English for: {same}"


def test_every_catalog_text_renders_as_valid_telegram_html():
    from faketg.html import parse_html

    for language in LANGUAGES:
        t = translator(language)
        for key, text in catalog(language).items():
            values = {name: "<b>&x" for name in placeholders(text)}
            parse_html(t(key, **values) if "{n}" not in text else t.plural(key, 2, **values))


def is_docstring(parent: ast.AST | None, expr: ast.AST) -> bool:
    body = getattr(parent, "body", None)
    return bool(body) and body[0] is expr


def user_facing_literals(source: str) -> list[tuple[int, str]]:
    """String constants that read like human text and are not docstrings, keys or log lines."""
    tree = ast.parse(source)
    parents: dict[ast.AST, ast.AST] = {}
    for parent in ast.walk(tree):
        for child in ast.iter_child_nodes(parent):
            parents[child] = parent
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and HUMAN_TEXT.search(node.value)):
            continue
        parent = parents.get(node)
        if isinstance(parent, ast.Expr) and is_docstring(parents.get(parent), parent):
            continue
        if isinstance(parent, (ast.Compare, ast.Assert)):  # matched against, or a programmer's message
            continue
        if isinstance(parent, ast.IfExp):  # t("a" if x else "b")
            parent = parents.get(parent)
        call = parent if isinstance(parent, ast.Call) else parents.get(parent) if isinstance(parent, ast.JoinedStr) else None
        if isinstance(call, ast.Call):
            name = call_name(call)
            if name in SILENT_CALLS or (name in TRANSLATING_CALLS and call.args and node in ast.walk(call.args[0])):
                continue
        found.append((node.lineno, node.value))
    return sorted(found)


def test_handlers_hold_no_user_facing_literal():
    """A text a user could read must come from the catalogs, so it exists in both languages."""
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for path in (ROOT / "handlers").rglob("*.py")
        for line, text in user_facing_literals(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "user-facing literals outside the catalogs:\n" + "\n".join(offenders)


def test_the_literal_scan_catches_a_literal_but_not_docstrings_keys_or_logs():
    source = (
        'async def h(update, context):\n'
        '    """Doc string here."""\n'
        '    log.info("handled the update for %s", 1)\n'
        '    await reply(update, who.t("shop.card", name="Fresh oranges today"))\n'
        '    await reply(update, "Hello there, friend")\n'
        '    await reply(update, "库存不足")\n'
    )
    # A literal passed as a value into a catalog text is still a literal a user reads.
    assert user_facing_literals(source) == [(4, "Fresh oranges today"), (5, "Hello there, friend"), (6, "库存不足")]
