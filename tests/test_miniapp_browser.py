"""The Mini App in a real browser: headless Chromium at a phone's 360x740, the page served by the
bot's Mini App server, Telegram's script replaced by the sandbox's stand-in (sandbox/static/
tg-webapp-standin.js) with init data signed by the test. Browse, pick a variant, check out as a new
and as a returning buyer, and find the receipt in the chat. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from storage.variants import Offer
from tests.miniapp_client import BASE, init_data, server_of
from tests.stories import add_product, save_delivery, shop_with_product_on_link
from tests.test_sandbox import CHROMIUM, CHROMIUM_ARGS, _artifact, _browser_or_skip

STANDIN = (Path(__file__).resolve().parent.parent / "sandbox" / "static" / "tg-webapp-standin.js").read_text()
PHONE = {"width": 360, "height": 740}
ADDRESS = "湖北省宜昌市秭归县茅坪镇 橙园路 8 号"


@asynccontextmanager
async def phone_page(world, user, *, start_param: str | None = None, query: str = "", allows_write: bool = True,
                     init: str | None = None, theme: dict | None = None, grants_write: bool = True):
    """A page in Chromium at phone size, signed in as `user`; yields (page, bytes served by path)."""
    async_playwright = _browser_or_skip()
    served: dict[str, int] = {}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server_of(world)), base_url=BASE) as client, \
            async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
            page = await context.new_page()

            async def route(route, request):
                if request.url.startswith("https://telegram.org/"):
                    await route.fulfill(status=200, content_type="text/javascript", body=STANDIN)
                    return
                response = await client.request(request.method, request.url, headers=dict(request.headers),
                                                content=request.post_data_buffer)
                path = httpx.URL(request.url).path
                served[path] = served.get(path, 0) + len(response.content)
                await route.fulfill(status=response.status_code, headers=dict(response.headers), body=response.content)

            await page.route("**/*", route)

            async def share_contact() -> bool:
                await user.share_contact()
                return True

            await page.expose_function("__tgShareContactFromTest", share_contact)
            signed = init if init is not None else init_data(user, allows_write=allows_write, start_param=start_param)
            await page.add_init_script(
                f"window.__tgInitData = {signed!r}; window.__tgShareContact = () => window.__tgShareContactFromTest();"
                + (f"window.__tgTheme = {theme!r};" if theme else "")
                + f"window.__tgAllowWrite = {'true' if grants_write else 'false'};")
            await page.goto(f"{BASE}/app/{query}")
            yield page, served
        finally:
            await browser.close()


# Elements that hold more text than their box shows (a label cut off on a small phone).
_OVERFLOWING = """() => [...document.querySelectorAll("button, .link *, .row *, h1, h2, .notice")]
  .filter((node) => node.offsetParent && node.textContent.trim()
          && (node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1))
  .map((node) => `${node.tagName}.${node.className} "${node.textContent.trim().slice(0, 40)}"`)"""


async def _fits(page) -> None:
    """Nothing on the page is wider than the phone, and no element cuts its text."""
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide at {PHONE['width']}"
    assert await page.evaluate(_OVERFLOWING) == []


async def _shop_with_variants(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 39.90, 50")
    await world.store.variants.add(product_id, [Offer("5斤", 3990, 40), Offer("10斤", 6900, 20)])
    return ann, shop, product_id


async def test_a_new_buyer_browses_picks_a_variant_shares_the_phone_and_orders_and_the_receipt_is_in_the_chat(world):
    from playwright.async_api import expect

    ann, shop, product_id = await _shop_with_variants(world)
    bob = world.user("Bob", phone="+8613912345678")
    await bob.send("/start")
    before = len(bob.chat.bot_messages)
    async with phone_page(world, bob, query=f"?shop={shop.slug}") as (page, served):
        await expect(page.locator(".link .slot").first).to_have_text("Link 1")
        await expect(page.locator(".link .name").first).to_have_text("Oranges")
        await _fits(page)
        await page.screenshot(path=str(_artifact("miniapp-bag.png")))
        weight = sum(size for path, size in served.items() if not path.startswith("/app/api/"))
        assert weight < 100_000, f"the page weighs {weight} bytes before product photos"
        await page.locator(".link").first.click()
        main = page.locator("#tg-main-button")
        await expect(main).to_have_text("Buy now")
        await expect(main).to_be_disabled()  # an option must be picked first
        await page.get_by_role("button", name="10斤 · CN¥69.00").click()
        await page.get_by_role("button", name="+").click()
        await expect(page.locator(".stepper output")).to_have_text("2")
        await _fits(page)
        await page.screenshot(path=str(_artifact("miniapp-product.png")))
        await main.click()
        await expect(page.locator("h2")).to_have_text("Check out")
        await expect(page.locator("#recipient")).to_have_value("Bob")
        await page.locator("#share-phone").click()
        await expect(page.locator("#phone")).to_have_value("139 1234 5678")
        await page.locator("#address").fill(ADDRESS)
        await expect(main).to_have_text("Place order · CN¥138.00")
        await expect(main).to_be_enabled()
        await _fits(page)
        await page.screenshot(path=str(_artifact("miniapp-checkout.png")))
        await main.click()
        await expect(page.locator("#placed")).to_contain_text("placed")
        await expect(page.locator(".order .row").first).to_contain_text("Oranges · 10斤 × 2")
        await expect(page.locator(".notice").last).to_have_text("Your receipt is in the chat with the bot.")
        await _fits(page)
        await page.screenshot(path=str(_artifact("miniapp-placed.png")))
        haptics = await page.evaluate("window.__haptics")
    await world.settle()
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert [(i.name, i.quantity) for i in order.items] == [("Oranges · 10斤", 2)] and order.address == ADDRESS
    assert "notification:success" in haptics
    new = bob.chat.bot_messages[before:]
    assert [m.text.split("\n")[0] for m in new][-1:] and f"#{order.number}" in new[-1].text
    assert sum(f"#{order.number}" in (m.text or "") for m in new) == 1, "one receipt"
    assert "Saved" in new[0].text, "the shared contact was understood"


async def test_a_returning_buyer_opens_a_qr_link_to_the_product_and_orders_with_two_taps(world):
    from playwright.async_api import expect

    ann, shop, product_id = await shop_with_product_on_link(world)
    cai = world.user("Cai")
    await save_delivery(world, cai, address=ADDRESS)
    async with phone_page(world, cai, start_param=f"l_{shop.slug}_1") as (page, _):
        main = page.locator("#tg-main-button")
        await expect(page.locator(".sheet h2")).to_have_text("Link 1 · Oranges")  # straight to the product
        await main.click()  # Buy now
        await expect(page.locator("#address")).to_have_value(ADDRESS)
        await expect(main).to_have_text("Place order · CN¥39.90")
        await main.click()  # Place order
        await expect(page.locator("#placed")).to_contain_text("placed")
        await page.locator("#tg-back-button").count()
    await world.settle()
    assert len(await world.store.orders.of_buyer(cai.id)) == 1
    opens = await world.store.db.fetch_all("SELECT kind, slot FROM link_opens WHERE user_id = ?", (cai.id,))
    assert [tuple(r) for r in opens] == [("slot", 1)], "the QR's open counts in the funnel"


async def test_the_pages_speak_chinese_in_the_dark_theme_and_fit_the_phone(world):
    from playwright.async_api import expect

    ann, shop, product_id = await _shop_with_variants(world)
    wang = world.user("小王", language_code="zh-hans")
    dark = {"bg_color": "#17212b", "text_color": "#f5f5f5", "hint_color": "#708499", "button_color": "#5288c1",
            "button_text_color": "#ffffff", "secondary_bg_color": "#232e3c", "link_color": "#6ab3f3"}
    async with phone_page(world, wang, query=f"?shop={shop.slug}&slot=1", theme=dark) as (page, _):
        await expect(page.locator("#tg-main-button")).to_have_text("立即购买")
        await expect(page.get_by_text("请选择规格")).to_be_visible()
        background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(23, 33, 43)", "Telegram's theme colours are used"
        await _fits(page)
        await page.screenshot(path=str(_artifact("miniapp-product-zh-dark.png")))


async def test_a_page_with_forged_init_data_shows_nothing_of_the_shop_and_says_to_reopen(world):
    from playwright.async_api import expect

    ann, shop, _ = await shop_with_product_on_link(world)
    eve = world.user("Eve")
    forged = init_data(eve, token="987:another-bot")
    async with phone_page(world, eve, query=f"?shop={shop.slug}", init=forged) as (page, _):
        await expect(page.locator("#expired")).to_contain_text("open the shop again from the chat")
        assert await page.locator(".link").count() == 0
    assert await world.store.users.get(eve.id) is None


async def _order_from_the_bag(page, address: str = ADDRESS) -> None:
    from playwright.async_api import expect

    main = page.locator("#tg-main-button")
    await page.locator(".link").first.click()
    await main.click()  # Buy now
    await page.locator("#phone").fill("13800138000")
    await page.locator("#address").fill(address)
    await expect(main).to_be_enabled()
    await main.click()  # Place order
    await expect(page.locator("#placed")).to_contain_text("placed")


async def test_a_buyer_who_never_started_the_bot_is_asked_to_allow_messages_and_then_gets_the_receipt_in_the_chat(world):
    from playwright.async_api import expect

    ann, shop, _ = await shop_with_product_on_link(world)
    dan = world.user("Dan")
    async with phone_page(world, dan, query=f"?shop={shop.slug}", allows_write=False) as (page, _):
        await _order_from_the_bag(page)
        await expect(page.locator(".notice").last).to_have_text("Your receipt is in the chat with the bot.")
    await world.settle()
    order = (await world.store.orders.of_buyer(dan.id))[0]
    assert any(f"#{order.number}" in (m.text or "") for m in dan.chat.bot_messages)


async def test_a_buyer_who_declines_messages_finds_the_receipt_in_the_page_and_gets_no_message(world):
    from playwright.async_api import expect

    ann, shop, _ = await shop_with_product_on_link(world)
    dan = world.user("Dan")
    async with phone_page(world, dan, query=f"?shop={shop.slug}", allows_write=False, grants_write=False) as (page, _):
        await _order_from_the_bag(page)
        await expect(page.locator(".notice").last).to_contain_text("your receipt is here")
        await page.locator("#tg-main-button").click()  # back to the live links
        await page.get_by_role("button", name="My orders").click()
        await expect(page.locator(".order .name").first).to_contain_text("Order #")
    await world.settle()
    assert len(await world.store.orders.of_buyer(dan.id)) == 1
    assert world.tg.calls_of("sendMessage", dan.id) == []


async def test_two_links_in_the_cart_are_checked_out_as_one_order_and_the_cart_empties(world):
    from playwright.async_api import expect

    ann, shop, _ = await shop_with_product_on_link(world)
    tea = await add_product(ann, "Tea, 88, 10")
    await ann.tap("🔴 Put on next free link")
    cai = world.user("Cai")
    await save_delivery(world, cai, address=ADDRESS)
    async with phone_page(world, cai, query=f"?shop={shop.slug}") as (page, _):
        for index in (0, 1):
            await page.locator(".link").nth(index).click()
            await page.get_by_role("button", name="Add to cart").click()
            await page.locator("#tg-back-button").click()
        await expect(page.locator("#cart-button")).to_have_text("🛒 Cart · 2")
        await page.locator("#cart-button").click()
        await expect(page.locator(".row")).to_have_count(2)
        main = page.locator("#tg-main-button")
        await main.click()  # Check out
        await expect(main).to_have_text("Place order · CN¥127.90")
        await main.click()
        await expect(page.locator("#placed")).to_contain_text("placed")
        await expect(page.locator("#cart-button")).to_be_hidden()
        assert await page.evaluate(f"localStorage.getItem('livecart.cart.{shop.slug}')") == "[]"
    order = (await world.store.orders.of_buyer(cai.id))[0]
    assert sorted((i.name, i.quantity) for i in order.items) == [("Oranges", 1), ("Tea", 1)]
    assert tea in [i.product_id for i in order.items]


async def test_a_page_open_past_the_age_limit_says_to_reopen_and_the_reopened_page_keeps_the_cart(world):
    from playwright.async_api import expect

    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    async with phone_page(world, bob, query=f"?shop={shop.slug}") as (page, _):
        await page.locator(".link").first.click()
        await page.get_by_role("button", name="Add to cart").click()
        await expect(page.locator("#cart-button")).to_have_text("🛒 Cart · 1")
        # The same page a day later: Telegram's init data has passed webapp.max_age.
        await page.add_init_script(f"window.__tgInitData = {init_data(bob, auth_date=time.time() - 2 * 86400)!r};")
        await page.reload()
        await expect(page.locator("#expired")).to_contain_text("open the shop again from the chat")
        await page.get_by_role("button", name="Close").click()
        assert await page.evaluate("window.__tgClosed") is True
        # Reopened from the chat: fresh init data, and the cart is as it was.
        await page.add_init_script(f"window.__tgInitData = {init_data(bob)!r};")
        await page.reload()
        await expect(page.locator("#cart-button")).to_have_text("🛒 Cart · 1")


async def test_a_posted_cards_product_link_opens_that_product_even_off_the_live_links(world):
    from playwright.async_api import expect

    ann, shop, _ = await shop_with_product_on_link(world)
    tea = await add_product(ann, "Tea, 88, 10")  # published, on no live link
    cai = world.user("Cai")
    await save_delivery(world, cai, address=ADDRESS)
    async with phone_page(world, cai, start_param=f"p_{shop.slug}_{tea}") as (page, _):
        await expect(page.locator(".sheet h2")).to_have_text("Tea")
        main = page.locator("#tg-main-button")
        await main.click()
        await expect(main).to_have_text("Place order · CN¥88.00")
        await main.click()
        await expect(page.locator("#placed")).to_contain_text("placed")
    assert [i.product_id for i in (await world.store.orders.of_buyer(cai.id))[0].items] == [tea]


async def test_the_live_bag_refreshes_units_left_while_it_is_on_screen(world):
    from playwright.async_api import expect

    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    async with phone_page(world, bob, query=f"?shop={shop.slug}") as (page, _):
        await expect(page.locator(".link .hint").first).to_have_text("50 left")
        await page.evaluate("window.scrollTo(0, 0)")
        from core.stock import parse_stock_change
        await world.store.products.change_stock(product_id, parse_stock_change("-8"))
        await expect(page.locator(".link .hint").first).to_have_text("42 left", timeout=15_000)
