"""QR code images for live links, the shop catalog and printable sheets.

Every public function is a pure, synchronous, CPU-only function returning PNG
bytes; the bot calls them through ``asyncio.to_thread``. Output is
byte-for-byte deterministic for the same input on the same machine, so callers
can cache images under :func:`content_key`.

All visible text (shop name, product name, price, captions, sheet title) is
passed in already translated and formatted: this module never localises.

Images are grayscale ("L") PNGs: black on white prints crisply on any printer,
keeps the files small, and is all a QR code needs. QR modules are scaled by an
integer factor with nearest-neighbour resampling, so their edges stay sharp.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata

import qrcode
from PIL import Image, ImageDraw, ImageFont
from PIL import __version__ as _PILLOW_VERSION
from qrcode.constants import ERROR_CORRECT_M, ERROR_CORRECT_Q

from core import fonts

__all__ = [
    "RENDER_VERSION",
    "SHEET_MAX_ITEMS",
    "SheetItem",
    "content_key",
    "fit_text",
    "render_qr_sheet",
    "render_shop_qr",
    "render_slot_qr",
]

# Bump whenever the drawing code changes what an image looks like, so that
# every cached image keyed by content_key() is regenerated.
RENDER_VERSION = "1"

SHEET_MAX_ITEMS = 50

# The QR spec requires a 4-module quiet zone; scanners get unreliable without it.
QUIET_ZONE = 4

# Single images are shown on a livestream, i.e. filmed/compressed video scanned
# from a screen: Q (25% recovery) survives blocky artefacts. Sheet cells are
# small printed codes where larger modules help more than extra redundancy.
_EC_SINGLE = ERROR_CORRECT_Q
_EC_SHEET = ERROR_CORRECT_M

ELLIPSIS = "…"

# Grayscale palette.
_INK = 0
_PAPER = 255
_MUTED = 95  # secondary text; still dark enough for cheap printers
_CUT_LINE = 200  # dashed cutting guides on the sheet

_SINGLE_WIDTH = 800

# A4 at 200 dpi: plenty for text, and QR modules are whole pixels anyway.
_A4_WIDTH = 1654
_A4_HEIGHT = 2339
# Below 3 px per module a printed code gets hard to scan; grow the page instead.
_SHEET_MIN_BOX = 3


@dataclass(frozen=True, slots=True)
class SheetItem:
    """One filled slot on a printable sheet."""

    slot: int
    url: str
    product_name: str | None = None
    price_text: str | None = None


# --------------------------------------------------------------------------
# Cache key
# --------------------------------------------------------------------------


@functools.cache
def _qrcode_version() -> str:
    try:
        return metadata.version("qrcode")
    except metadata.PackageNotFoundError:  # vendored or odd install
        return "unknown"


def _jsonable(value: object) -> object:
    # Only accept types with a stable, unambiguous serialisation: a repr() of an
    # arbitrary object could embed a memory address and break caching.
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            "__type__": type(value).__name__,
            **{k: _jsonable(v) for k, v in dataclasses.asdict(value).items()},
        }
    raise TypeError(f"content_key() cannot hash {type(value).__name__}")


def content_key(*parts: object) -> str:
    """Return a hex sha256 identifying an image built from ``parts``.

    Pass the render function's name and its arguments, e.g.
    ``content_key("slot", url, slot, shop_name, product_name, price_text)``.
    The key also covers :data:`RENDER_VERSION`, the font in use and the
    Pillow/qrcode versions, because any of them changes the pixels: installing
    a CJK font later correctly invalidates images that showed boxes.
    """
    payload = json.dumps(
        [
            RENDER_VERSION,
            fonts.find_cjk_font() or "builtin",
            _PILLOW_VERSION,
            _qrcode_version(),
            [_jsonable(p) for p in parts],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------
# QR matrix
# --------------------------------------------------------------------------


def _qr_matrix(url: str, error_correction: int) -> list[list[bool]]:
    """Module matrix of the smallest QR version that fits, quiet zone included."""
    if not url:
        raise ValueError("QR payload must not be empty")
    qr = qrcode.QRCode(
        version=None, error_correction=error_correction, box_size=1, border=QUIET_ZONE
    )
    qr.add_data(url)
    qr.make(fit=True)
    return qr.get_matrix()


def _qr_image(matrix: list[list[bool]], box: int) -> Image.Image:
    # Draw one pixel per module and upscale with NEAREST: exact square modules
    # and much faster than drawing rectangles.
    n = len(matrix)
    img = Image.new("L", (n, n), _PAPER)
    img.putdata([_INK if dark else _PAPER for row in matrix for dark in row])
    return img.resize((n * box, n * box), Image.Resampling.NEAREST)


def qr_image(url: str, box: int = 8) -> Image.Image:
    """A plain QR code of `url` (medium error correction, quiet zone included), for documents
    that lay it out themselves (core/slips.py)."""
    return _qr_image(_qr_matrix(url, ERROR_CORRECT_M), box)


# --------------------------------------------------------------------------
# Text helpers
# --------------------------------------------------------------------------

_Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def _is_outline(font: _Font) -> bool:
    return isinstance(font, ImageFont.FreeTypeFont)


def _safe(text: str, font: _Font) -> str:
    # Pillow built without FreeType only has a Latin-1 bitmap font, which raises
    # on other characters; degrade to "?" rather than failing the render.
    if _is_outline(font):
        return text
    return text.encode("latin-1", "replace").decode("latin-1")


def _width(text: str, font: _Font, stroke: int = 0) -> float:
    return font.getlength(_safe(text, font)) + 2 * stroke


def _line_height(font: _Font) -> int:
    # Use the font's metrics, not the text's bbox, so lines are spaced the same
    # whether they hold Latin, digits or Han characters.
    if _is_outline(font):
        ascent, descent = font.getmetrics()  # type: ignore[union-attr]
        return ascent + descent
    left, top, right, bottom = font.getbbox("Ag")
    return int(bottom)


def _normalise(text: str) -> str:
    # Names pasted from chats often carry newlines/tabs; a label is one flow.
    return " ".join(text.split())


def fit_text(text: str, font: _Font, max_width: float, stroke: int = 0) -> str:
    """Return ``text``, shortened with an ellipsis if it is wider than ``max_width``.

    Widths are measured with ``font`` (CJK glyphs are roughly twice as wide as
    Latin ones, so counting characters would be wrong).
    """
    text = _normalise(text)
    if _width(text, font, stroke) <= max_width:
        return text
    # Binary search for the longest prefix that still fits with the ellipsis.
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _width(text[:mid].rstrip() + ELLIPSIS, font, stroke) <= max_width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + ELLIPSIS if lo else ELLIPSIS


def _wrap(text: str, font: _Font, max_width: float, max_lines: int, stroke: int = 0) -> list[str]:
    """Greedy line wrapping; the last allowed line is ellipsised.

    Chinese has no spaces and may break between any two characters; for Latin
    words we back off to the last space so words are not split.
    """
    text = _normalise(text)
    lines: list[str] = []
    while text and len(lines) < max_lines - 1:
        if _width(text, font, stroke) <= max_width:
            break
        lo, hi = 1, len(text)
        while lo < hi:  # longest prefix that fits (at least one character)
            mid = (lo + hi + 1) // 2
            if _width(text[:mid], font, stroke) <= max_width:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        if text[cut].isascii() and text[cut].isalnum() and text[cut - 1].isascii():
            space = text.rfind(" ", 0, cut)
            if space > 0:
                cut = space
        lines.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        lines.append(fit_text(text, font, max_width, stroke))
    return lines


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    font: _Font
    fill: int = _INK
    stroke: int = 0  # fake bold: WenQuanYi/Noto Regular have no bold face here

    @property
    def height(self) -> int:
        return _line_height(self.font) + 2 * self.stroke


def _draw_line(draw: ImageDraw.ImageDraw, line: _Line, x: float, y: float) -> None:
    stroke = line.stroke if _is_outline(line.font) else 0
    draw.text(
        (round(x + stroke), round(y + stroke)),
        _safe(line.text, line.font),
        font=line.font,
        fill=line.fill,
        stroke_width=stroke,
        stroke_fill=line.fill,
    )


def _stack_height(lines: Sequence[_Line], gap: int) -> int:
    if not lines:
        return 0
    return sum(line.height for line in lines) + gap * (len(lines) - 1)


def _draw_stack(
    draw: ImageDraw.ImageDraw,
    lines: Sequence[_Line],
    top: int,
    gap: int,
    *,
    left: int,
    width: int,
    center: bool,
) -> None:
    y = top
    for line in lines:
        x = left + (width - _width(line.text, line.font, line.stroke)) / 2 if center else left
        _draw_line(draw, line, x, y)
        y += line.height + gap


def _draw_badge(
    draw: ImageDraw.ImageDraw,
    number: int,
    *,
    top: int,
    height: int,
    cx: float | None = None,
    left: int | None = None,
) -> int:
    """Draw the slot number on a dark rounded badge; return the badge's right edge.

    The badge is centred on ``cx`` or starts at ``left``; it widens for
    multi-digit numbers.

    White-on-black reads from across a room and survives video compression
    better than thin dark digits on white.
    """
    text = str(number)
    font = fonts.load_font(round(height * 0.74))
    stroke = max(1, height // 60) if _is_outline(font) else 0
    text = _safe(text, font)
    left_edge, t, r, b = font.getbbox(text, stroke_width=stroke) if stroke else font.getbbox(text)
    pad_x = height * 0.22
    width = max(height, round((r - left_edge) + 2 * pad_x))
    if left is not None:
        x0 = left
    else:
        assert cx is not None, "give cx or left"
        x0 = round(cx - width / 2)
    draw.rounded_rectangle(
        (x0, top, x0 + width - 1, top + height - 1), radius=round(height * 0.2), fill=_INK
    )
    # Centre the ink box of the digits, not the font's line box: digits have no
    # descender, so line-box centring would sit them visibly high.
    tx = x0 + width / 2 - (left_edge + r) / 2
    ty = top + height / 2 - (t + b) / 2
    draw.text(
        (round(tx), round(ty)), text, font=font, fill=_PAPER, stroke_width=stroke, stroke_fill=_PAPER
    )
    return x0 + width


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    # compress_level is fixed (not optimize=True) to keep encoding fast and the
    # bytes stable; Pillow writes no timestamps into PNGs.
    img.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def _box_for(matrix: list[list[bool]], target: int) -> int:
    return max(1, target // len(matrix))


# --------------------------------------------------------------------------
# Single images
# --------------------------------------------------------------------------


def render_slot_qr(
    url: str,
    slot: int,
    shop_name: str,
    product_name: str | None,
    price_text: str | None,
) -> bytes:
    """PNG for one live link: big slot badge, QR code, then the label.

    The label is product name (up to two lines), price, and the shop name in
    a muted tone. ``product_name``/``price_text`` of ``None`` omit that line.
    """
    width = _SINGLE_WIDTH
    side_margin = 48
    text_width = width - 2 * side_margin

    matrix = _qr_matrix(url, _EC_SINGLE)
    code = _qr_image(matrix, _box_for(matrix, width))

    name_font = fonts.load_font(50)
    price_font = fonts.load_font(60)
    shop_font = fonts.load_font(34)
    label: list[_Line] = []
    if product_name and product_name.strip():
        label += [_Line(t, name_font) for t in _wrap(product_name, name_font, text_width, 2)]
    if price_text and price_text.strip():
        label.append(_Line(fit_text(price_text, price_font, text_width, 2), price_font, stroke=2))
    if shop_name.strip():
        label.append(_Line(fit_text(shop_name, shop_font, text_width), shop_font, _MUTED))

    top_margin, badge_h, bottom_margin, gap = 40, 240, 52, 14
    # The QR's own quiet zone already separates it from the badge and label.
    code_top = top_margin + badge_h
    label_top = code_top + code.height
    height = label_top + _stack_height(label, gap) + bottom_margin

    img = Image.new("L", (width, height), _PAPER)
    draw = ImageDraw.Draw(img)
    _draw_badge(draw, slot, cx=width / 2, top=top_margin, height=badge_h)
    img.paste(code, ((width - code.width) // 2, code_top))
    _draw_stack(draw, label, label_top, gap, left=side_margin, width=text_width, center=True)
    return _png(img)


def render_shop_qr(url: str, shop_name: str, caption_line: str | None) -> bytes:
    """PNG of the shop's catalog link: shop name above the code, caption below."""
    width = _SINGLE_WIDTH
    side_margin = 48
    text_width = width - 2 * side_margin

    matrix = _qr_matrix(url, _EC_SINGLE)
    code = _qr_image(matrix, _box_for(matrix, width))

    title_font = fonts.load_font(64)
    caption_font = fonts.load_font(38)
    title = [_Line(t, title_font, stroke=2) for t in _wrap(shop_name, title_font, text_width, 2, 2)]
    caption = (
        [_Line(t, caption_font, _MUTED) for t in _wrap(caption_line, caption_font, text_width, 2)]
        if caption_line and caption_line.strip()
        else []
    )

    top_margin, bottom_margin, gap = 56, 56, 10
    code_top = top_margin + _stack_height(title, gap)
    caption_top = code_top + code.height
    height = caption_top + _stack_height(caption, gap) + bottom_margin

    img = Image.new("L", (width, height), _PAPER)
    draw = ImageDraw.Draw(img)
    _draw_stack(draw, title, top_margin, gap, left=side_margin, width=text_width, center=True)
    img.paste(code, ((width - code.width) // 2, code_top))
    _draw_stack(draw, caption, caption_top, gap, left=side_margin, width=text_width, center=True)
    return _png(img)


# --------------------------------------------------------------------------
# Printable sheet
# --------------------------------------------------------------------------

# Sheet cell geometry. Cells always share the page width evenly (so labels get
# the room), and the QR side is what the column count is optimised for.
_PAD = 0.04  # cell padding, as a fraction of the cell width
_HEADER = 0.28  # minimum badge/label row height, as a fraction of the QR side
_HEADER_MAX = 0.42  # spare page height grows the header (bigger text) up to this
_GAP = 0.02  # between header row and QR, as a fraction of the QR side


@dataclass(frozen=True, slots=True)
class _Grid:
    cols: int
    rows: int
    cell_w: int
    box: int  # pixels per QR module
    qr_side: int  # QR image side, quiet zone included
    header_h: int  # badge/label row height

    @property
    def pad(self) -> int:
        return round(self.cell_w * _PAD)

    @property
    def cell_h(self) -> int:
        return 2 * self.pad + self.header_h + round(self.qr_side * _GAP) + self.qr_side


def _choose_grid(n: int, avail_w: int, avail_h: int, modules: int) -> _Grid:
    """Pick the column count that gives the biggest QR modules on one A4 page.

    Ties go to fewer columns, which leaves more width for product names. If
    even the best layout would make modules smaller than _SHEET_MIN_BOX pixels
    (very long URLs), keep that minimum and let the page grow taller rather
    than print codes that won't scan.
    """
    best: tuple[int, int, int, int] | None = None  # (box, cols, rows, cell_w)
    for cols in range(1, min(n, 10) + 1):
        rows = -(-n // cols)
        cell_w = avail_w // cols
        pad = round(cell_w * _PAD)
        by_width = cell_w - 2 * pad
        by_height = (avail_h // rows - 2 * pad) / (1 + _HEADER + _GAP)
        box = int(min(by_width, by_height)) // modules
        if best is None or box > best[0]:
            best = (box, cols, rows, cell_w)
    assert best is not None
    box, cols, rows, cell_w = best
    if box >= _SHEET_MIN_BOX:
        side = box * modules
        # Rounding the module size down usually leaves height to spare; spend
        # it on a taller header so the badge and names print larger.
        spare = avail_h // rows - 2 * round(cell_w * _PAD) - round(side * _GAP) - side
        header_h = max(round(side * _HEADER), min(spare, round(side * _HEADER_MAX)))
        return _Grid(cols, rows, cell_w, box, side, header_h)
    side = modules * _SHEET_MIN_BOX
    cols = max(1, min(n, int(avail_w * (1 - 2 * _PAD)) // side))
    return _Grid(
        cols, -(-n // cols), avail_w // cols, _SHEET_MIN_BOX, side, round(side * _HEADER)
    )


def _dashed(draw: ImageDraw.ImageDraw, xy: tuple[int, int, int, int], dash: int = 14) -> None:
    x0, y0, x1, y1 = xy
    if y0 == y1:
        for x in range(x0, x1, 2 * dash):
            draw.line((x, y0, min(x + dash, x1), y0), fill=_CUT_LINE, width=2)
    else:
        for y in range(y0, y1, 2 * dash):
            draw.line((x0, y, x0, min(y + dash, y1)), fill=_CUT_LINE, width=2)


def _draw_cell(
    img: Image.Image,
    draw: ImageDraw.ImageDraw,
    grid: _Grid,
    item: SheetItem,
    matrix: list[list[bool]],
    x: int,
    y: int,
    font: _Font,
) -> None:
    pad, header_h = grid.pad, grid.header_h
    badge_right = _draw_badge(draw, item.slot, top=y + pad, height=header_h, left=x + pad)

    text_left = badge_right + max(4, header_h // 5)
    text_w = x + grid.cell_w - pad - text_left
    lines: list[_Line] = []
    if item.product_name and item.product_name.strip():
        max_name_lines = 2 if item.price_text else 3
        lines += [_Line(t, font) for t in _wrap(item.product_name, font, text_w, max_name_lines)]
    if item.price_text and item.price_text.strip():
        lines.append(_Line(fit_text(item.price_text, font, text_w, 1), font, stroke=1))
    gap = max(1, header_h // 30)
    text_top = y + pad + (header_h - _stack_height(lines, gap)) // 2
    _draw_stack(draw, lines, text_top, gap, left=text_left, width=text_w, center=False)

    code = _qr_image(matrix, grid.box)
    # Codes of a shorter version are centred in the space of the largest one.
    offset = (grid.qr_side - code.width) // 2
    qr_top = y + pad + header_h + round(grid.qr_side * _GAP)
    img.paste(code, (x + (grid.cell_w - code.width) // 2, qr_top + offset))


def render_qr_sheet(items: list[SheetItem], title: str) -> bytes:
    """Printable A4 PNG with one cell per item, in the order given.

    Cells hold the slot badge, product name and price, and the QR code, with
    dashed cutting guides around them. Up to :data:`SHEET_MAX_ITEMS` items fit
    on one A4 page at 200 dpi; all codes share one module size so the sheet
    looks even. Raises ``ValueError`` for an empty or oversized list.
    """
    if not items:
        raise ValueError("a QR sheet needs at least one item")
    if len(items) > SHEET_MAX_ITEMS:
        raise ValueError(f"a QR sheet holds at most {SHEET_MAX_ITEMS} items, got {len(items)}")

    width, margin = _A4_WIDTH, 70
    avail_w = width - 2 * margin
    title_font = fonts.load_font(60)
    title_lines = [_Line(fit_text(title, title_font, avail_w, 2), title_font, stroke=2)]
    title_block = _stack_height(title_lines, 0) + 40

    matrices = [_qr_matrix(item.url, _EC_SHEET) for item in items]
    modules = max(len(m) for m in matrices)
    grid = _choose_grid(len(items), avail_w, _A4_HEIGHT - 2 * margin - title_block, modules)
    # Up to three label lines sit beside the badge.
    label_font = fonts.load_font(max(8, int(grid.header_h / 3.6)))

    grid_w, grid_h = grid.cols * grid.cell_w, grid.rows * grid.cell_h
    height = max(_A4_HEIGHT, 2 * margin + title_block + grid_h)
    img = Image.new("L", (width, height), _PAPER)
    draw = ImageDraw.Draw(img)
    _draw_stack(draw, title_lines, margin, 0, left=margin, width=avail_w, center=True)

    gx = (width - grid_w) // 2
    gy = margin + title_block
    for i, (item, matrix) in enumerate(zip(items, matrices)):
        row, col = divmod(i, grid.cols)
        x, y = gx + col * grid.cell_w, gy + row * grid.cell_h
        _draw_cell(img, draw, grid, item, matrix, x, y, label_font)
        # Cutting guides around each filled cell (shared edges are simply drawn
        # twice); they lie outside every quiet zone.
        x1, y1 = x + grid.cell_w, y + grid.cell_h
        for edge in ((x, y, x1, y), (x, y1, x1, y1), (x, y, x, y1), (x1, y, x1, y1)):
            _dashed(draw, edge)
    return _png(img)
