"""Message catalogs (gettext .po files, read with Babel) and locale-aware formatting.

Messages are keyed by symbolic ids (`start.welcome`) so both catalogs are translations of the
same keys and a test can compare them. Texts are Telegram HTML: the translator escapes every
value it substitutes unless the value is wrapped in `Safe`, so a product named `<b>` shows as
typed and can never inject markup.
"""

from __future__ import annotations

import gettext
import html
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_skeleton, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from core.money import format_money

log = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
LANGUAGES = ("en", "zh")
FALLBACK = "en"
# Babel locales for formatting numbers, money and dates in each language.
BABEL_LOCALE = {"en": "en_US", "zh": "zh_Hans_CN"}


class Safe(str):
    """A value that is already Telegram HTML (rendered by us): substituted without escaping."""


def escape(text: object) -> str:
    """Escape user text for parse_mode HTML (Telegram understands &lt; &gt; &amp; &quot;)."""
    return html.escape(str(text), quote=False)


def N_(key: str) -> str:
    """Marks a message key used indirectly (kept in a table), so the catalog check sees it."""
    return key


def language_for(chosen: str | None, telegram_code: str | None, default: str) -> str:
    """The user's language: their /language choice, else Telegram's (any zh variant -> zh)."""
    if chosen in LANGUAGES:
        return chosen
    if telegram_code:
        return "zh" if telegram_code.lower().startswith("zh") else "en"
    return default if default in LANGUAGES else FALLBACK


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / f"{language}.po"


@cache
def _translations(language: str) -> gettext.GNUTranslations:
    with open(catalog_path(language), "rb") as fh:
        catalog = read_po(fh, locale=BABEL_LOCALE[language])
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Translator:
    """Texts, money and dates in one language."""

    language: str

    @property
    def locale(self) -> str:
        return BABEL_LOCALE[self.language]

    def __call__(self, key: str, /, **values: object) -> str:
        """The message as Telegram HTML, every value escaped."""
        return self._format(key, _translations(self.language).gettext(key), values)

    def plain(self, key: str, /, **values: object) -> str:
        """The message as plain text (button labels, callback answers, command descriptions)."""
        return self._format(key, _translations(self.language).gettext(key), values, escape_values=False)

    def plural(self, key: str, n: int, /, **values: object) -> str:
        """A text that depends on a count (`n` is also available as {n})."""
        text = _translations(self.language).ngettext(key, key, n)
        return self._format(key, text, {"n": n, **values})

    def _format(self, key: str, text: str, values: dict[str, object], escape_values: bool = True) -> str:
        if text == key:
            # A missing message must not show a raw key to a user; English is better than that.
            log.error("message %r missing from the %s catalog", key, self.language)
            if self.language != FALLBACK:
                fallback = _translations(FALLBACK).gettext(key)
                if fallback != key:
                    text = fallback
        if escape_values:
            values = {name: v if isinstance(v, Safe) else escape(v) for name, v in values.items()}
        return text.format(**values)

    def money(self, minor: int, currency: str) -> str:
        return format_money(minor, currency, self.locale)

    def datetime(self, ts: float, timezone: str) -> str:
        """A moment the way people of the language write it, in the shop's time zone:
        "12月2日 22:29" in Chinese, "Dec 2, 10:29 PM" in English (the year only when it is not
        this year's). CLDR's "short" pattern gave Chinese merchants "2026/12/2" and English ones
        the US "12/2/26"."""
        zone = ZoneInfo(timezone)
        moment = datetime.fromtimestamp(ts, zone)
        skeleton = "MMMd" if moment.year == datetime.now(zone).year else "yMMMd"
        day = format_skeleton(skeleton, moment, tzinfo=zone, fuzzy=True, locale=self.locale)
        clock = format_time(moment, "short", tzinfo=zone, locale=self.locale)
        return f"{day} {clock}" if self.language == "zh" else f"{day}, {clock}"

    def date(self, ts: float, timezone: str) -> str:
        return format_date(datetime.fromtimestamp(ts, ZoneInfo(timezone)), "medium", locale=self.locale)

    def time(self, ts: float, timezone: str) -> str:
        moment = datetime.fromtimestamp(ts, ZoneInfo(timezone))
        return format_time(moment, "short", tzinfo=ZoneInfo(timezone), locale=self.locale)


def translator(language: str) -> Translator:
    return Translator(language if language in LANGUAGES else FALLBACK)
