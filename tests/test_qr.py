"""Tests for core.qr and core.fonts.

Every generated image is decoded with a real QR decoder (zxing-cpp), because
"looks like a QR code" is not the same as "scans".
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections import Counter

import pytest
import zxingcpp
from PIL import Image, ImageChops, ImageFont

from core import fonts, qr
from core.qr import SheetItem, content_key, fit_text, render_qr_sheet, render_shop_qr, render_slot_qr

BOT = "https://t.me/livecart_test_bot"
SHOP_CODE = "k3x9ab"
CHINESE = "夏橙 5斤装"
LONG_NAME = (
    "赣南脐橙 新鲜采摘 当季水果 整箱10斤 大果 包邮 "
    "Premium Navel Oranges, hand picked, extra large, family box with free shipping"
)


def slot_url(slot: int) -> str:
    return f"{BOT}?start=s_{SHOP_CODE}_{slot}"


def to_image(png: bytes) -> Image.Image:
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    img = Image.open(io.BytesIO(png))
    img.load()
    return img


def decode(png: bytes) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(to_image(png), formats=zxingcpp.BarcodeFormat.QRCode)


def decode_one(png: bytes) -> zxingcpp.Barcode:
    found = decode(png)
    assert len(found) == 1, [b.text for b in found]
    return found[0]


def ink(img: Image.Image) -> int:
    """Number of non-white pixels: a cheap 'something was drawn here' check."""
    gray = img.convert("L")
    white = Image.new("L", gray.size, 255)
    diff = ImageChops.difference(gray, white).point(lambda v: 255 if v > 40 else 0)
    return diff.histogram()[255]


def regions(png: bytes) -> tuple[Image.Image, Image.Image, Image.Image]:
    """Split a single-code image into (above code, code, below code) using the
    symbol position the decoder reports."""
    img = to_image(png)
    pos = decode_one(png).position
    top = min(pos.top_left.y, pos.top_right.y)
    bottom = max(pos.bottom_left.y, pos.bottom_right.y)
    return (
        img.crop((0, 0, img.width, top - 2)),
        img.crop((0, top, img.width, bottom)),
        img.crop((0, bottom + 2, img.width, img.height)),
    )


@pytest.fixture(autouse=True)
def _fresh_font_cache():
    fonts.find_cjk_font.cache_clear()
    yield
    fonts.find_cjk_font.cache_clear()


@pytest.fixture
def no_cjk_font(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    monkeypatch.setattr(fonts, "_warned", False)


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "product", "price"),
    [
        (1, CHINESE, "¥39.90"),
        (7, LONG_NAME, "¥129.00 / 箱"),
        (12, "Organic Honey 500g", None),
        (3, None, None),  # empty slot: shop name only
        (50, CHINESE, "HK$88"),
    ],
)
def test_slot_qr_decodes_to_exact_url(slot: int, product: str | None, price: str | None) -> None:
    png = render_slot_qr(slot_url(slot), slot, "小王水果铺 Fresh Fruit", product, price)
    code = decode_one(png)
    assert code.text == slot_url(slot)
    assert code.ec_level in {"M", "Q"}
    img = to_image(png)
    assert img.width == 800
    assert img.height > img.width  # badge above and label below the code


@pytest.mark.parametrize("caption", ["扫码查看全部商品 · Scan to browse", None])
def test_shop_qr_decodes_to_exact_url(caption: str | None) -> None:
    url = f"{BOT}?start=shop_{SHOP_CODE}"
    png = render_shop_qr(url, "小王水果铺", caption)
    assert decode_one(png).text == url


def _sheet_items(n: int) -> list[SheetItem]:
    names = [CHINESE, LONG_NAME, "Organic Honey 500g", None]
    return [
        SheetItem(slot=i, url=slot_url(i), product_name=names[i % 4], price_text=f"¥{i}.90")
        for i in range(1, n + 1)
    ]


@pytest.mark.parametrize("n", [1, 12, qr.SHEET_MAX_ITEMS])
def test_sheet_decodes_every_url_exactly_once(n: int) -> None:
    items = _sheet_items(n)
    png = render_qr_sheet(items, "小王水果铺 — 直播二维码")
    decoded = Counter(code.text for code in decode(png))
    assert decoded == Counter(item.url for item in items)

    img = to_image(png)
    # One A4 page (portrait, 1:√2) for everything up to the item limit.
    assert img.width == 1654
    assert img.height / img.width == pytest.approx(2 ** 0.5, rel=0.01)


def test_sheet_rejects_empty_and_oversized() -> None:
    with pytest.raises(ValueError):
        render_qr_sheet([], "t")
    with pytest.raises(ValueError):
        render_qr_sheet(_sheet_items(qr.SHEET_MAX_ITEMS + 1), "t")


def test_sheet_with_long_urls_still_scans() -> None:
    # A much longer payload forces a higher QR version; the grid must adapt
    # (smaller modules or a taller page) rather than produce unscannable codes.
    items = [
        SheetItem(i, f"{BOT}?start=s_{SHOP_CODE}_{i}_" + "x" * 120, CHINESE, "¥1")
        for i in range(1, 21)
    ]
    decoded = Counter(code.text for code in decode(render_qr_sheet(items, "long")))
    assert decoded == Counter(item.url for item in items)


def test_empty_url_is_rejected() -> None:
    with pytest.raises(ValueError):
        render_slot_qr("", 1, "shop", None, None)


# --------------------------------------------------------------------------
# Fonts and text
# --------------------------------------------------------------------------


def test_without_cjk_font_still_renders_and_warns_once(
    no_cjk_font: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert not fonts.has_cjk_font()
    with caplog.at_level(logging.WARNING, logger="core.fonts"):
        png = render_slot_qr(slot_url(1), 1, "小王水果铺", CHINESE, "¥39.90")
        sheet = render_qr_sheet(_sheet_items(4), "标题")
        shop = render_shop_qr(f"{BOT}?start=shop_{SHOP_CODE}", "小王水果铺", "扫码")
    assert decode_one(png).text == slot_url(1)
    assert decode_one(shop).text == f"{BOT}?start=shop_{SHOP_CODE}"
    assert len(decode(sheet)) == 4
    warnings = [r for r in caplog.records if r.name == "core.fonts"]
    assert len(warnings) == 1
    assert "fonts-wqy-microhei" in warnings[0].getMessage()


def test_chinese_uses_real_glyphs_when_font_present() -> None:
    if not fonts.has_cjk_font():
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei)")
    # With a CJK font two different names draw different pixels; with the
    # fallback font both would be identical rows of "tofu" boxes.
    a = regions(render_slot_qr(slot_url(1), 1, "店", "夏橙", None))[2]
    b = regions(render_slot_qr(slot_url(1), 1, "店", "冬橙", None))[2]
    assert a.size == b.size
    assert ImageChops.difference(a, b).getbbox() is not None


def test_badge_and_label_are_drawn() -> None:
    above, _, below = regions(render_slot_qr(slot_url(1), 1, "小王水果铺", CHINESE, "¥39.90"))
    assert ink(above) > 5_000  # the big slot badge
    assert ink(below) > 2_000  # product, price and shop name

    # Only the shop name remains for an empty slot: less label, but not blank.
    _, _, shop_only = regions(render_slot_qr(slot_url(1), 1, "小王水果铺", None, None))
    assert 0 < ink(shop_only) < ink(below)


def test_badge_grows_with_the_number() -> None:
    one = regions(render_slot_qr(slot_url(1), 1, "s", None, None))[0]
    fifty = regions(render_slot_qr(slot_url(50), 50, "s", None, None))[0]
    assert ink(fifty) > ink(one)


def test_fit_text_ellipsises_by_measured_width() -> None:
    font = fonts.load_font(40)
    assert fit_text("short", font, 500) == "short"
    shortened = fit_text(LONG_NAME, font, 500)
    assert shortened.endswith(qr.ELLIPSIS)
    assert font.getlength(shortened) <= 500
    assert LONG_NAME.startswith(shortened[:-1].rstrip())
    # Whitespace from pasted chat messages collapses to single spaces.
    assert fit_text("a \n\t b", font, 500) == "a b"


def test_fit_text_without_cjk_font(no_cjk_font: None) -> None:
    font = fonts.load_font(40)
    shortened = fit_text(LONG_NAME, font, 300)
    assert shortened.endswith(qr.ELLIPSIS)
    assert font.getlength(shortened) <= 300


def test_find_cjk_font_honours_env_var(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    bogus = tmp_path / "missing.ttf"
    monkeypatch.setenv(fonts.FONT_ENV_VAR, str(bogus))
    fonts.find_cjk_font.cache_clear()
    assert fonts.find_cjk_font() != str(bogus)  # unusable path is ignored

    monkeypatch.delenv(fonts.FONT_ENV_VAR)
    fonts.find_cjk_font.cache_clear()
    system = fonts.find_cjk_font()
    if system is None:
        pytest.skip("no CJK font installed to point the env var at")
    copy = tmp_path / "custom.ttc"
    copy.symlink_to(system)
    monkeypatch.setenv(fonts.FONT_ENV_VAR, str(copy))
    fonts.find_cjk_font.cache_clear()
    assert fonts.find_cjk_font() == str(copy)
    assert isinstance(fonts.load_font(30), ImageFont.FreeTypeFont)


def test_load_font_sizes() -> None:
    font = fonts.load_font(48)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert font.size == 48


# --------------------------------------------------------------------------
# Determinism and cache keys
# --------------------------------------------------------------------------


def test_same_input_gives_same_bytes() -> None:
    args = (slot_url(5), 5, "小王水果铺", CHINESE, "¥39.90")
    assert render_slot_qr(*args) == render_slot_qr(*args)
    assert render_slot_qr(*args) != render_slot_qr(slot_url(5), 5, "小王水果铺", CHINESE, "¥49.90")
    shop = (f"{BOT}?start=shop_{SHOP_CODE}", "小王水果铺", "扫码")
    assert render_shop_qr(*shop) == render_shop_qr(*shop)
    items = _sheet_items(6)
    assert render_qr_sheet(items, "t") == render_qr_sheet(list(items), "t")


async def test_rendering_from_threads_is_safe_and_deterministic() -> None:
    # The bot renders via asyncio.to_thread; concurrent renders must not
    # interfere (FreeType faces are not thread-safe) and must match.
    args = (slot_url(9), 9, "小王水果铺", LONG_NAME, "¥9.90")
    results = await asyncio.gather(*(asyncio.to_thread(render_slot_qr, *args) for _ in range(6)))
    assert len(set(results)) == 1
    assert results[0] == render_slot_qr(*args)


def test_content_key() -> None:
    parts = ("slot", slot_url(1), 1, "小王水果铺", CHINESE, None)
    key = content_key(*parts)
    assert len(key) == 64 and int(key, 16) >= 0
    assert content_key(*parts) == key
    assert content_key("slot", slot_url(1), 1, "小王水果铺", CHINESE, "¥1") != key
    # Types matter: slot 1 and slot "1" are different inputs.
    assert content_key(1) != content_key("1")
    # Argument boundaries matter.
    assert content_key("ab", "c") != content_key("a", "bc")
    # Dataclasses (sheet items) are accepted and compared by value.
    items = _sheet_items(3)
    assert content_key("sheet", items, "t") == content_key("sheet", list(items), "t")
    with pytest.raises(TypeError):
        content_key(object())


def test_content_key_covers_render_version_and_font(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = content_key("x")
    monkeypatch.setattr(qr, "RENDER_VERSION", qr.RENDER_VERSION + "-next")
    assert content_key("x") != key
    monkeypatch.undo()
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: "/some/other/font.ttf")
    assert content_key("x") != key
