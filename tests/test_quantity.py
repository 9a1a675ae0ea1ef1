"""What a buyer types as a quantity on a product card (core/quantity.py)."""

from __future__ import annotations

import pytest

from core.quantity import parse_typed_quantity


@pytest.mark.parametrize("typed, quantity", [
    ("3", 3), ("３", 3), (" 3 ", 3), ("3 boxes", 3), ("3boxes", 3), ("3份", 3), ("3 份", 3), ("x3", 3), ("×3", 3),
    ("3个", 3), ("要3份", 3), ("三份", 3), ("两个", 2), ("十", 10), ("十二", 12), ("二十五份", 25), ("12", 12),
    ("0", 0), ("3 Boxes!", 3), ("１０个", 10),
])
def test_a_typed_quantity_is_read(typed, quantity):
    assert parse_typed_quantity(typed) == quantity


@pytest.mark.parametrize("typed", [
    "", "hello", "3.5", "-2", "13800138000", "3 boxes of oranges please", "2kg 3", "十十", "一百", "3 4",
    "+8613800138000",
])
def test_anything_else_is_not_a_quantity(typed):
    assert parse_typed_quantity(typed) is None
