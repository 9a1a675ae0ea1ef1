"""The summary chart: revenue and orders per day, drawn with Pillow as a PNG for a phone screen.

Two panels share the day axis: revenue bars on top, order bars below, each with round-number
grid lines and the value over every bar that has room for it. A day still in progress (today
so far) is drawn lighter. Every text arrives translated and formatted; money is formatted by
the `money` callable the caller passes (compact, whole units). Chinese renders with the CJK
font core/fonts.py finds; without one the chart is still drawn.

Pure and synchronous: the bot calls it through asyncio.to_thread.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from core.fonts import load_font

WIDTH, HEIGHT = 1280, 960  # Telegram shows photos up to 1280 px: no downscaling blur
MARGIN = 44

_BACKGROUND = (255, 255, 255)
_TEXT = (33, 37, 41)
_MUTED = (108, 117, 125)
_GRID = (226, 230, 234)
_AXIS = (173, 181, 189)
_REVENUE = (232, 114, 34)
_REVENUE_PARTIAL = (246, 190, 150)
_ORDERS = (52, 116, 214)
_ORDERS_PARTIAL = (160, 192, 240)


@dataclass(frozen=True)
class ChartDay:
    label: str  # "3/10"
    weekday: str  # "Mon" / "周一"
    revenue: int  # minor units
    orders: int
    partial: bool = False  # the day is still going on


@dataclass(frozen=True)
class ChartText:
    title: str
    subtitle: str
    revenue_title: str
    orders_title: str
    partial_note: str | None = None  # what the lighter bar means


def nice_ticks(maximum: int, count: int = 4) -> list[int]:
    """Round grid values 0, step, 2*step... reaching at least `maximum` (whole numbers)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(1, int(step))
    top = math.ceil(maximum / step) * step
    return list(range(0, top + 1, step))


def _text_width(draw: ImageDraw.ImageDraw, text: str, font) -> float:
    return draw.textlength(text, font=font)


def _fit(draw: ImageDraw.ImageDraw, text: str, font, width: float) -> str:
    """`text`, shortened with an ellipsis to fit `width` pixels."""
    if _text_width(draw, text, font) <= width:
        return text
    while text and _text_width(draw, text + "…", font) > width:
        text = text[:-1]
    return text + "…"


def _panel(draw: ImageDraw.ImageDraw, box: tuple[float, float, float, float], plot_left: float, title: str,
           values: Sequence[int], partial: Sequence[bool], label: Callable[[int], str], colour, partial_colour) -> None:
    left, top, right, bottom = box
    title_font, tick_font, value_fonts = load_font(32), load_font(24), (load_font(22), load_font(18))
    draw.text((left, top), title, font=title_font, fill=_TEXT, anchor="lt")
    ticks = nice_ticks(max(values, default=0))
    plot_top, plot_bottom = top + 58, bottom
    scale = (plot_bottom - plot_top) / ticks[-1]
    for value in ticks:
        y = plot_bottom - value * scale
        draw.line([(plot_left, y), (right, y)], fill=_GRID if value else _AXIS, width=1 if value else 2)
        draw.text((plot_left - 10, y), label(value), font=tick_font, fill=_MUTED, anchor="rm")
    slot = (right - plot_left) / max(1, len(values))
    bar = max(4.0, slot * 0.62)
    for i, value in enumerate(values):
        centre = plot_left + slot * (i + 0.5)
        height = value * scale
        if value > 0:
            draw.rectangle([centre - bar / 2, plot_bottom - max(height, 2), centre + bar / 2, plot_bottom - 1],
                           fill=partial_colour if partial[i] else colour)
        text = label(value)
        # The value over its bar, smaller when the bars are narrow; left out when it cannot fit.
        font = next((f for f in value_fonts if _text_width(draw, text, f) <= slot - 2), None)
        if value > 0 and font is not None:
            draw.text((centre, plot_bottom - height - 6), text, font=font, fill=_TEXT, anchor="mb")


def render_chart(text: ChartText, days: Sequence[ChartDay], money: Callable[[int], str]) -> bytes:
    """The chart as PNG bytes, WIDTH x HEIGHT."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    inner = WIDTH - 2 * MARGIN
    title_font, subtitle_font = load_font(46), load_font(28)
    draw.text((MARGIN, MARGIN), _fit(draw, text.title, title_font, inner), font=title_font, fill=_TEXT, anchor="lt")
    draw.text((MARGIN, MARGIN + 62), _fit(draw, text.subtitle, subtitle_font, inner), font=subtitle_font,
              fill=_MUTED, anchor="lt")
    revenue = [d.revenue for d in days]
    orders = [d.orders for d in days]
    partial = [d.partial for d in days]
    # Both panels and the day axis share one left edge, so a day's two bars line up.
    tick_font = load_font(24)
    tick_labels = [money(v) for v in nice_ticks(max(revenue, default=0))] + \
                  [str(v) for v in nice_ticks(max(orders, default=0))]
    plot_left = MARGIN + max(_text_width(draw, t, tick_font) for t in tick_labels) + 14
    plot_right = WIDTH - MARGIN
    axis_top = HEIGHT - MARGIN - 64
    _panel(draw, (MARGIN, 160, plot_right, 470), plot_left, text.revenue_title, revenue, partial, money,
           _REVENUE, _REVENUE_PARTIAL)
    _panel(draw, (MARGIN, 520, plot_right, axis_top - 12), plot_left, text.orders_title, orders, partial, str,
           _ORDERS, _ORDERS_PARTIAL)
    slot = (plot_right - plot_left) / max(1, len(days))
    date_font, weekday_font = load_font(24), load_font(21)
    widest = max((_text_width(draw, d.label, date_font) for d in days), default=0)
    every = max(1, math.ceil((widest + 8) / slot))  # label every day when they fit, else every 2nd, 3rd...
    for i, day in enumerate(days):
        if (len(days) - 1 - i) % every:  # always label the last day
            continue
        centre = plot_left + slot * (i + 0.5)
        draw.text((centre, axis_top), day.label, font=date_font, fill=_TEXT, anchor="mt")
        if every == 1:
            draw.text((centre, axis_top + 28), _fit(draw, day.weekday, weekday_font, slot - 4), font=weekday_font,
                      fill=_MUTED, anchor="mt")
    if text.partial_note and any(partial):
        note_font = load_font(20)
        width = _text_width(draw, text.partial_note, note_font)
        x = WIDTH - MARGIN - width
        draw.rectangle([x - 30, MARGIN + 70, x - 10, MARGIN + 88], fill=_REVENUE_PARTIAL)
        draw.text((x, MARGIN + 79), text.partial_note, font=note_font, fill=_MUTED, anchor="lm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
