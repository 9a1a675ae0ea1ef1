"""Reading a courier's waybill export, or lines pasted by hand, into "ship order N with this
carrier and tracking number": what bulk shipping ships.

Three inputs, one result (`Waybills`: the rows understood and the rows refused with a reason):

- pasted lines, one order a line: `1001 SF1234567890`, `#1002 顺丰 SF1234567891`, `1003 中通 7589 1234 5678`;
- a CSV file (UTF-8 with or without BOM, or GB18030 as Chinese spreadsheet programs save it; comma,
  semicolon or tab), columns found by their header in Chinese or English, in any order;
- an XLSX workbook (its first sheet), read with openpyxl in read-only mode.

Every cell is text to us: a cell written as a formula (`=HYPERLINK(...)`) is never evaluated, and
an order number or tracking number must look like one or the row is refused with a reason; a
carrier name is cleaned like anything typed (core.text). Pure: no Telegram, no database.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from core.text import TextRefused, accept_text
from core.tracking import parse_shipment

MAX_ROWS = 2000  # more than a morning's boxes; a bigger file is refused, not half-read
MAX_FILE_BYTES = 2 * 1024 * 1024
CARRIER_MAX = 40
TRACKING_MAX = 40
ORDER_NUMBER_MAX = 10**12
_TRACKING = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{4,39}$")
_ORDER = re.compile(r"^(?:#|No\.?|NO\.?)?\s*(\d{1,12})(?:\.0+)?$")


class Column(StrEnum):
    ORDER = "order"
    CARRIER = "carrier"
    TRACKING = "tracking"


# Header words, normalised (lower case, no spaces or punctuation), as couriers' and shops'
# spreadsheets spell them.
_HEADERS: dict[str, Column] = {
    **dict.fromkeys(("订单号", "订单编号", "订单", "订单号码", "商户订单号", "客户订单号", "order", "orderno",
                     "ordernumber", "orderid", "order#"), Column.ORDER),
    **dict.fromkeys(("快递公司", "物流公司", "快递", "承运商", "快递名称", "物流", "carrier", "courier", "express",
                     "shippingcompany", "company"), Column.CARRIER),
    **dict.fromkeys(("运单号", "快递单号", "物流单号", "运单编号", "单号", "快递单号码", "tracking", "trackingnumber",
                     "trackingno", "tracking#", "waybill", "waybillno", "waybillnumber", "awb"), Column.TRACKING),
}


class Problem(StrEnum):
    """Why a row cannot be shipped; each has a message in both languages (desk.bulk_problem_*)."""

    BAD_ORDER_NUMBER = "bad_order_number"
    NO_TRACKING = "no_tracking"
    BAD_TRACKING = "bad_tracking"
    DUPLICATE = "duplicate"
    # Found when the rows meet the shop's orders (handlers.bulk_ship):
    NOT_FOUND = "not_found"
    ALREADY_SHIPPED = "already_shipped"
    CANCELLED = "cancelled"
    AWAITING_PAYMENT = "awaiting_payment"


class WaybillFileError(ValueError):
    """The file as a whole cannot be read; `reason` names why (desk.bulk_file_*)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Waybill:
    row: int  # the line or spreadsheet row it came from, as the merchant counts them
    number: int
    carrier: str | None
    tracking: str


@dataclass(frozen=True)
class Refused:
    row: int
    text: str  # what the order-number cell said (cleaned, short), to name the row
    problem: Problem


