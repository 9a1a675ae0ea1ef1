"""Command keywords in both languages: `/export 今天`, `/export 7天`, `/live 开始`.

/summary has its own table (core/summary.py: PERIOD_ALIASES); all accept what a merchant of
either language types, and the answers name the period in the merchant's language.
"""

from __future__ import annotations

EXPORT_PERIODS = ("today", "yesterday", "7d", "30d", "all")
_EXPORT_ALIASES = {
    "today": "today", "t": "today", "今天": "today", "今日": "today",
    "yesterday": "yesterday", "y": "yesterday", "昨天": "yesterday", "昨日": "yesterday",
    "7d": "7d", "7": "7d", "week": "7d", "w": "7d", "7天": "7d", "近7天": "7d", "七天": "7d", "本周": "7d", "周": "7d",
    "一周": "7d",
    "30d": "30d", "30": "30d", "month": "30d", "m": "30d", "30天": "30d", "近30天": "30d", "本月": "30d", "月": "30d",
    "一个月": "30d",
    "all": "all", "a": "all", "全部": "all", "所有": "all", "全部订单": "all",
}


def parse_export_period(text: str | None) -> str | None:
    """A typed period ("7天", "Today", "") to one of EXPORT_PERIODS ("" means today); None if unknown."""
    words = " ".join((text or "").split()).lower()
    if not words:
        return "today"
    return _EXPORT_ALIASES.get(words)


# /live's keywords (`/live 开始 春季特卖`, `/live 结束`).
_LIVE_ALIASES = {"start": "start", "开始": "start", "开播": "start", "end": "end", "结束": "end", "下播": "end",
                 "report": "report", "报告": "report"}


def parse_live_word(text: str | None) -> str | None:
    """/live's first word to "start", "end" or "report"; None for anything else (the board)."""
    return _LIVE_ALIASES.get((text or "").strip().lower())
