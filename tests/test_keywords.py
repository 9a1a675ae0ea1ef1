"""Command keywords in both languages (issue 17.5): `/export 今天`, `/export 7天`, `/summary 本周`, and
answers that name them in the merchant's language, never an English keyword in a Chinese answer."""

from __future__ import annotations

from core.command_words import parse_export_period
from tests.stories import merchant_with_shop


def test_export_period_words_in_both_languages():
    assert [parse_export_period(w) for w in ("", "today", "今天", "Yesterday", "昨天", "7d", "7天", "本周", "30天",
                                             "all", "全部", "fortnight")] == \
        ["today", "today", "today", "yesterday", "yesterday", "7d", "7d", "7d", "30d", "all", "all", None]


async def test_export_takes_chinese_period_words_and_names_the_period_in_chinese(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    for word, name in (("今天", "今天"), ("7天", "近7天"), ("近30天", "近30天"), ("全部", "全部"), ("all", "全部")):
        await li.send(f"/export {word}")
        assert li.last.document is not None, word
        assert f"（{name}）" in li.last.caption, word
        assert "all" not in li.last.caption


async def test_export_with_an_unknown_period_lists_the_words_in_the_merchants_language(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    await li.send("/export 两周")
    assert "今天 | 昨天 | 7天 | 30天 | 全部" in li.last.text and "today" not in li.last.text
    ann = await merchant_with_shop(world)
    await ann.send("/export fortnight")
    assert "today | yesterday | 7d | 30d | all" in ann.last.text


async def test_summary_takes_chinese_period_words(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    for word in ("本周", "近7天", "本月", "今天", "昨天"):
        await li.send(f"/summary {word}")
        assert "我不认识" not in (li.last.text or li.last.caption or ""), word


async def test_a_chinese_merchant_is_told_the_period_words_in_chinese(world):
    li = await merchant_with_shop(world, "李", "李家果园", language_code="zh")
    await li.send("/summary 两周")
    assert "今天、昨天、本周" in li.last.text
    for english in ("today", "yesterday", "week", "month"):
        assert english not in li.last.text
