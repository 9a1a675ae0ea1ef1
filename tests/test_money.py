"""Tests for core.money: price parsing rules, formatting, and the Money type."""

from __future__ import annotations

import string
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.money import (
    MAX_PRICE_MAJOR,
    CurrencyMismatchError,
    Money,
    PriceError,
    PriceProblem,
    format_amount_plain,
    format_money,
    minor_digits,
    parse_price,
)

MAX_CNY_MINOR = MAX_PRICE_MAJOR * 100
FAST = settings(max_examples=150, deadline=None)

valid_cny_minor = st.integers(min_value=1, max_value=MAX_CNY_MINOR)


def to_fullwidth(text: str) -> str:
    """Full-width version of the ASCII printable characters in ``text``."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def reason_of(text: str, currency: str = "CNY") -> PriceProblem:
    with pytest.raises(PriceError) as info:
        parse_price(text, currency)
    assert info.value.text == text
    return info.value.reason


# --------------------------------------------------------------------------- #
# Accepted examples
# --------------------------------------------------------------------------- #


def test_price_with_one_decimal_is_accepted() -> None:
    assert parse_price("39.9") == 3990


def test_price_with_two_decimals_is_accepted() -> None:
    assert parse_price("39.90") == 3990


def test_whole_price_is_accepted() -> None:
    assert parse_price("39") == 3900


def test_price_with_yen_sign_is_accepted() -> None:
    assert parse_price("¥39.9") == 3990


def test_price_with_fullwidth_yen_sign_is_accepted() -> None:
    assert parse_price("￥39.9") == 3990


def test_price_with_yuan_suffix_is_accepted() -> None:
    assert parse_price("39.9元") == 3990


def test_price_with_space_before_yuan_suffix_is_accepted() -> None:
    assert parse_price("39.9 元") == 3990


def test_price_with_kuai_suffix_is_accepted() -> None:
    assert parse_price("39块") == 3900
    assert parse_price("39块钱") == 3900


def test_colloquial_kuai_with_jiao_is_read_as_decimal() -> None:
    assert parse_price("39块9") == 3990
    assert parse_price("3块50") == 350


def test_price_with_decimal_comma_is_accepted() -> None:
    assert parse_price("39,90") == 3990
    assert parse_price("39,9") == 3990


def test_comma_followed_by_three_digits_is_a_thousands_separator() -> None:
    assert parse_price("1,234") == 123400
    assert parse_price("123,456") == 12345600
    assert parse_price("39,999") == 3999900


def test_price_with_comma_thousands_and_dot_decimal_is_accepted() -> None:
    assert parse_price("1,234.50") == 123450


def test_price_with_space_thousands_and_comma_decimal_is_accepted() -> None:
    assert parse_price("1 234,50") == 123450


def test_price_with_dot_thousands_and_comma_decimal_is_accepted() -> None:
    assert parse_price("1.234,50") == 123450


def test_price_with_rmb_prefix_is_accepted() -> None:
    assert parse_price("RMB 39.9") == 3990


def test_price_with_lowercase_rmb_prefix_without_space_is_accepted() -> None:
    assert parse_price("rmb39.9") == 3990


def test_price_with_cny_code_is_accepted() -> None:
    assert parse_price("CNY 39.90") == 3990
    assert parse_price("39.90 CNY") == 3990


def test_price_with_renminbi_word_is_accepted() -> None:
    assert parse_price("39.9人民币") == 3990


def test_yuan_unit_word_before_the_number_is_refused() -> None:
    assert reason_of("元39") is PriceProblem.NOT_A_NUMBER
    assert reason_of("元5块2") is PriceProblem.NOT_A_NUMBER


def test_price_with_renminbi_word_before_the_number_is_accepted() -> None:
    assert parse_price("人民币39.9") == 3990


def test_price_with_symbol_and_yuan_suffix_together_is_accepted() -> None:
    assert parse_price("¥39.9元") == 3990


def test_price_in_fullwidth_digits_and_dot_is_accepted() -> None:
    assert parse_price("３９．９０") == 3990


def test_price_with_fullwidth_comma_is_accepted() -> None:
    assert parse_price("３９，９０") == 3990
    assert parse_price("1，234.50") == 123450


def test_price_with_ideographic_full_stop_as_decimal_point_is_accepted() -> None:
    assert parse_price("39。9") == 3990


def test_price_with_surrounding_spaces_is_accepted() -> None:
    assert parse_price("  39.9  ") == 3990
    assert parse_price("\u300039.9\u3000") == 3990  # ideographic spaces


def test_dollar_price_in_usd_shop_is_accepted() -> None:
    assert parse_price("$12.50", "USD") == 1250
    assert parse_price("USD 12.50", "USD") == 1250
    assert parse_price("US$12.50", "USD") == 1250
    assert parse_price("12.50美元", "USD") == 1250


def test_bare_dollar_sign_is_accepted_by_other_dollar_currencies() -> None:
    assert parse_price("$5", "HKD") == 500
    assert parse_price("HK$5", "HKD") == 500


def test_yen_price_parses_to_whole_units() -> None:
    assert parse_price("1500", "JPY") == 1500
    assert parse_price("¥1,500", "JPY") == 1500
    assert parse_price("1500円", "JPY") == 1500


def test_one_million_exactly_is_accepted() -> None:
    assert parse_price("1,000,000.00") == MAX_CNY_MINOR
    assert parse_price("1000000") == MAX_CNY_MINOR


def test_smallest_price_is_accepted() -> None:
    assert parse_price("0.01") == 1
    assert parse_price("0,5") == 50


def test_babel_negative_format_is_recognised_as_negative() -> None:
    assert reason_of("-CN¥5.00") is PriceProblem.ZERO_OR_NEGATIVE
    assert reason_of("¥-5") is PriceProblem.ZERO_OR_NEGATIVE


# --------------------------------------------------------------------------- #
# Refused examples, each with its reason
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("text", ["", "   ", "\u3000"])
def test_empty_price_is_refused_as_empty(text: str) -> None:
    assert reason_of(text) is PriceProblem.EMPTY


@pytest.mark.parametrize("text", ["-5", "0", "0.00", "-0", "－５", "¥0", "-39.90元"])
def test_zero_or_negative_price_is_refused(text: str) -> None:
    assert reason_of(text) is PriceProblem.ZERO_OR_NEGATIVE


@pytest.mark.parametrize("text", ["39.999", "0.001", "1.2345", "¥39.999", "39.900", "1,234.567"])
def test_price_with_more_than_two_decimals_is_refused(text: str) -> None:
    assert reason_of(text) is PriceProblem.TOO_MANY_DECIMALS


def test_yen_price_with_any_decimals_is_refused() -> None:
    assert reason_of("1500.5", "JPY") is PriceProblem.TOO_MANY_DECIMALS


@pytest.mark.parametrize("text", ["1000000.01", "1,000,001", "2000000", "9" * 5000])
def test_price_above_one_million_is_refused(text: str) -> None:
    assert reason_of(text) is PriceProblem.TOO_LARGE


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "39.9 apples",
        "1e5",
        "nan",
        "inf",
        "Infinity",
        "¥",
        "元",
        "39.",
        ".5",
        "1,2345",
        "0,123",
        "1,234,50",
        "1.234.567",
        "1,234 567",
        "39 .9",
        "+39.9",
        "--5",
        "RMBx39",
        "3²",
        "39块9毛",
        "0x10",
        "39/2",
    ],
)
def test_text_that_is_not_a_number_is_refused(text: str) -> None:
    assert reason_of(text) is PriceProblem.NOT_A_NUMBER


@pytest.mark.parametrize("text", ["$12.50", "USD 12.50", "US$12", "€5", "12.50美元", "EUR 5", "5 JPY"])
def test_marker_of_another_currency_is_refused_as_wrong_currency(text: str) -> None:
    assert reason_of(text, "CNY") is PriceProblem.WRONG_CURRENCY


def test_yuan_marker_in_usd_shop_is_refused_as_wrong_currency() -> None:
    assert reason_of("39.9元", "USD") is PriceProblem.WRONG_CURRENCY
    assert reason_of("¥39.9", "USD") is PriceProblem.WRONG_CURRENCY
    assert reason_of("39块9", "USD") is PriceProblem.WRONG_CURRENCY


def test_price_error_carries_reason_and_text() -> None:
    with pytest.raises(PriceError) as info:
        parse_price(" 39.999 ")
    assert info.value.reason is PriceProblem.TOO_MANY_DECIMALS
    assert info.value.problem is PriceProblem.TOO_MANY_DECIMALS
    assert info.value.text == " 39.999 "
    assert isinstance(info.value, ValueError)


def test_unknown_shop_currency_is_a_programming_error() -> None:
    with pytest.raises(ValueError) as info:
        parse_price("5", "XYZ")
    assert not isinstance(info.value, PriceError)


# --------------------------------------------------------------------------- #
# Formatting
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "zh_CN", "zh", "zh-Hans-CN"])
def test_chinese_locale_formats_cny_with_yen_sign(locale: str) -> None:
    assert format_money(3990, "CNY", locale) == "¥39.90"


def test_english_locale_formats_cny_with_cn_yen_sign() -> None:
    assert format_money(3990, "CNY", "en") == "CN¥39.90"


def test_formatting_groups_thousands() -> None:
    assert format_money(123456789, "CNY", "en") == "CN¥1,234,567.89"


def test_yen_formats_without_decimals() -> None:
    assert format_money(1500, "JPY", "en") == "¥1,500"
    assert format_amount_plain(1500, "JPY") == "1500"


def test_plain_amount_has_two_decimals_and_no_grouping() -> None:
    assert format_amount_plain(3990, "CNY") == "39.90"
    assert format_amount_plain(5, "CNY") == "0.05"
    assert format_amount_plain(123456789, "CNY") == "1234567.89"
    assert format_amount_plain(-5, "CNY") == "-0.05"


def test_formatting_refuses_floats() -> None:
    with pytest.raises(TypeError):
        format_money(39.9, "CNY", "en")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_amount_plain(39.9, "CNY")  # type: ignore[arg-type]


def test_minor_digits_come_from_babel() -> None:
    assert minor_digits("CNY") == 2
    assert minor_digits("JPY") == 0


# --------------------------------------------------------------------------- #
# Money value type
# --------------------------------------------------------------------------- #


def test_money_of_same_currency_adds() -> None:
    assert Money(3990, "CNY") + Money(10, "CNY") == Money(4000, "CNY")


def test_money_of_different_currencies_refuses_to_add() -> None:
    with pytest.raises(CurrencyMismatchError):
        Money(3990, "CNY") + Money(10, "USD")


def test_money_sums_from_zero() -> None:
    items = [Money(100, "CNY"), Money(250, "CNY")]
    assert sum(items, Money.zero("CNY")) == Money(350, "CNY")


def test_money_times_quantity_is_line_total() -> None:
    assert Money(3990, "CNY").times(3) == Money(11970, "CNY")
    with pytest.raises(ValueError):
        Money(3990, "CNY").times(-1)


def test_money_refuses_float_amount_and_unknown_currency() -> None:
    with pytest.raises(TypeError):
        Money(39.9, "CNY")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        Money(1, "cny")


def test_money_parses_and_formats() -> None:
    money = Money.parse("¥39.9")
    assert money == Money(3990, "CNY")
    assert money.format("zh_CN") == "¥39.90"
    assert money.plain() == "39.90"


# --------------------------------------------------------------------------- #
# Properties
# --------------------------------------------------------------------------- #


@FAST
@given(valid_cny_minor)
def test_plain_amount_round_trips_through_parse(minor: int) -> None:
    assert parse_price(format_amount_plain(minor, "CNY"), "CNY") == minor


@FAST
@given(valid_cny_minor, st.sampled_from(["zh_Hans_CN", "zh_CN", "en"]))
def test_babel_formatted_cny_round_trips_through_parse(minor: int, locale: str) -> None:
    assert parse_price(format_money(minor, "CNY", locale), "CNY") == minor


@FAST
@given(
    st.sampled_from(["USD", "JPY", "HKD", "EUR"]),
    st.sampled_from(["zh_Hans_CN", "en"]),
    st.data(),
)
def test_babel_formatted_other_currencies_round_trip(currency: str, locale: str, data: st.DataObject) -> None:
    minor = data.draw(st.integers(min_value=1, max_value=MAX_PRICE_MAJOR * 10 ** minor_digits(currency)))
    assert parse_price(format_money(minor, currency, locale), currency) == minor
    assert parse_price(format_amount_plain(minor, currency), currency) == minor


def group(digits: str, sep: str) -> str:
    """Insert ``sep`` every three digits from the right."""
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


@FAST
@given(
    valid_cny_minor,
    st.sampled_from(
        [
            # (thousands separator, decimal separator)
            ("", "."),
            (",", "."),
            (" ", "."),
            ("", ","),
            (" ", ","),
            (".", ","),
        ]
    ),
    st.sampled_from(["", "¥", "￥", "CN¥", "RMB ", "rmb", "CNY "]),
    st.sampled_from(["", "元", " 元", "块", " CNY", "人民币"]),
    st.booleans(),
    st.booleans(),
)
def test_price_typed_in_any_accepted_style_parses_exactly(
    minor: int,
    separators: tuple[str, str],
    prefix: str,
    suffix: str,
    trim_fraction: bool,
    fullwidth: bool,
) -> None:
    thousands, decimal = separators
    whole, cents = divmod(minor, 100)
    int_part = group(str(whole), thousands) if thousands else str(whole)
    fraction = f"{cents:02d}"
    if trim_fraction and thousands != ".":
        # People type "39.9" and "39" as well as "39.90" / "39.00".  (Not with
        # dot thousands: a lone "1.234" is read as three decimals, by design.)
        fraction = fraction.rstrip("0")
    text = prefix + int_part + (decimal + fraction if fraction else "") + suffix
    if fullwidth:
        text = to_fullwidth(text)
    assert parse_price(text, "CNY") == minor


@FAST
@given(st.integers(min_value=MAX_PRICE_MAJOR + 1, max_value=10**15), st.integers(0, 99), st.booleans())
def test_any_price_above_one_million_is_refused(whole: int, cents: int, grouped: bool) -> None:
    int_part = group(str(whole), ",") if grouped else str(whole)
    assert reason_of(f"{int_part}.{cents:02d}") is PriceProblem.TOO_LARGE


@FAST
@given(st.integers(min_value=1, max_value=MAX_CNY_MINOR - 1))
def test_anything_just_above_a_valid_price_in_the_third_decimal_is_refused(minor: int) -> None:
    assert reason_of(format_amount_plain(minor, "CNY") + "1") is PriceProblem.TOO_MANY_DECIMALS


@FAST
@given(
    st.integers(min_value=1, max_value=MAX_PRICE_MAJOR),
    st.text(alphabet=string.digits, min_size=3, max_size=6),
    st.sampled_from([".", "．", "。"]),
)
def test_any_value_with_three_or_more_decimals_is_refused(whole: int, fraction: str, point: str) -> None:
    assert reason_of(f"{whole}{point}{fraction}") is PriceProblem.TOO_MANY_DECIMALS


@FAST
@given(valid_cny_minor, st.sampled_from(["-", "－", "−", "- "]))
def test_any_negative_price_is_refused(minor: int, minus: str) -> None:
    assert reason_of(minus + format_amount_plain(minor, "CNY")) is PriceProblem.ZERO_OR_NEGATIVE


# Letters that appear in CNY markers (CNY, RMB, CN¥); any other letter must
# make the text unacceptable, wherever it is put.
CNY_MARKER_LETTERS = set("CNYRMBcnyrmb")
FOREIGN_LETTERS = sorted(set(string.ascii_letters) - CNY_MARKER_LETTERS) + list("的个件毛角")
NUMBERISH = string.digits + ".,  ¥元-"


@FAST
@given(
    st.text(alphabet=NUMBERISH, max_size=8),
    st.sampled_from(FOREIGN_LETTERS),
    st.text(alphabet=NUMBERISH, max_size=8),
)
def test_text_containing_a_letter_that_is_not_a_currency_marker_is_refused(
    before: str, letter: str, after: str
) -> None:
    with pytest.raises(PriceError):
        parse_price(before + letter + after, "CNY")


# Every character that may appear in an accepted CNY price, after full-width
# forms are taken into account.
CNY_ALLOWED = set(string.digits + ".,。" + "¥￥元块钱人民币" + "CNYRMBcnyrmb") | {
    chr(ord(c) + 0xFEE0) for c in string.digits + ".,CNYRMBcnyrmb"
}


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=12))
def test_nothing_outside_the_rules_is_accepted(text: str) -> None:
    try:
        minor = parse_price(text, "CNY")
    except PriceError:
        return
    # Whitespace is allowed around the number and markers, and spaces (incl.
    # Babel's narrow no-break space) as thousands separators; nothing else is.
    assert {c for c in text if not c.isspace()} <= CNY_ALLOWED
    assert 1 <= minor <= MAX_CNY_MINOR


@FAST
@given(valid_cny_minor)
def test_parsed_price_equals_exact_decimal_value(minor: int) -> None:
    text = format_amount_plain(minor, "CNY")
    assert Decimal(text) * 100 == parse_price(text, "CNY")
