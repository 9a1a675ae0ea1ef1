"""Reading QR codes in pictures people send: is this really a payment code?

A merchant's receive code (WeChat Pay, Alipay, a bank) is a QR code. A photo of anything else
(a product, a selfie, a blurred screen) would leave buyers unable to pay, so the picture must hold
a code a phone can read, checked with the same decoder the tests use for our own QR images.
"""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image, UnidentifiedImageError

MAX_SIDE = 2000  # photos arrive at most 2560 px; decoding a smaller copy is as good and quicker


def qr_texts(data: bytes) -> list[str]:
    """The texts of the QR codes found in an image ([] when none, or when it is not an image)."""
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return []
    image = opened.convert("RGB")
    if max(image.size) > MAX_SIDE:
        image.thumbnail((MAX_SIDE, MAX_SIDE))
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
            if code.valid and code.text]
