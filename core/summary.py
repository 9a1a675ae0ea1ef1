"""Summary figures without Telegram or SQL: periods in a shop's time zone, comparisons, and the
parsing of the summary settings a merchant types.

A period is a half-open range of Unix time [start, end) measured in local days of a time zone.
"Today" ends now (the day so far), so it is compared with the same part of earlier days
("yesterday at this time"); a finished day is compared with whole days.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date
from babel.numbers import format_currency

from core.money import minor_digits

PERIODS = ("today", "yesterday", "week", "month")
# What people type for a period, in both languages, to the period's name.
PERIOD_ALIASES = {
    "today": "today", "t": "today", "今天": "today", "今日": "today",
    "yesterday": "yesterday", "y": "yesterday", "昨天": "yesterday", "昨日": "yesterday",
    "week": "week", "w": "week", "7d": "week", "7": "week", "周": "week", "本周": "week", "7天": "week",
    "近7天": "week", "这周": "week",
    "month": "month", "m": "month", "30d": "month", "30": "month", "月": "month", "本月": "month", "30天": "month",
    "近30天": "month", "这个月": "month",
}
PERIOD_DAYS = {"today": 1, "yesterday": 1, "week": 7, "month": 30}

DEFAULT_SEND_AT = 21 * 60  # minutes after local midnight
DEFAULT_LOW_STOCK = 5
MAX_LOW_STOCK = 100_000
# A summary sent before noon reports the whole previous day; from noon on, the day so far.
MORNING_ENDS = 12 * 60
CHART_DAYS = 14
CAPTION_LIMIT = 1024  # Telegram: a media caption, counted after entity parsing


@dataclass(frozen=True)
class Period:
    """A stretch of local days: [start, end) in Unix time, and the local dates it covers."""

    kind: str  # one of PERIODS
    timezone: str
    start: float
    end: float
    first_day: date
    last_day: date
    partial: bool  # ends now, in the middle of its last day

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def shifted(self, days: int) -> tuple[float, float]:
        """The same stretch of wall-clock time `days` earlier (DST-safe)."""
        zone = ZoneInfo(self.timezone)
        start = datetime.fromtimestamp(self.start, zone).replace(tzinfo=None) - timedelta(days=days)
        end = datetime.fromtimestamp(self.end, zone).replace(tzinfo=None) - timedelta(days=days)
        return _timestamp(start, zone), _timestamp(end, zone)

    def comparisons(self) -> list[tuple[str, int]]:
        """(what, days back) to compare with: a day with the day before and the same weekday a
        week before; 7 or 30 days with the stretch just before."""
        if self.kind in ("today", "yesterday"):
            return [("day", 1), ("week", 7)]
        return [("previous", PERIOD_DAYS[self.kind])]

    def day_bounds(self, count: int = CHART_DAYS) -> list[tuple[date, float, float]]:
        """The last `count` local days up to the period's last day: (date, start, end); the last
        day ends where the period ends."""
        zone = ZoneInfo(self.timezone)
        result = []
        for back in range(count - 1, -1, -1):
            day = self.last_day - timedelta(days=back)
            start = local_midnight(day, zone)
            end = min(local_midnight(day + timedelta(days=1), zone), self.end)
            result.append((day, start, end))
        return result


def _timestamp(naive_local: datetime, zone: ZoneInfo) -> float:
    return naive_local.replace(tzinfo=zone).timestamp()


def local_midnight(day: date, zone: ZoneInfo) -> float:
    return _timestamp(datetime.combine(day, time()), zone)


def local_now(now: float, timezone: str) -> datetime:
    return datetime.fromtimestamp(now, ZoneInfo(timezone))


def period_for(kind: str, now: float, timezone: str) -> Period:
    """The named period as it stands at `now` in `timezone`."""
    if kind not in PERIODS:
        raise ValueError(f"unknown period {kind!r}")
    zone = ZoneInfo(timezone)
    today = local_now(now, timezone).date()
    if kind == "yesterday":
        day = today - timedelta(days=1)
        return Period(kind, timezone, local_midnight(day, zone), local_midnight(today, zone), day, day, False)
    first = today - timedelta(days=PERIOD_DAYS[kind] - 1)
    return Period(kind, timezone, local_midnight(first, zone), now, first, today, True)


def daily_period(now: float, timezone: str, send_at: int) -> Period:
    """What the daily summary reports: the day so far, or (sent in the morning) yesterday."""
    return period_for("today" if send_at >= MORNING_ENDS else "yesterday", now, timezone)


def parse_period(text: str | None) -> str | None:
    """A typed period name ("week", "7d", "昨天"...) to one of PERIODS; "" means today."""
    if text is None or not text.strip():
        return "today"
    return PERIOD_ALIASES.get(text.strip().lower())


@dataclass(frozen=True)
class LocalClock:
    """Where a time zone stands at one instant: its date, the minute of the day, midnight."""

    date: str  # YYYY-MM-DD
    minute: int
    midnight: float


def local_clock(now: float, timezone: str) -> LocalClock:
    moment = local_now(now, timezone)
    midnight = local_midnight(moment.date(), ZoneInfo(timezone))
    return LocalClock(moment.date().isoformat(), moment.hour * 60 + moment.minute, midnight)


# ---------------------------------------------------------------- figures

@dataclass(frozen=True)
class Figures:
    """Orders of one period; cancelled orders count for nothing but their own number."""

    orders: int = 0
    revenue: int = 0  # minor units
    units: int = 0
    cancelled: int = 0
    buyers: int = 0
    new_buyers: int = 0
    shipping: int = 0  # the part of revenue that is shipping fees

    @property
    def returning_buyers(self) -> int:
        return self.buyers - self.new_buyers

    @property
    def average_order(self) -> int:
        """Average order value in minor units, rounded half up; 0 without orders."""
        return (2 * self.revenue + self.orders) // (2 * self.orders) if self.orders else 0


def percent_change(current: int, previous: int) -> int | None:
    """Whole-percent change from `previous` to `current`; None when there was nothing before."""
    if previous == 0:
        return None
    return round(100 * (current - previous) / previous)


def conversion(orders: int, opens: int) -> int | None:
    """Orders per 100 opens, or None without opens."""
    return round(100 * orders / opens) if opens else None


@dataclass(frozen=True)
class Age:
    """How old something is, in the unit a person would say."""

    unit: str  # "minutes", "hours" or "days"
    value: int


def age(seconds: float) -> Age:
    seconds = max(0.0, seconds)
    if seconds < 3600:
        return Age("minutes", int(seconds // 60))
    if seconds < 48 * 3600:
        return Age("hours", int(seconds // 3600))
    return Age("days", int(seconds // 86400))


def weekday_name(day: date, locale: str) -> str:
    return format_date(day, "EEEE", locale=locale)


def weekday_short(day: date, locale: str) -> str:
    return format_date(day, "EEE", locale=locale)


def short_date(day: date, locale: str) -> str:
    """"Mar 10" / "3月10日"."""
    return format_date(day, "M月d日" if locale.startswith("zh") else "MMM d", locale=locale)


def compact_money(minor: int, currency: str, locale: str) -> str:
    """Whole units for chart labels: "¥1,235" rather than "¥1,234.56"."""
    amount = Decimal(minor).scaleb(-minor_digits(currency))
    return format_currency(amount, currency, format="¤#,##0", currency_digits=False, locale=locale)


def axis_date(day: date) -> str:
    """A chart label that reads the same in both languages: "3/10"."""
    return f"{day.month}/{day.day}"


def visible_length(telegram_html: str) -> int:
    """Length Telegram counts for a caption: tags removed, entities decoded, UTF-16 units."""
    text = html.unescape(re.sub(r"<[^>]*>", "", telegram_html))
    return len(text.encode("utf-16-le")) // 2


def fits_caption(telegram_html: str) -> bool:
    return visible_length(telegram_html) <= CAPTION_LIMIT


# ---------------------------------------------------------------- settings a merchant types

class SettingError(ValueError):
    """What the merchant typed is not a valid setting; `reason` names the problem."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_TIME_RE = re.compile(r"^(\d{1,2})(?:[:：.h点時时](\d{2})?分?)?$")


