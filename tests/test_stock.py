"""Tests for core.stock: typed stock counts and stock edits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.stock import (
    MAX_STOCK,
    StockChange,
    StockChangeKind,
    StockError,
    StockProblem,
    parse_stock,
    parse_stock_change,
)

FAST = settings(max_examples=150, deadline=None)

valid_stock = st.integers(min_value=0, max_value=MAX_STOCK)
kinds = st.sampled_from(list(StockChangeKind))


def to_fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def stock_reason(text: str) -> StockProblem:
    with pytest.raises(StockError) as info:
        parse_stock(text)
    assert info.value.text == text
    return info.value.reason


def change_reason(text: str) -> StockProblem:
    with pytest.raises(StockError) as info:
        parse_stock_change(text)
    return info.value.reason


# --------------------------------------------------------------------------- #
# parse_stock
# --------------------------------------------------------------------------- #


def test_plain_stock_count_is_accepted() -> None:
    assert parse_stock("120") == 120


def test_zero_stock_is_accepted() -> None:
    assert parse_stock("0") == 0


def test_stock_with_fullwidth_digits_is_accepted() -> None:
    assert parse_stock("１２０") == 120


def test_stock_with_surrounding_spaces_is_accepted() -> None:
    assert parse_stock("  120 ") == 120
    assert parse_stock("\u3000120\u3000") == 120


def test_stock_with_thousands_comma_is_accepted() -> None:
    assert parse_stock("1,000") == 1000
    assert parse_stock("1，000") == 1000  # full-width comma
    assert parse_stock("1 000 000") == MAX_STOCK


def test_stock_of_one_million_is_accepted() -> None:
    assert parse_stock("1000000") == MAX_STOCK


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_empty_stock_is_refused_as_empty(text: str) -> None:
    assert stock_reason(text) is StockProblem.EMPTY


@pytest.mark.parametrize("text", ["-5", "－５", "- 5", "-0"])
def test_negative_stock_is_refused_as_negative(text: str) -> None:
    assert stock_reason(text) is StockProblem.NEGATIVE


@pytest.mark.parametrize("text", ["1000001", "1,000,001", "9" * 5000])
def test_stock_above_one_million_is_refused_as_too_large(text: str) -> None:
    assert stock_reason(text) is StockProblem.TOO_LARGE


@pytest.mark.parametrize(
    "text",
    ["abc", "1.5", "10.0", "1,5", "1,0000", "0,100", "1e3", "+5", "5件", "²", "12 34", "-abc", "nan"],
)
def test_stock_that_is_not_a_whole_number_is_refused(text: str) -> None:
    assert stock_reason(text) is StockProblem.NOT_A_WHOLE_NUMBER


def test_stock_error_has_problem_alias() -> None:
    with pytest.raises(StockError) as info:
        parse_stock("-1")
    assert info.value.problem is StockProblem.NEGATIVE
    assert isinstance(info.value, ValueError)


# --------------------------------------------------------------------------- #
# parse_stock_change
# --------------------------------------------------------------------------- #


def test_plus_sign_adds_stock() -> None:
    assert parse_stock_change("+50") == StockChange(StockChangeKind.ADD, 50)


def test_minus_sign_subtracts_stock() -> None:
    assert parse_stock_change("-5") == StockChange(StockChangeKind.SUBTRACT, 5)


def test_equals_sign_sets_stock() -> None:
    assert parse_stock_change("=120") == StockChange(StockChangeKind.SET, 120)


def test_bare_number_sets_stock() -> None:
    assert parse_stock_change("120") == StockChange(StockChangeKind.SET, 120)


def test_fullwidth_signs_are_accepted() -> None:
    assert parse_stock_change("＋５０") == StockChange(StockChangeKind.ADD, 50)
    assert parse_stock_change("－５") == StockChange(StockChangeKind.SUBTRACT, 5)
    assert parse_stock_change("＝１２０") == StockChange(StockChangeKind.SET, 120)


def test_space_after_sign_is_accepted() -> None:
    assert parse_stock_change(" + 1,000 ") == StockChange(StockChangeKind.ADD, 1000)


def test_empty_change_is_refused_as_empty() -> None:
    assert change_reason("  ") is StockProblem.EMPTY


@pytest.mark.parametrize("text", ["+", "=", "++5", "+-", "+1.5", "*5", "5-"])
def test_malformed_change_is_refused_as_not_a_whole_number(text: str) -> None:
    assert change_reason(text) is StockProblem.NOT_A_WHOLE_NUMBER


def test_setting_a_negative_value_is_refused_as_negative() -> None:
    assert change_reason("=-5") is StockProblem.NEGATIVE


def test_change_amount_above_one_million_is_refused_as_too_large() -> None:
    assert change_reason("+1000001") is StockProblem.TOO_LARGE


# --------------------------------------------------------------------------- #
# StockChange.apply
# --------------------------------------------------------------------------- #


def test_add_increases_stock() -> None:
    assert StockChange(StockChangeKind.ADD, 50).apply(10) == 60


def test_subtract_decreases_stock() -> None:
    assert StockChange(StockChangeKind.SUBTRACT, 5).apply(10) == 5


def test_subtract_down_to_exactly_zero_is_allowed() -> None:
    assert StockChange(StockChangeKind.SUBTRACT, 10).apply(10) == 0


def test_subtract_below_zero_is_refused() -> None:
    with pytest.raises(StockError) as info:
        StockChange(StockChangeKind.SUBTRACT, 11).apply(10)
    assert info.value.reason is StockProblem.WOULD_GO_NEGATIVE


def test_add_above_one_million_is_refused() -> None:
    with pytest.raises(StockError) as info:
        StockChange(StockChangeKind.ADD, 1).apply(MAX_STOCK)
    assert info.value.reason is StockProblem.TOO_LARGE


def test_set_replaces_stock() -> None:
    assert StockChange(StockChangeKind.SET, 7).apply(500) == 7


def test_stock_change_refuses_out_of_range_amounts() -> None:
    with pytest.raises(ValueError):
        StockChange(StockChangeKind.ADD, -1)
    with pytest.raises(ValueError):
        StockChange(StockChangeKind.SET, MAX_STOCK + 1)
    with pytest.raises(TypeError):
        StockChange(StockChangeKind.ADD, 1.0)  # type: ignore[arg-type]


def test_applying_to_negative_current_stock_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as info:
        StockChange(StockChangeKind.ADD, 1).apply(-1)
    assert not isinstance(info.value, StockError)


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #


@FAST
@given(valid_stock, st.sampled_from(["{}", "{:,}", "  {}  "]), st.booleans())
def test_stock_count_round_trips_in_any_accepted_style(n: int, style: str, fullwidth: bool) -> None:
    text = style.format(n)
    assert parse_stock(to_fullwidth(text) if fullwidth else text) == n


@FAST
@given(st.integers(min_value=MAX_STOCK + 1, max_value=10**18), st.booleans())
def test_any_stock_above_one_million_is_refused(n: int, grouped: bool) -> None:
    assert stock_reason(f"{n:,}" if grouped else str(n)) is StockProblem.TOO_LARGE


@FAST
@given(st.integers(min_value=1, max_value=10**9))
def test_any_negative_stock_is_refused(n: int) -> None:
    assert stock_reason(f"-{n}") is StockProblem.NEGATIVE


@FAST
@given(kinds, valid_stock)
def test_stock_change_round_trips_through_its_text(kind: StockChangeKind, amount: int) -> None:
    change = StockChange(kind, amount)
    assert parse_stock_change(f"{kind.value}{amount}") == change


@FAST
@given(kinds, valid_stock, valid_stock)
def test_applying_a_change_never_gives_negative_or_too_large_stock(
    kind: StockChangeKind, amount: int, current: int
) -> None:
    change = StockChange(kind, amount)
    try:
        result = change.apply(current)
    except StockError as error:
        assert error.reason in {StockProblem.WOULD_GO_NEGATIVE, StockProblem.TOO_LARGE}
        return
    assert 0 <= result <= MAX_STOCK


@FAST
@given(kinds, valid_stock, valid_stock)
def test_applying_a_change_matches_its_arithmetic(kind: StockChangeKind, amount: int, current: int) -> None:
    expected = {
        StockChangeKind.ADD: current + amount,
        StockChangeKind.SUBTRACT: current - amount,
        StockChangeKind.SET: amount,
    }[kind]
    change = StockChange(kind, amount)
    if expected < 0:
        with pytest.raises(StockError) as info:
            change.apply(current)
        assert info.value.reason is StockProblem.WOULD_GO_NEGATIVE
    elif expected > MAX_STOCK:
        with pytest.raises(StockError) as info:
            change.apply(current)
        assert info.value.reason is StockProblem.TOO_LARGE
    else:
        assert change.apply(current) == expected


@FAST
@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=1000))
def test_adding_then_subtracting_the_same_amount_restores_stock(current: int, amount: int) -> None:
    after = StockChange(StockChangeKind.ADD, amount).apply(current)
    assert StockChange(StockChangeKind.SUBTRACT, amount).apply(after) == current


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=10))
def test_accepted_stock_text_contains_only_digits_separators_and_spaces(text: str) -> None:
    try:
        n = parse_stock(text)
    except StockError:
        return
    allowed = set("0123456789,") | {chr(ord(c) + 0xFEE0) for c in "0123456789,"}
    assert {c for c in text if not c.isspace()} <= allowed
    assert 0 <= n <= MAX_STOCK
