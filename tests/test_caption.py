"""The one-line product caption (core/caption.py), and the table of examples /help shows."""

from __future__ import annotations

import html
import re

import pytest

from core.caption import Reading, parse_caption
from core.i18n import translator
from core.money import parse_price
from tests.stories import merchant_with_shop


@pytest.mark.parametrize("caption, name, price, stock", [
    # Commas: by position (the name keeps extra commas); full-width commas need no space.
    ("Xiacheng oranges 5kg, 39.90, 200", "Xiacheng oranges 5kg", "39.90", "200"),
    ("Oranges, large, 39.90, 200", "Oranges, large", "39.90", "200"),
    ("夏橙5斤装，39.9元，200", "夏橙5斤装", "39.9元", "200"),
    ("Oranges,39.90,200", "Oranges", "39.90", "200"),
    ("Oranges, 39,90, 100", "Oranges", "39,90", "100"),
    ("Oranges, cheap, 200", "Oranges", "cheap", "200"),  # read as the price, refused with its reason
    ("Tea, 88", "Tea", "88", None),
    # Spaces: the numbers at the end are price then stock; words with digits stay in the name.
    ("猕猴桃 12个装 25 80", "猕猴桃 12个装", "25", "80"),
    ("Oranges 39,90 100", "Oranges", "39,90", "100"),
    ("Tea 1,000 5", "Tea", "1,000", "5"),
    ("Tea 25", "Tea", "25", None),
    ("Oranges", "Oranges", None, None),
    # Numbers that say what they are go where they say, wherever they stand.
    ("猕猴桃 x80 ¥25", "猕猴桃", "¥25", "80"),
    ("Tea 100 29.9", "Tea", "29.9", "100"),
    ("猕猴桃 12个装 价格25 库存80", "猕猴桃 12个装", "25", "80"),
    ("普洱茶 库存 80 价格 25", "普洱茶", "25", "80"),
    ("Tea price 25 stock 80", "Tea", "25", "80"),
    ("Tea 80件 25元", "Tea", "25元", "80"),
    ("猕猴桃 12 25 x80", "猕猴桃 12", "25", "80"),
    ("猕猴桃 12个装, 25 80", "猕猴桃 12个装", "25", "80"),
])
def test_a_caption_is_read_as_name_price_and_stock(caption, name, price, stock):
    read = parse_caption(caption, "CNY")
    assert not read.ambiguous
    assert read.reading == Reading(name, price, stock)


@pytest.mark.parametrize("caption, readings", [
    ("猕猴桃 12 25 80", [("猕猴桃 12", "25", "80"), ("猕猴桃 12 25", "80", None)]),
    ("猕猴桃 ¥25 ¥30 x80", [("猕猴桃", "¥25", "80"), ("猕猴桃", "¥30", "80")]),
])
def test_a_caption_that_reads_more_than_one_way_offers_each_price(caption, readings):
    read = parse_caption(caption, "CNY")
    assert read.ambiguous and [tuple(vars(r).values()) for r in read.readings] == readings


_EXAMPLE = re.compile(r"<code>(?P<caption>[^<]+)</code> → (?P<result>.+)")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_example_in_help_reads_as_help_says(language):
    t = translator(language)
    examples = [_EXAMPLE.fullmatch(line) for line in t("help.caption").splitlines()]
    examples = [m for m in examples if m]
    assert len(examples) >= 5
    for example in examples:
        caption, result = html.unescape(example["caption"]), example["result"].split(" · ")
        read = parse_caption(caption, "CNY")
        if len(result) == 1:  # "I ask which number is the price"
            assert read.ambiguous, caption
            continue
        assert not read.ambiguous, caption
        name, price, stock = result
        assert read.reading.name == name, caption
        assert t.money(parse_price(read.reading.price, "CNY"), "CNY") == price, caption
        assert (read.reading.stock or "") == (stock if stock.isdigit() else ""), caption


async def test_help_shows_the_caption_grammar_to_merchants(world):
    ann = await merchant_with_shop(world)
    await ann.send("/help")
    assert "A product in one line" in ann.last.text and "猕猴桃 12个装 25 80" in ann.last.text


async def test_a_space_separated_caption_publishes_the_product(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    await li.send_photo(caption="猕猴桃 12个装 25 80")
    card = li.last
    assert "猕猴桃 12个装" in card.caption and "¥25.00" in card.caption and "库存：80" in card.caption


async def test_an_ambiguous_caption_asks_which_number_is_the_price(world):
    ann = await merchant_with_shop(world)
    await ann.send_photo(caption="Kiwifruit 12 25 80")
    assert "Which number is the price?" in ann.last.text
    assert ann.last.buttons == [["CN¥25.00 · Kiwifruit 12 · stock 80"], ["CN¥80.00 · Kiwifruit 12 25 · stock ?"]]
    await ann.send("25")  # typing instead of tapping asks again
    assert "Which number is the price?" in ann.last.text
    await ann.tap("CN¥25.00 · Kiwifruit 12 · stock 80")
    card = ann.last
    assert "Published" in card.caption and "Kiwifruit 12" in card.caption and "CN¥25.00" in card.caption
    assert "In stock: 80" in card.caption and card.photo is not None


async def test_choosing_the_last_number_as_the_price_asks_for_the_stock(world):
    ann = await merchant_with_shop(world)
    await ann.send("/addproduct Kiwifruit 12 25 80")
    await ann.tap("CN¥80.00 · Kiwifruit 12 25 · stock ?")
    assert "How many of Kiwifruit 12 25" in ann.last.text
    await ann.send("30")
    assert "Published" in ann.last.text and "CN¥80.00" in ann.last.text and "In stock: 30" in ann.last.text


_VARIANT_EXAMPLE = re.compile(r"<code>(?P<caption>[^<]+)</code> → (?P<result>.+)")


@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_variant_example_in_help_reads_as_help_says(language):
    """The options table in /help: `name | option · price · stock | ...`, or a part refused."""
    from core.stock import parse_stock

    t = translator(language)
    examples = [m for line in t("help.caption_variants").splitlines() if (m := _VARIANT_EXAMPLE.fullmatch(line))]
    assert len(examples) >= 4
    refused = 0
    for example in examples:
        caption, result = html.unescape(example["caption"]), example["result"]
        read = parse_caption(caption, "CNY")
        assert read.variants, caption
        if "|" not in result:  # a part that does not read: named in the answer
            bad = [v for v in read.variants if v.price is None or not _is_price(v.price)]
            assert len(bad) == 1 and bad[0].written in result, caption
            refused += 1
            continue
        name, *options = result.split(" | ")
        assert read.reading.name == name, caption
        assert [(v.name, t.money(parse_price(v.price, "CNY"), "CNY"), str(parse_stock(v.stock)))
                for v in read.variants] == [tuple(o.split(" · ")) for o in options], caption
    assert refused == 1


def _is_price(text: str) -> bool:
    try:
        parse_price(text, "CNY")
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("caption", ["Oranges, large, 39.90, 200", "猕猴桃 12个装, 25 80", "Oranges, big 25 80",
                                     "Tea, 88"])
def test_captions_without_two_option_parts_are_read_as_before(caption):
    assert parse_caption(caption, "CNY").variants == ()
