"""Locate and load a CJK-capable font for the images Livecart draws.

Product and shop names are frequently Chinese. Pillow's built-in font only
covers Latin, so Chinese would come out as empty boxes ("tofu"). At run time
we therefore look for a system font that has Han glyphs, in this order:

1. the ``LIVECART_FONT`` environment variable (a path to a .ttf/.ttc/.otf);
2. well-known install paths of Debian/Ubuntu packages
   (``fonts-wqy-microhei``, ``fonts-noto-cjk``, ``fonts-wqy-zenhei``);
3. ``fc-list :lang=zh`` when fontconfig is installed.

If nothing is found we fall back to Pillow's built-in scalable font and log a
single warning that explains how to install one. Rendering never fails just
because a font is missing.

This module is deliberately free of any Telegram dependency.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import threading
from pathlib import Path

from PIL import ImageFont

__all__ = [
    "FONT_ENV_VAR",
    "find_cjk_font",
    "has_cjk_font",
    "load_font",
]

log = logging.getLogger(__name__)

FONT_ENV_VAR = "LIVECART_FONT"

# Ordered by preference. WenQuanYi Micro Hei is small (~5 MB) and has good
# Latin glyphs too, so mixed names like "iPhone 壳 Pro" look consistent.
_KNOWN_PATHS: tuple[str, ...] = (
    # fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    # fonts-noto-cjk (Debian/Ubuntu layout, plus the upstream "noto-cjk" dir)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    # fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    # macOS developer machines
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
)

# Pillow can only use scalable outline fonts; fc-list also reports bitmap
# formats (.pcf, .bdf) that ImageFont.truetype cannot open.
_OUTLINE_SUFFIXES = (".ttf", ".ttc", ".otf", ".otc")

_INSTALL_HINT = (
    "install one with `apt-get install fonts-wqy-microhei` (or fonts-noto-cjk), "
    f"or point {FONT_ENV_VAR} at a .ttf/.ttc/.otf file"
)

_warned_lock = threading.Lock()
_warned = False


def _usable(path: str | os.PathLike[str]) -> bool:
    p = Path(path)
    return p.suffix.lower() in _OUTLINE_SUFFIXES and p.is_file()


def _from_fc_list() -> str | None:
    """Ask fontconfig for a font that claims Chinese coverage."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "file"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # Output is "path: " per line in no guaranteed order; sort so the choice is
    # stable from run to run (images must be deterministic for caching).
    paths = sorted(
        {line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()}
    )
    # Prefer sans-serif faces: they stay legible at small label sizes.
    paths.sort(key=lambda p: 0 if "sans" in p.lower() or "hei" in p.lower() else 1)
    for path in paths:
        if _usable(path):
            return path
    return None


@functools.cache
def find_cjk_font() -> str | None:
    """Return the path of a CJK-capable outline font, or ``None``.

    The result is cached for the life of the process; call
    ``find_cjk_font.cache_clear()`` after installing a font or changing
    ``LIVECART_FONT`` (tests do this).
    """
    env = os.environ.get(FONT_ENV_VAR, "").strip()
    if env:
        if _usable(env):
            return env
        log.warning("%s=%r is not a readable .ttf/.ttc/.otf file; ignoring it", FONT_ENV_VAR, env)
    for path in _KNOWN_PATHS:
        if _usable(path):
            return path
    return _from_fc_list()


def has_cjk_font() -> bool:
    """True when Chinese text will render with real glyphs."""
    return find_cjk_font() is not None


@functools.cache
def _face_index(path: str) -> int:
    """Pick the Simplified Chinese face inside a font collection.

    Noto's .ttc bundles JP, KR, SC, TC and HK faces; index 0 is Japanese, whose
    glyph shapes look subtly wrong to Chinese readers. WenQuanYi collections
    have no such variants, so this returns 0 for them.
    """
    if not path.lower().endswith((".ttc", ".otc")):
        return 0
    for index in range(8):  # collections in the wild hold at most a handful of faces
        try:
            family = ImageFont.truetype(path, 12, index=index).getname()[0] or ""
        except OSError:
            break  # past the last face
        if family.endswith(" SC") or " SC " in family:
            return index
    return 0


# FreeType faces must not be used by two threads at once, and the bot renders
# from a thread pool (asyncio.to_thread), so each thread keeps its own cache.
_thread_fonts = threading.local()


def _truetype(path: str, size: int) -> ImageFont.FreeTypeFont:
    cache: dict[tuple[str, int], ImageFont.FreeTypeFont] | None = getattr(
        _thread_fonts, "cache", None
    )
    if cache is None:
        cache = _thread_fonts.cache = {}
    key = (path, size)
    font = cache.get(key)
    if font is None:
        font = ImageFont.truetype(path, size, index=_face_index(path))
        cache[key] = font
    return font


def _warn_once(reason: str) -> None:
    # The renderer calls load_font many times per image; one line in the log
    # is enough to tell the operator what to fix.
    global _warned
    with _warned_lock:
        if _warned:
            return
        _warned = True
    log.warning("%s; Chinese text will render as boxes. To fix, %s.", reason, _INSTALL_HINT)


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return a font of ``size`` pixels, CJK-capable when one is installed.

    Falls back to Pillow's built-in font (scalable since Pillow 10.1) and warns
    once per process. A font file that exists but cannot be opened is treated
    like a missing one rather than crashing the renderer.
    """
    size = max(1, int(size))
    path = find_cjk_font()
    if path is None:
        _warn_once("No CJK font found")
    else:
        try:
            return _truetype(path, size)
        except OSError as exc:
            _warn_once(f"Could not open font {path} ({exc})")
    return ImageFont.load_default(size)
