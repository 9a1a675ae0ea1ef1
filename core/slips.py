"""Packing slips: a printable PDF with one slip per box (fpdf2).

A slip says who the box is for (recipient, phone, address), what is in it (items with their
variants and units), the buyer's note, the shop and the order number, and carries a QR code that
opens the order in the bot for the buyer (track it, order the same again, follow the shop).
Two sizes: A6 (105 x 148 mm), one slip a page, for label printers; A4 with four A6 slips a page,
for an office printer, with light cut lines between them.

Chinese renders in the CJK font core/fonts.py finds (the .ci/run installs one); without one the
slip still renders, Chinese as boxes. Pure: no Telegram, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from fpdf import FPDF

from core.fonts import find_cjk_font
from core.qr import qr_image

A6 = (105.0, 148.0)  # mm
A4 = (210.0, 297.0)
MARGIN = 7.0
QR_MM = 30.0
LINE_MM = 5.2
FONT = "slip"


@dataclass(frozen=True)
class Slip:
    shop: str
    number: int
    recipient: str
    phone: str
    address: str
    items: tuple[str, ...]  # "秭归脐橙 · 10斤 × 2"
    qr_url: str
    note: str | None = None
    ships: str | None = None  # "ships from Dec 20" for a pre-sale
    labels: tuple[str, str, str, str] = ("To", "Items", "Note", "Scan to track or order again")


@cache
def _font_path() -> str | None:
    return find_cjk_font()


def render(slips: Sequence[Slip], size: str = "A6") -> bytes:
    """The slips as one PDF: `size` "A6" (a slip a page) or "A4" (four a page)."""
    if size not in ("A6", "A4"):
        raise ValueError(f"no slip size {size!r}")
    pdf = FPDF(unit="mm", format=A6 if size == "A6" else A4)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    font = _font_path()
    if font is not None:
        pdf.add_font(FONT, fname=font, collection_font_number=0) if font.endswith(".ttc") else \
            pdf.add_font(FONT, fname=font)
        family = FONT
    else:  # no CJK font: Latin still reads
        family = "helvetica"
    per_page = 1 if size == "A6" else 4
    for index, slip in enumerate(slips):
        if index % per_page == 0:
            pdf.add_page()
            if size == "A4":
                _cut_lines(pdf)
        cell = index % per_page
        x, y = (0.0, 0.0) if size == "A6" else ((cell % 2) * A6[0], (cell // 2) * A6[1])
        _slip(pdf, slip, x, y, family)
    if not slips:
        pdf.add_page()
    return bytes(pdf.output())


def _cut_lines(pdf: FPDF) -> None:
    pdf.set_draw_color(190)
    pdf.set_dash_pattern(dash=2, gap=2)
    pdf.line(A6[0], 0, A6[0], A4[1])
    pdf.line(0, A6[1], A4[0], A6[1])
    pdf.set_dash_pattern()
    pdf.set_draw_color(0)


def _slip(pdf: FPDF, slip: Slip, x: float, y: float, family: str) -> None:
    width = A6[0] - 2 * MARGIN
    left, top = x + MARGIN, y + MARGIN
    to_label, items_label, note_label, scan_label = slip.labels
    # The shop and the order number, large: what a packer looks for first.
    pdf.set_font(family, size=10)
    pdf.set_xy(left, top)
    pdf.cell(width - 32, 6, _fit(pdf, slip.shop, width - 32))
    pdf.set_font(family, size=16)
    pdf.set_xy(left + width - 32, top - 1)
    pdf.cell(32, 8, f"#{slip.number}", align="R")
    pdf.set_draw_color(0)
    pdf.line(left, top + 8, left + width, top + 8)
    cursor = top + 10
    pdf.set_font(family, size=8)
    pdf.set_xy(left, cursor)
    pdf.cell(width, 4, to_label)
    pdf.set_font(family, size=12)
    pdf.set_xy(left, cursor + 4)
    pdf.cell(width, 6, _fit(pdf, f"{slip.recipient}  {slip.phone}", width))
    pdf.set_font(family, size=10)
    pdf.set_xy(left, cursor + 10)
    pdf.multi_cell(width, LINE_MM, slip.address, max_line_height=LINE_MM)
    cursor = pdf.get_y() + 2
    pdf.set_font(family, size=8)
    pdf.set_xy(left, cursor)
    pdf.cell(width, 4, items_label)
    cursor += 4
    pdf.set_font(family, size=10)
    bottom = y + A6[1] - MARGIN - QR_MM - 2
    for shown, item in enumerate(slip.items):
        if cursor + LINE_MM > bottom - (LINE_MM if slip.note else 0):
            pdf.set_xy(left, cursor)
            pdf.cell(width, LINE_MM, f"… +{len(slip.items) - shown}")
            cursor += LINE_MM
            break
        pdf.set_xy(left, cursor)
        pdf.cell(width, LINE_MM, _fit(pdf, "• " + item, width))
        cursor += LINE_MM
    if slip.ships:
        pdf.set_xy(left, cursor)
        pdf.cell(width, LINE_MM, _fit(pdf, slip.ships, width))
        cursor += LINE_MM
    if slip.note and cursor + LINE_MM <= bottom:
        pdf.set_font(family, size=9)
        pdf.set_xy(left, cursor + 1)
        pdf.cell(width, LINE_MM, _fit(pdf, f"{note_label}: {slip.note}", width))
    # The way back to the shop: the order in the bot.
    qr_top = y + A6[1] - MARGIN - QR_MM
    pdf.image(qr_image(slip.qr_url, 8), x=left, y=qr_top, w=QR_MM, h=QR_MM)
    pdf.set_font(family, size=8)
    pdf.set_xy(left + QR_MM + 3, qr_top + QR_MM / 2 - 6)
    pdf.multi_cell(width - QR_MM - 3, 4, f"{scan_label}\n{slip.shop} #{slip.number}")


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut with an ellipsis to the width (one line of a slip never wraps into the next)."""
    text = " ".join((text or "").split())
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"