@dataclass
class Waybills:
    ready: list[Waybill] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def _cell_text(value: object) -> str:
    """A cell as text: numbers as their digits (a spreadsheet stores 1001 as 1001.0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return _norm(str(value))


def _short(text: str) -> str:
    try:
        return accept_text(text, max_length=10_000)[:20]
    except TextRefused:
        return ""


def order_number(text: str) -> int | None:
    """"1001", "#1001", "No.1001", "１００１" (full width) -> 1001; anything else None."""
    match = _ORDER.match(_norm(text))
    if not match:
        return None
    value = int(match.group(1))
    return value if 0 < value < ORDER_NUMBER_MAX else None


def tracking_number(text: str) -> str | None:
    """A tracking number as couriers print them (letters, digits, dashes; spaces between digit
    groups dropped), with at least five digits; None for anything else (a formula, a name)."""
    candidate = re.sub(r"\s+", "", _norm(text))
    if not _TRACKING.match(candidate) or sum(ch.isdigit() for ch in candidate) < 5:
        return None
    return candidate


def carrier_name(text: str) -> str | None:
    try:
        return accept_text(text, max_length=CARRIER_MAX) if text.strip() else None
    except TextRefused:
        return None


def _add(result: Waybills, seen: set[int], row: int, number_text: str, carrier: str | None,
         tracking_text: str) -> None:
    number = order_number(number_text)
    if number is None:
        result.refused.append(Refused(row, _short(number_text), Problem.BAD_ORDER_NUMBER))
        return
    if not tracking_text.strip():
        result.refused.append(Refused(row, str(number), Problem.NO_TRACKING))
        return
    tracking = tracking_number(tracking_text)
    if tracking is None:
        result.refused.append(Refused(row, str(number), Problem.BAD_TRACKING))
        return
    if number in seen:
        result.refused.append(Refused(row, str(number), Problem.DUPLICATE))
        return
    seen.add(number)
    result.ready.append(Waybill(row, number, carrier_name(carrier or ""), tracking))


def parse_lines(text: str) -> Waybills:
    """Pasted lines: the order number first, then what the single ship prompt takes (carrier and
    tracking number, either order of words as core.tracking reads them)."""
    result, seen = Waybills(), set[int]()
    lines = [(i, line) for i, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    if len(lines) > MAX_ROWS:
        raise WaybillFileError("too_many_rows")
    for row, line in lines:
        first, _, rest = _norm(line).partition(" ")
        if first in ("#", "No.", "No", "NO"):  # "# 1001 SF..." or "No. 1001 ..."
            second, _, rest = rest.strip().partition(" ")
            first = first + second
        shipment = parse_shipment(rest)
        _add(result, seen, row, first, shipment.carrier, shipment.number or rest)
    return result


def _header_columns(row: list[str]) -> dict[Column, int]:
    found: dict[Column, int] = {}
    for index, cell in enumerate(row):
        key = re.sub(r"[\s_\-./:：()（）]", "", _norm(cell).lower())
        column = _HEADERS.get(key)
        if column is not None and column not in found:
            found[column] = index
    return found


def parse_rows(rows: list[list[object]]) -> Waybills:
    """Rows of a sheet: a header row (among the first five) naming the order-number and tracking
    columns (the carrier column is optional), then one waybill a row."""
    texts = [[_cell_text(c) for c in row] for row in rows]
    for header_at, header in enumerate(texts[:5]):  # noqa: B007 - the header row found is used after the loop
        columns = _header_columns(header)
        if Column.ORDER in columns and Column.TRACKING in columns:
            break
    else:
        raise WaybillFileError("no_header")
    body = [(header_at + 2 + i, row) for i, row in enumerate(texts[header_at + 1:]) if any(c.strip() for c in row)]
    if len(body) > MAX_ROWS:
        raise WaybillFileError("too_many_rows")
    result, seen = Waybills(), set[int]()

    def cell(row: list[str], column: Column) -> str:
        index = columns.get(column)
        return row[index] if index is not None and index < len(row) else ""

    for row_number, row in body:
        _add(result, seen, row_number, cell(row, Column.ORDER), cell(row, Column.CARRIER), cell(row, Column.TRACKING))
    return result


def parse_csv(data: bytes) -> Waybills:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # gb18030 decodes almost anything; kept for clarity
        raise WaybillFileError("unreadable")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        return parse_rows([list(row) for row in csv.reader(io.StringIO(text), dialect)])
    except csv.Error:
        raise WaybillFileError("unreadable") from None


def parse_xlsx(data: bytes) -> Waybills:
    """The first sheet of a workbook. Formulas are read as the text they are, never run."""
    from openpyxl import load_workbook  # only merchants who send a workbook pay for the import

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds on a broken or disguised file
        raise WaybillFileError("unreadable") from None
    try:
        sheet = book.worksheets[0]
        rows: list[list[object]] = []
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            if len(rows) > MAX_ROWS + 6:
                raise WaybillFileError("too_many_rows")
    except WaybillFileError:
        raise
    except Exception:
        raise WaybillFileError("unreadable") from None
    finally:
        book.close()
    return parse_rows(rows)


def parse_file(data: bytes, file_name: str | None) -> Waybills:
    """A file the merchant sent: XLSX by its name or its zip signature, otherwise CSV/text."""
    if len(data) > MAX_FILE_BYTES:
        raise WaybillFileError("too_big")
    name = (file_name or "").lower()
    if name.endswith(".xls"):
        raise WaybillFileError("old_excel")
    if name.endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        return parse_xlsx(data)
    if b"\x00" in data[:1024]:
        raise WaybillFileError("unreadable")
    return parse_csv(data)
