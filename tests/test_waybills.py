"""Reading waybill exports and pasted lines (core/waybills.py): headers in either language, in
any order; bad rows named with their reason; hostile cells read as text, never run."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from core.waybills import Problem, WaybillFileError, parse_csv, parse_file, parse_lines, parse_xlsx


def _pairs(result):
    return [(w.number, w.carrier, w.tracking) for w in result.ready]


def test_pasted_lines_with_and_without_carrier():
    result = parse_lines("1001 SF1234567890\n\n#1002 顺丰 SF1234567891\n1003 中通 7589 1234 5678\n"
                         "１００４ YT9876543210")
    assert _pairs(result) == [(1001, None, "SF1234567890"), (1002, "顺丰", "SF1234567891"),
                              (1003, "中通", "758912345678"), (1004, None, "YT9876543210")]
    assert result.refused == []


def test_pasted_bad_lines_are_named_with_their_reason():
    result = parse_lines("abc SF1234567890\n1001\n1002 顺丰\n1003 SF1234567890\n1003 SF1234567899\n=1+1 SF1234567890")
    assert [(r.row, r.problem) for r in result.refused] == [
        (1, Problem.BAD_ORDER_NUMBER), (2, Problem.NO_TRACKING), (3, Problem.BAD_TRACKING),
        (5, Problem.DUPLICATE), (6, Problem.BAD_ORDER_NUMBER)]
    assert _pairs(result) == [(1003, None, "SF1234567890")]


def test_csv_headers_in_chinese_in_any_order_with_bom():
    data = "快递公司,运单号,收件人,订单号\n顺丰,SF1234567890,张三,1001\n中通,75891234567,李四,#1002\n".encode("utf-8-sig")
    assert _pairs(parse_csv(data)) == [(1001, "顺丰", "SF1234567890"), (1002, "中通", "75891234567")]


def test_csv_in_gb18030_with_semicolons():
    data = "订单编号;快递单号\n1001;SF1234567890\n".encode("gb18030")
    assert _pairs(parse_csv(data)) == [(1001, None, "SF1234567890")]


def test_csv_headers_in_english():
    data = b"Tracking Number,Order No.,Carrier\nSF1234567890,1001,SF Express\n"
    assert _pairs(parse_csv(data)) == [(1001, "SF Express", "SF1234567890")]


def test_csv_without_the_needed_headers_is_refused_as_a_whole():
    with pytest.raises(WaybillFileError) as info:
        parse_csv(b"name,phone\nBob,138\n")
    assert info.value.reason == "no_header"


def test_hostile_cells_are_text_and_never_accepted_as_numbers():
    data = ('order,carrier,tracking\n=HYPERLINK("http://evil";"x"),SF,SF1234567890\n'
            '1002,"=cmd|\' /C calc\'!A0",SF1234567891\n1003,SF,=1+2+3+4+5+6\n').encode()
    result = parse_csv(data)
    assert [(r.row, r.problem) for r in result.refused] == [(2, Problem.BAD_ORDER_NUMBER), (4, Problem.BAD_TRACKING)]
    assert _pairs(result) == [(1002, "=cmd|' /C calc'!A0", "SF1234567891")]


def _xlsx(rows) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_numbers_and_formulas():
    data = _xlsx([["运单号", "订单号", "快递公司"], [758912345678, 1001, "中通"], ["SF1234567891", "=1000+2", "顺丰"]])
    result = parse_xlsx(data)
    assert _pairs(result) == [(1001, "中通", "758912345678")]
    assert [(r.row, r.problem) for r in result.refused] == [(3, Problem.BAD_ORDER_NUMBER)]
    assert _pairs(parse_file(data, "waybills.xlsx")) == _pairs(result)


def test_a_broken_or_old_workbook_is_refused_as_a_whole():
    with pytest.raises(WaybillFileError) as info:
        parse_file(b"PK\x03\x04not really a zip", "x.xlsx")
    assert info.value.reason == "unreadable"
    with pytest.raises(WaybillFileError) as info:
        parse_file(b"\xd0\xcf\x11\xe0", "x.xls")
    assert info.value.reason == "old_excel"
    with pytest.raises(WaybillFileError) as info:
        parse_file(b"x" * (3 * 1024 * 1024), "x.csv")
    assert info.value.reason == "too_big"
