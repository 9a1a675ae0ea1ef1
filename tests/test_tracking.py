"""What a merchant types when shipping, told apart into carrier and tracking number."""

from __future__ import annotations

import pytest

from core.tracking import Shipment, parse_shipment


@pytest.mark.parametrize("typed, carrier, number", [
    ("顺丰", "顺丰", None),
    ("SF1234567890", None, "SF1234567890"),
    ("SF Express SF1234567890", "SF Express", "SF1234567890"),
    ("顺丰 SF1234567890", "顺丰", "SF1234567890"),
    ("顺丰SF1234567890", "顺丰", "SF1234567890"),
    ("SF1234567890 顺丰", "顺丰", "SF1234567890"),
    ("中通 7589 1234 5678", "中通", "758912345678"),
    ("韵达快递：4312345678901", "韵达快递", "4312345678901"),
    ("EMS", "EMS", None),
    ("4PX", "4PX", None),
    ("JD0012345678901-1-1", None, "JD0012345678901-1-1"),
    ("  YTO   YT7500123456789  ", "YTO", "YT7500123456789"),
    ("ＳＦ１２３４５６７８９０", None, "SF1234567890"),  # full-width, as Chinese keyboards type it
    ("", None, None),
])
def test_carrier_and_tracking_number_are_told_apart(typed, carrier, number):
    assert parse_shipment(typed) == Shipment(carrier, number)
