"""Product photos for the demo shop, drawn with Pillow (no files to ship, no network).

Each picture is a simple, friendly illustration with the product's name in Chinese and English,
so a trainer's demo shop looks like a real one. Drawn at twice the size and scaled down, so the
edges are smooth.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFilter

from core.fonts import load_font

SIZE = 800
_SCALE = 2  # supersampling factor
Color = tuple[int, int, int]


def _gradient(size: int, top: Color, bottom: Color) -> Image.Image:
    column = Image.new("RGB", (1, size))
    for y in range(size):
        f = y / (size - 1)
        column.putpixel((0, y), tuple(round(a + (b - a) * f) for a, b in zip(top, bottom, strict=True)))
    return column.resize((size, size))


def _shadow(image: Image.Image, box: tuple[int, int, int, int], blur: int) -> None:
    """A soft oval shadow under an object."""
    layer = Image.new("L", image.size, 0)
    ImageDraw.Draw(layer).ellipse(box, fill=90)
    layer = layer.filter(ImageFilter.GaussianBlur(blur))
    image.paste((40, 30, 20), mask=layer)


def _leaf(draw: ImageDraw.ImageDraw, cx: float, cy: float, length: float, angle: float, color: Color) -> None:
    """A pointed leaf from (cx, cy) towards `angle` (degrees)."""
    a = math.radians(angle)
    dx, dy = math.cos(a), math.sin(a)
    nx, ny = -dy, dx
    width = length * 0.32
    points = []
    for i in range(21):
        t = i / 20
        along = length * t
        half = width * math.sin(math.pi * t)
        points.append((cx + dx * along + nx * half, cy + dy * along + ny * half))
    for i in range(20, -1, -1):
        t = i / 20
        along = length * t
        half = width * math.sin(math.pi * t)
        points.append((cx + dx * along - nx * half, cy + dy * along - ny * half))
    draw.polygon(points, fill=color)
    vein = tuple(min(255, c + 40) for c in color)
    draw.line([(cx, cy), (cx + dx * length * 0.9, cy + dy * length * 0.9)], fill=vein, width=max(2, int(length / 40)))


def _oranges(image: Image.Image) -> None:
    s = image.size[0]
    draw = ImageDraw.Draw(image)
    fruits = [(0.34, 0.50, 0.19), (0.64, 0.47, 0.20), (0.50, 0.64, 0.21)]
    for x, y, r in fruits:
        _shadow(image, (int((x - r) * s), int((y + r * 0.75) * s), int((x + r) * s), int((y + r * 1.15) * s)), s // 60)
    for x, y, r in fruits:
        cx, cy, rr = x * s, y * s, r * s
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=(242, 140, 26))
        draw.ellipse((cx - rr * 0.92, cy - rr * 0.95, cx + rr * 0.85, cy + rr * 0.8), fill=(250, 160, 40))
        draw.ellipse((cx - rr * 0.55, cy - rr * 0.7, cx - rr * 0.1, cy - rr * 0.35), fill=(255, 205, 120))
        draw.ellipse((cx - rr * 0.06, cy - rr * 1.0, cx + rr * 0.06, cy - rr * 0.88), fill=(120, 90, 40))
    _leaf(draw, 0.64 * s, 0.27 * s, 0.16 * s, -35, (60, 150, 70))
    _leaf(draw, 0.64 * s, 0.27 * s, 0.12 * s, -150, (45, 125, 60))


def _kiwifruit(image: Image.Image) -> None:
    s = image.size[0]
    draw = ImageDraw.Draw(image)
    _shadow(image, (int(0.14 * s), int(0.64 * s), int(0.58 * s), int(0.78 * s)), s // 60)
    _shadow(image, (int(0.44 * s), int(0.66 * s), int(0.88 * s), int(0.80 * s)), s // 60)
    # A whole kiwi behind.
    draw.ellipse((0.46 * s, 0.34 * s, 0.86 * s, 0.72 * s), fill=(139, 101, 58))
    draw.ellipse((0.50 * s, 0.37 * s, 0.80 * s, 0.62 * s), fill=(158, 118, 70))
    # A halved kiwi in front.
    cx, cy, r = 0.38 * s, 0.50 * s, 0.22 * s
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(120, 88, 50))
    draw.ellipse((cx - r * 0.92, cy - r * 0.92, cx + r * 0.92, cy + r * 0.92), fill=(142, 190, 60))
    draw.ellipse((cx - r * 0.75, cy - r * 0.75, cx + r * 0.75, cy + r * 0.75), fill=(160, 205, 75))
    draw.ellipse((cx - r * 0.28, cy - r * 0.28, cx + r * 0.28, cy + r * 0.28), fill=(238, 240, 200))
    rng = random.Random(7)
    for i in range(34):
        a = 2 * math.pi * i / 34 + rng.uniform(-0.05, 0.05)
        d = r * rng.uniform(0.40, 0.52)
        x, y = cx + math.cos(a) * d, cy + math.sin(a) * d
        draw.ellipse((x - r * 0.035, y - r * 0.022, x + r * 0.035, y + r * 0.022), fill=(30, 25, 20))


def _cured_pork(image: Image.Image) -> None:
    s = image.size[0]
    draw = ImageDraw.Draw(image)
    # The string the pork hangs from.
    draw.line([(0.5 * s, 0.10 * s), (0.5 * s, 0.26 * s)], fill=(150, 110, 70), width=max(3, s // 160))
    draw.ellipse((0.47 * s, 0.08 * s, 0.53 * s, 0.12 * s), outline=(150, 110, 70), width=max(3, s // 200))
    _shadow(image, (int(0.22 * s), int(0.72 * s), int(0.78 * s), int(0.84 * s)), s // 50)
    left, top, right, bottom = 0.24 * s, 0.25 * s, 0.76 * s, 0.76 * s
    draw.rounded_rectangle((left, top, right, bottom), radius=s * 0.05, fill=(120, 38, 28))
    # Layers of lean and fat, as a slab of la rou shows them.
    bands = [(0.00, 0.14, (236, 214, 180)), (0.14, 0.36, (150, 48, 34)), (0.36, 0.46, (240, 222, 190)),
             (0.46, 0.70, (136, 42, 30)), (0.70, 0.80, (232, 208, 172)), (0.80, 1.00, (110, 34, 24))]
    height = bottom - top
    for start, end, color in bands:
        y0, y1 = top + height * start, top + height * end
        draw.rectangle((left + s * 0.02, max(top + s * 0.02, y0), right - s * 0.02, min(bottom - s * 0.02, y1)),
                       fill=color)
    draw.rounded_rectangle((left, top, right, bottom), radius=s * 0.05, outline=(90, 28, 20), width=max(4, s // 120))
    # A glossy highlight.
    draw.rounded_rectangle((left + s * 0.05, top + s * 0.03, left + s * 0.20, top + s * 0.05), radius=s * 0.01,
                           fill=(255, 240, 215))


def _tea(image: Image.Image) -> None:
    s = image.size[0]
    draw = ImageDraw.Draw(image)
    _shadow(image, (int(0.22 * s), int(0.70 * s), int(0.78 * s), int(0.82 * s)), s // 50)
    # Saucer, cup, tea.
    draw.ellipse((0.18 * s, 0.64 * s, 0.82 * s, 0.80 * s), fill=(245, 245, 240))
    draw.ellipse((0.24 * s, 0.665 * s, 0.76 * s, 0.775 * s), fill=(228, 228, 220))
    draw.chord((0.28 * s, 0.22 * s, 0.72 * s, 0.76 * s), 0, 180, fill=(252, 252, 248))
    draw.ellipse((0.28 * s, 0.44 * s, 0.72 * s, 0.54 * s), fill=(252, 252, 248))
    draw.ellipse((0.30 * s, 0.455 * s, 0.70 * s, 0.53 * s), fill=(150, 180, 70))
    draw.ellipse((0.36 * s, 0.47 * s, 0.50 * s, 0.50 * s), fill=(185, 210, 110))
    draw.arc((0.66 * s, 0.52 * s, 0.80 * s, 0.66 * s), -80, 80, fill=(235, 235, 228), width=max(6, s // 70))
    draw.arc((0.29 * s, 0.62 * s, 0.71 * s, 0.70 * s), 20, 160, fill=(40, 120, 90), width=max(4, s // 110))
    # Steam and leaves.
    for x in (0.42, 0.50, 0.58):
        points = [(x * s + math.sin(t / 6) * s * 0.02, (0.40 - t / 120) * s) for t in range(24)]
        draw.line(points, fill=(255, 255, 255), width=max(4, s // 130))
    _leaf(draw, 0.22 * s, 0.36 * s, 0.17 * s, -20, (70, 140, 60))
    _leaf(draw, 0.22 * s, 0.36 * s, 0.13 * s, -75, (95, 165, 70))
    _leaf(draw, 0.80 * s, 0.30 * s, 0.12 * s, 200, (80, 150, 65))


def _label(image: Image.Image, title: str, subtitle: str, accent: Color) -> None:
    s = image.size[0]
    draw = ImageDraw.Draw(image)
    band_top = int(0.83 * s)
    draw.rectangle((0, band_top, s, s), fill=(255, 255, 255))
    draw.rectangle((0, band_top, s, band_top + max(6, s // 100)), fill=accent)
    title_font = load_font(int(s * 0.062))
    sub_font = load_font(int(s * 0.036))
    draw.text((s * 0.06, band_top + s * 0.028), title, font=title_font, fill=(40, 40, 40))
    draw.text((s * 0.06, band_top + s * 0.108), subtitle, font=sub_font, fill=(110, 110, 110))
    # "Farm fresh" stamp in the top corner.
    stamp = load_font(int(s * 0.034))
    draw.rounded_rectangle((s * 0.05, s * 0.05, s * 0.36, s * 0.12), radius=s * 0.035, fill=accent)
    draw.text((s * 0.075, s * 0.066), "Livecart 直播好物", font=stamp, fill=(255, 255, 255))


@functools.lru_cache(maxsize=16)
def product_picture(key: str) -> bytes:
    """The PNG of one sample product (`key` from SAMPLES)."""
    sample = SAMPLES[key]
    big = SIZE * _SCALE
    image = _gradient(big, sample.top, sample.bottom)
    sample.draw(image)
    _label(image, sample.title, sample.subtitle, sample.accent)
    buffer = io.BytesIO()
    image.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


class Sample:
    """A demo product: how it looks, and the caption that adds it in one message."""

    def __init__(self, key: str, title: str, subtitle: str, caption: str, draw: Callable[[Image.Image], None],
                 top: Color, bottom: Color, accent: Color) -> None:
        self.key = key
        self.title = title
        self.subtitle = subtitle
        self.caption = caption  # "Name, price, stock": the catalog's quick add
        self.draw = draw
        self.top = top
        self.bottom = bottom
        self.accent = accent


SAMPLES: dict[str, Sample] = {
    s.key: s for s in [
        Sample("oranges", "夏橙 Oranges", "秭归夏橙 · 5斤装 · sweet summer oranges, 2.5 kg",
               "夏橙 Oranges 5斤, 39.90, 200", _oranges, (255, 244, 214), (255, 222, 170), (235, 120, 20)),
        Sample("kiwifruit", "猕猴桃 Kiwifruit", "红心猕猴桃 · 12个装 · red-heart kiwifruit, 12 pcs",
               "猕猴桃 Kiwifruit 12个, 29.90, 120", _kiwifruit, (236, 248, 222), (208, 234, 186), (96, 150, 40)),
        Sample("cured_pork", "腊肉 Cured pork", "柴火烟熏腊肉 · 500g · wood-smoked la rou",
               "腊肉 Cured pork 500g, 68.00, 40", _cured_pork, (252, 236, 226), (240, 206, 190), (170, 50, 35)),
        Sample("tea", "茶叶 Green tea", "明前绿茶 · 250g · spring green tea",
               "茶叶 Green tea 250g, 128.00, 30", _tea, (230, 244, 236), (196, 226, 206), (40, 120, 90)),
    ]
}