def parse_time_of_day(text: str) -> int:
    """"21:00", "9:30", "21", "21.30", "21：30", "21点" -> minutes after midnight."""
    cleaned = text.strip().lower().replace(" ", "")
    match = _TIME_RE.match(cleaned)
    if match is None:
        raise SettingError("time_format")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise SettingError("time_range")
    return hour * 60 + minute


def format_time_of_day(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


_OFFSET_RE = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?00)?$")


def parse_timezone(text: str) -> str:
    """An IANA name in any case ("asia/shanghai"), or a whole-hour offset ("UTC+8", "+08:00")."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 64:
        raise SettingError("timezone")
    name = _zones_by_lower_name().get(cleaned.lower().replace(" ", "_"))
    if name is None and cleaned.lower() in ("utc", "gmt", "z"):
        name = "UTC"
    if name is None:
        match = _OFFSET_RE.match(cleaned.lower())
        if match is not None:
            hours = int(match.group(2))
            if hours > 14:
                raise SettingError("timezone")
            # POSIX-style Etc zones count the other way round: UTC+8 is Etc/GMT-8.
            name = "UTC" if hours == 0 else f"Etc/GMT{'-' if match.group(1) == '+' else '+'}{hours}"
    if name is None:
        raise SettingError("timezone")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingError("timezone") from None
    return name


SETTING_TIME, SETTING_TIMEZONE, SETTING_LOW_STOCK = "time", "tz", "low"
# What may follow /settings, in both languages.
_SETTING_WORDS = {
    "time": SETTING_TIME, "时间": SETTING_TIME, "tz": SETTING_TIMEZONE, "timezone": SETTING_TIMEZONE,
    "zone": SETTING_TIMEZONE, "时区": SETTING_TIMEZONE, "lowstock": SETTING_LOW_STOCK, "low": SETTING_LOW_STOCK,
    "stock": SETTING_LOW_STOCK, "库存": SETTING_LOW_STOCK, "on": "on", "开": "on", "开启": "on", "off": "off",
    "关": "off", "关闭": "off",
}


def setting_word(word: str) -> str | None:
    """The setting a word after /settings names ("time", "tz", "low", "on", "off"), or None."""
    return _SETTING_WORDS.get(word.strip().lower())


MIN_HOLD_MINUTES, MAX_HOLD_MINUTES = 1, 30


def parse_hold_minutes(text: str) -> int:
    """How long Buy now holds the units: whole minutes, 1 to 30 ("5", "5 min", "5分钟")."""
    match = re.fullmatch(r"(\d{1,3})\s*(?:m|min|mins|minutes?|分|分钟)?", text.strip().lower())
    if match is None or not MIN_HOLD_MINUTES <= int(match.group(1)) <= MAX_HOLD_MINUTES:
        raise SettingError("hold")
    return int(match.group(1))


def parse_low_stock(text: str) -> int:
    cleaned = text.strip()
    if not re.fullmatch(r"\d{1,7}", cleaned):
        raise SettingError("low_stock")
    value = int(cleaned)
    if value > MAX_LOW_STOCK:
        raise SettingError("low_stock")
    return value
