"""The dependency direction of DESIGN.md, checked over the source: handlers -> core and storage;
core and storage never import telegram; nothing but the runtime imports the runtime; handlers hold
no SQL and open no transaction of their own (storage calls and `store.transaction()` do)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["core", "storage"])
def test_core_and_storage_never_import_telegram(package):
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.split(".")[0] == "telegram")
                 for p in modules(package)}
    assert {p: n for p, n in offenders.items() if n} == {}


@pytest.mark.parametrize("package", ["core", "storage", "handlers"])
def test_only_the_runtime_imports_the_runtime(package):
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.split(".")[0] in ("runtime", "bot"))
                 for p in modules(package)}
    assert {p: n for p, n in offenders.items() if n} == {}


@pytest.mark.parametrize("package", ["core", "storage"])
def test_core_and_storage_never_import_handlers(package):
    offenders = {str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.split(".")[0] == "handlers")
                 for p in modules(package)}
    assert {p: n for p, n in offenders.items() if n} == {}


def test_handlers_hold_no_sql_and_open_no_transaction_themselves():
    offenders = []
    for path in modules("handlers"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "executemany", "fetch_all", "fetch_one",
                                                                 "fetch_value", "lookup_one", "lookup_all"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if isinstance(node, ast.Attribute) and node.attr == "write" and isinstance(node.value, ast.Attribute) \
                    and node.value.attr == "db":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} db.write()")
    assert offenders == []
