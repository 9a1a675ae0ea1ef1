"""Packing slips: a PDF per box whose QR code brings the buyer back to the order."""

from __future__ import annotations

import pypdfium2 as pdfium
import zxingcpp

from core.fonts import has_cjk_font
from tests.stories import add_product, current_shop, merchant_with_shop, save_delivery, stock_of

BOT = "livecart_test_bot"  # the fake Telegram's bot


def _pages(document) -> pdfium.PdfDocument:
    assert document is not None and document.file_name.endswith(".pdf")
    return pdfium.PdfDocument(document.data)


def _qr_codes(pdf: pdfium.PdfDocument, page: int = 0) -> list[str]:
    image = pdf[page].render(scale=4).to_pil()
    return [code.text for code in zxingcpp.read_barcodes(image)]


def _text(pdf: pdfium.PdfDocument, page: int = 0) -> str:
    return pdf[page].get_textpage().get_text_range()


async def _orders(world, count: int = 1, address: str = "湖北省宜昌市夷陵区发展大道1号"):
    """A shop with `count` cash-on-delivery orders of Bob's; returns (merchant, shop, buyer, product id)."""
    ann = await merchant_with_shop(world)
    product_id = await add_product(ann, "秭归脐橙, 5斤 29.9 x200, 10斤 49.9 x100")
    shop = await current_shop(world, ann)
    bob = world.user("Bob")
    await save_delivery(world, bob, recipient="王小明", address=address)
    for _ in range(count):
        await bob.send(f"/start p_{shop.slug}_{product_id}")
        await bob.tap("10斤 · CN¥49.90")
        await bob.tap("Buy now · CN¥49.90")
        await bob.tap("Confirm order")
    return ann, shop, bob, product_id


async def test_slips_pdf_has_the_order_and_a_qr_that_opens_it_for_the_buyer(world):
    ann, shop, bob, _ = await _orders(world)
    await ann.send("/slips a6")
    pdf = _pages(ann.last.document)
    assert len(pdf) == 1
    assert _qr_codes(pdf) == [f"https://t.me/{BOT}?start=o_{shop.slug}_1001"]
    text = _text(pdf)
    assert "#1001" in text and "Green Hill Oranges" in text and "138 0013 8000" in text
    if has_cjk_font():  # Chinese is drawn in the CJK font (.ci/run installs one)
        assert "王小明" in text and "湖北省宜昌市" in text and "秭归脐橙 · 10斤 × 1" in text


async def test_a4_sheet_holds_four_slips_a_page(world):
    ann, shop, bob, _ = await _orders(world, count=5)
    await ann.send("/slips")
    pdf = _pages(ann.last.document)
    assert len(pdf) == 2
    assert sorted(_qr_codes(pdf, 0)) == [f"https://t.me/{BOT}?start=o_{shop.slug}_{n}" for n in range(1001, 1005)]
    assert _qr_codes(pdf, 1) == [f"https://t.me/{BOT}?start=o_{shop.slug}_1005"]
    assert "5 packing slip(s), A4" in ann.last.caption


async def test_order_card_and_pack_list_give_slips(world):
    ann, shop, bob, _ = await _orders(world, count=2)
    await ann.send("/packlist")
    await ann.tap("🏷 Labels (A6)")
    assert len(_pages(ann.last.document)) == 2
    await ann.send("/orders")
    await ann.tap("#1002")
    await ann.tap("🧾 Slip")
    pdf = _pages(ann.last.document)
    assert len(pdf) == 1 and _qr_codes(pdf) == [f"https://t.me/{BOT}?start=o_{shop.slug}_1002"]


async def test_no_orders_to_ship_means_no_slips_said_plainly(world):
    ann = await merchant_with_shop(world)
    await ann.send("/slips")
    assert "No orders are waiting to ship" in ann.last.text


async def test_the_box_qr_shows_the_buyer_their_order_with_order_again(world):
    ann, shop, bob, product_id = await _orders(world)
    await bob.send(f"/start o_{shop.slug}_1001")
    box = bob.last
    assert "Your order #1001 from Green Hill Oranges" in box.text and "秭归脐橙 · 10斤" in box.text
    labels = [b for row in box.buttons for b in row]
    assert "🔁 Order again" in labels and "☆ Follow shop" in labels and "💬 Ask about #1001" in labels
    query = await bob.tap("🔁 Order again")
    assert "Added to your cart at today's price" in query.answer_text
    assert "秭归脐橙 · 10斤 × 1" in bob.last.text and "Check out" in str(bob.last.buttons)
    await bob.tap("Check out")
    await bob.tap("Confirm order")
    assert len(await world.store.orders.of_buyer(bob.id)) == 2


async def test_someone_else_scanning_a_box_sees_only_the_shop(world):
    ann, shop, bob, _ = await _orders(world)
    eve = world.user("Eve")
    await eve.send(f"/start o_{shop.slug}_1001")
    assert "This box came from Green Hill Oranges" in eve.last.text
    assert "王小明" not in eve.last.text and "#1001" not in eve.last.text
    order = (await world.store.orders.of_buyer(bob.id))[0]
    query = await eve.send_callback(f"o.again:{order.id}", eve.last)  # a forged Order again
    assert query.answer_text and await world.store.carts.lines(eve.id, shop.id) == []


async def test_staff_print_slips_and_strangers_cannot(world):
    ann, shop, bob, _ = await _orders(world)
    pat = world.user("Pat")
    await pat.send("/start")
    await pat.send(f"/start j_{await world.store.staff.invite(shop.id, ann.id)}")
    await pat.send("/slips")
    assert _pages(pat.last.document) is not None
    sam = world.user("Sam")
    await sam.send("/slips")
    assert "You don't have a shop yet" in sam.last.text
    query = await sam.send_callback(f"slip.p:{shop.id}:a4", sam.last)
    assert query.answer_text and sam.last.document is None


async def test_slips_in_chinese(world):
    ann = await merchant_with_shop(world, language_code="zh")
    await ann.send("/addproduct 脐橙, 59, 100")
    shop = await current_shop(world, ann)
    product = (await world.store.products.page(shop.id, 0, 10))[0][0]
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start p_{shop.slug}_{product.id}")
    await bob.tap("Buy now")
    await bob.tap("Confirm order")
    await ann.send("/slips")
    assert "1 张面单" in ann.last.caption
    if has_cjk_font():
        assert "收件人" in _text(_pages(ann.last.document))
    assert await stock_of(world, product.id) == 99
