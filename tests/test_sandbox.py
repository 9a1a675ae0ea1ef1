"""The sandbox: the real bot against the fake Telegram over HTTP, and the chat page people click through.

The first tests talk to the page's JSON API like the page does; the last one drives the page in
headless Chromium (skipped where Playwright or Chromium is missing) and saves a screenshot to
tests/artifacts/.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from faketg import make_png, parse_html, utf16_len
from sandbox import running_sandbox
from sandbox.app import Sandbox

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("LIVECART_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ADDRESS = "湖北省宜昌市秭归县茅坪镇 橙园路 8 号"
TOKEN = "123456789:sandbox-test-token-0123456789"

Chat = dict[str, Any]


# ---------------------------------------------------------------- helpers: the JSON API as the page uses it

def transcript(chat: Chat) -> str:
    lines = []
    for m in chat.get("messages", []):
        who = "  me" if m["out"] else " bot"
        lines.append(f"{who} #{m['id']} <{m['kind']}> {m['text'][:160]!r}")
        lines += ["        " + " | ".join(f"[{b['text']}]" for b in row) for row in m["buttons"]]
    if chat.get("keyboard"):
        lines.append("  keyboard: " + str([[k["text"] for k in row] for row in chat["keyboard"]["rows"]]))
    return "\n".join(lines) or "(empty chat)"


async def wait_for(client: httpx.AsyncClient, who: str, what: str, found: Callable[[Chat], Any],
                   timeout: float = 20.0) -> Any:
    """Poll `who`'s chat (as the page does) until `found` returns something."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        response = await client.get(f"/api/chats/{who}")
        assert response.status_code == 200, response.text
        chat = response.json()
        result = found(chat)
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{who} waited {timeout:.0f} s for {what}; the chat shows:\n{transcript(chat)}")
        await asyncio.sleep(0.05)


def button_at(chat: Chat, action: str, text: str | None = None) -> dict[str, int] | None:
    """Where the newest button with this callback action (and text) is: what the tap API takes."""
    for m in reversed(chat["messages"]):
        for r, row in enumerate(m["buttons"]):
            for c, b in enumerate(row):
                if b.get("action") == action and (text is None or b["text"] == text):
                    return {"message_id": m["id"], "row": r, "column": c}
    return None


def newest(chat: Chat, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    """The newest message from the bot that `wanted` accepts."""
    return next((m for m in reversed(chat["messages"]) if not m["out"] and wanted(m)), None)


def keyboard_key(chat: Chat, kind: str) -> dict[str, str] | None:
    keyboard = chat.get("keyboard")
    return next((k for row in keyboard["rows"] for k in row if k["type"] == kind), None) if keyboard else None


def bot_count(chat: Chat) -> int:
    return sum(1 for m in chat["messages"] if not m["out"])


async def post(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body)
    assert response.status_code == 200, f"POST {path} -> {response.status_code} {response.text}"
    return response.json()


# ---------------------------------------------------------------- the JSON API

async def test_demo_shop_then_a_new_buyer_orders_and_gets_a_receipt():
    async with running_sandbox(port=0) as sandbox, \
            httpx.AsyncClient(base_url=sandbox.url, timeout=30) as client:
        demo = await post(client, "/api/demo", {})
        assert demo["created"] and demo["shop"] == "青山果园 Green Hill Farm"
        assert [(link["slot"], link["name"].split()[0]) for link in demo["links"]] == [
            (1, "夏橙"), (2, "猕猴桃"), (3, "腊肉"), (4, "茶叶")]
        assert (await post(client, "/api/demo", {}))["created"] is False  # a second press changes nothing
        state = (await client.get("/api/state")).json()
        assert [link["payload"] for link in state["links"]] == [link["payload"] for link in demo["links"]]

        # Buyer 1 scans link 1 and sees the product card with its photo.
        await post(client, "/api/chats/buyer1/send", {"text": f"/start {demo['links'][0]['payload']}"})
        card = await wait_for(client, "buyer1", "the product card",
                              lambda chat: newest(chat, lambda m: m["kind"] == "photo"))
        assert card["kind"] == "photo" and "夏橙 Oranges 5斤" in card["text"] and "¥39.90" in card["text"]
        photo = await client.get(card["photo"]["src"])
        assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")

        # Two of them: the card's buttons change in place.
        chat = (await client.get("/api/chats/buyer1")).json()
        await post(client, "/api/chats/buyer1/tap", button_at(chat, "b.q", "+"))
        chat = await wait_for(client, "buyer1", "quantity 2",
                              lambda chat: chat if chat["messages"][-1]["buttons"][0][1]["text"] == "2" else None)
        answer = await post(client, "/api/chats/buyer1/tap", button_at(chat, "b.now"))
        assert answer["answered"]

        # A new buyer: phone by the contact button (the name comes with it), a location and an address.
        await wait_for(client, "buyer1", "the share-phone key", lambda chat: keyboard_key(chat, "contact"))
        await post(client, "/api/chats/buyer1/contact", {"keyboard": True})
        chat = await wait_for(client, "buyer1", "the share-location key",
                              lambda chat: chat if keyboard_key(chat, "location") else None)
        before = bot_count(chat)
        await post(client, "/api/chats/buyer1/location", {"latitude": 30.8258, "longitude": 110.9778, "keyboard": True})
        await wait_for(client, "buyer1", "the location noted", lambda chat: bot_count(chat) > before)
        await post(client, "/api/chats/buyer1/send", {"text": ADDRESS})
        chat = await wait_for(client, "buyer1", "the confirmation",
                              lambda chat: chat if button_at(chat, "b.ok") else None)
        assert "¥79.80" in chat["messages"][-1]["text"] and "小王" in chat["messages"][-1]["text"]

        answer = await post(client, "/api/chats/buyer1/tap", button_at(chat, "b.ok"))
        assert answer["answered"] and "#1001" in answer["text"]
        receipt = await wait_for(client, "buyer1", "the receipt",
                                 lambda chat: newest(chat, lambda m: "#1001" in m["text"]))
        assert ADDRESS in receipt["text"] and "小王" in receipt["text"]
        notice = await wait_for(client, "merchant", "the new-order notice",
                                lambda chat: newest(chat, lambda m: "#1001" in m["text"]))
        assert "夏橙" in notice["text"]

        # What the contact and location look like in the buyer's own chat.
        mine = [m for m in (await client.get("/api/chats/buyer1")).json()["messages"] if m["out"]]
        assert {"contact", "location"} <= {m["kind"] for m in mine}
        assert next(m for m in mine if m["kind"] == "contact")["contact"]["phone"] == "+8613900139001"
        state = (await client.get("/api/state")).json()
        assert next(p for p in state["personas"] if p["key"] == "merchant")["bot_messages"] > 10
        assert sandbox.app.tg.internal_errors == []


async def test_merchant_can_add_a_product_with_a_sample_photo_and_a_caption():
    async with running_sandbox(port=0) as sandbox, \
            httpx.AsyncClient(base_url=sandbox.url, timeout=30) as client:
        await post(client, "/api/chats/merchant/send", {"text": "/newshop"})
        await wait_for(client, "merchant", "the shop-name question", lambda chat: bot_count(chat) >= 1)
        await post(client, "/api/chats/merchant/send", {"text": "小梅的店 <b>"})
        await wait_for(client, "merchant", "the shop", lambda chat: button_at(chat, "cat.add"))
        await post(client, "/api/chats/merchant/photo", {"sample": "tea", "caption": "茶叶 Tea, 88, 5"})
        card = await wait_for(client, "merchant", "the product card",
                              lambda chat: newest(chat, lambda m: m["kind"] == "photo"))
        assert "茶叶 Tea" in card["text"]
        # An uploaded picture (base64, as the page's file picker sends it) reaches the bot too.
        data = "data:image/png;base64," + base64.b64encode(make_png(64, 64)).decode()
        sent = await post(client, "/api/chats/merchant/photo", {"data": data, "caption": ""})
        chat = (await client.get("/api/chats/merchant")).json()
        assert next(m for m in chat["messages"] if m["id"] == sent["message_id"])["kind"] == "photo"
        # The shop's name is shown as typed: text plus entities, no markup.
        created = next(m for m in chat["messages"] if "小梅的店" in m["text"])
        assert "小梅的店 <b>" in created["text"]


async def test_a_kept_database_keeps_the_shop_and_its_photos_for_the_next_run(tmp_path):
    database = tmp_path / "sandbox.sqlite3"
    async with running_sandbox(port=0, database=database) as sandbox, \
            httpx.AsyncClient(base_url=sandbox.url, timeout=30) as client:
        first = await post(client, "/api/demo", {})
    assert (tmp_path / "sandbox.sqlite3.files" / "index.json").is_file()

    async with running_sandbox(port=0, database=database) as sandbox, \
            httpx.AsyncClient(base_url=sandbox.url, timeout=30) as client:
        again = await post(client, "/api/demo", {})
        assert again["created"] is False and again["slug"] == first["slug"]
        await post(client, "/api/chats/buyer3/send", {"text": f"/start {again['links'][3]['payload']}"})
        card = await wait_for(client, "buyer3", "the tea's card",
                              lambda chat: newest(chat, lambda m: m["kind"] == "photo"))
        assert "茶叶" in card["text"]
        assert (await client.get(card["photo"]["src"])).status_code == 200
        # A file made in this run gets a new number, not one of the loaded ones.
        sent = await post(client, "/api/chats/buyer3/photo", {"sample": "oranges"})
        chat = (await client.get("/api/chats/buyer3")).json()
        photo = next(m for m in chat["messages"] if m["id"] == sent["message_id"])["photo"]["src"]
        assert photo not in {link["thumb"] for link in again["links"]}
        assert len(sandbox.app.tg.files.by_path) == len(set(sandbox.app.tg.files.by_path))


async def test_bad_requests_get_a_clear_answer():
    async with running_sandbox(port=0) as sandbox, \
            httpx.AsyncClient(base_url=sandbox.url, timeout=30) as client:
        assert (await client.get("/api/chats/nobody")).status_code == 404
        response = await client.post("/api/chats/buyer1/send", json={"text": "   "})
        assert response.status_code == 400 and "type a message" in response.json()["error"]
        response = await client.post("/api/chats/buyer1/tap", json={"message_id": 99, "row": 0, "column": 0})
        assert response.status_code == 400 and "gone" in response.json()["error"]
        response = await client.post("/api/chats/buyer1/location", json={"latitude": 200, "longitude": 0})
        assert response.status_code == 400
        response = await client.post("/api/chats/buyer1/photo", json={"data": "bm90IGFuIGltYWdl", "caption": "x"})
        assert response.status_code == 400 and "cannot be sent" in response.json()["error"]
        # A form post (what another web site could make a browser send) is refused.
        response = await client.post("/api/chats/buyer1/send", data={"text": "hi"})
        assert response.status_code == 415
        # So is a request for another host name (DNS rebinding).
        response = await client.get("/api/state", headers={"Host": "evil.example:80"})
        assert response.status_code == 403


async def test_page_has_a_strict_content_security_policy_and_files_never_render_as_pages():
    app = Sandbox(TOKEN)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1") as client:
        page = await client.get("/")
        assert page.status_code == 200 and "Livecart" in page.text
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        for path in ("/static/sandbox.js", "/static/sandbox.css", "/favicon.svg", "/samples/oranges.png"):
            assert (await client.get(path)).status_code == 200, path
        stored = app.tg.files.add_document(b"<script>alert(1)</script>", "page.html", "text/html")
        response = await client.get(f"/media/{stored.file_path}")
        assert response.headers["content-type"] == "application/octet-stream"
        assert response.headers["content-disposition"].startswith("attachment")
        assert (await client.get("/media/photos/nothing.png")).status_code == 404


def test_javascript_never_puts_chat_text_into_html():
    script = (Path(__file__).parents[1] / "sandbox" / "static" / "sandbox.js").read_text(encoding="utf-8")
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert risky not in script, risky


async def test_port_in_use_is_refused_with_a_way_forward():
    from sandbox import SandboxError

    async with running_sandbox(port=0) as first:
        with pytest.raises(SandboxError, match=f"--port {first.port + 1}"):
            async with running_sandbox(port=first.port):
                pass


# ---------------------------------------------------------------- the page in a browser

def _browser_or_skip():
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        pytest.skip("Playwright is not installed (pip install playwright); the browser test needs it")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LIVECART_CHROMIUM)")
    return async_playwright


def _artifact(name: str) -> Path:
    """Where a screenshot goes (tests/artifacts/, which git ignores)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


async def test_bot_text_is_shown_as_text_with_its_formatting_never_as_html():
    async_playwright = _browser_or_skip()
    from playwright.async_api import expect

    async with running_sandbox(port=0) as sandbox, async_playwright() as playwright:
        buyer = sandbox.app.users["buyer1"]
        text, entities = parse_html(
            '🍊 <b>Bold <i>both</i></b> &lt;img src=x onerror="window.hacked=1"&gt; '
            f'<a href="https://t.me/{sandbox.app.tg.bot_username}?start=s_abcd">the shop</a> <code>&lt;b&gt;</code>')
        # A link the fake would never store, to prove the page refuses it anyway.
        text += " js"
        entities.append({"type": "text_link", "offset": utf16_len(text) - 2, "length": 2,
                         "url": "javascript:window.hacked=1"})
        sandbox.app.tg.post_bot_message(buyer.chat, body=text, entities=entities)
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(sandbox.url + "#buyer1")
            message = page.locator(".msg.in .text").first
            await expect(message).to_contain_text('<img src=x onerror="window.hacked=1">')
            # Offsets count UTF-16 units: after the 🍊 (two units) the bold part starts exactly at "Bold".
            assert await message.locator("strong").inner_text() == "Bold both"
            assert await message.locator("strong em").inner_text() == "both"
            assert await message.locator("code").inner_text() == "<b>"
            assert await message.locator("img").count() == 0
            assert await page.locator('a[href^="javascript"]').count() == 0
            await message.locator("a", has_text="the shop").click()
            await expect(page.locator(".msg.out .text").last).to_contain_text("/start s_abcd")
            assert await page.evaluate("window.hacked") is None
        finally:
            await browser.close()


async def test_a_buyer_orders_on_the_page_in_a_browser():
    async_playwright = _browser_or_skip()
    from playwright.async_api import expect

    async with running_sandbox(port=0) as sandbox, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 880}, locale="zh-CN")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            await page.goto(sandbox.url)
            await expect(page.locator(".persona")).to_have_count(4)

            # The trainer opens the demo shop; its live links appear beside the phone.
            await page.click("#demo-big")
            await expect(page.locator("#stream-list .link-card")).to_have_count(4, timeout=30_000)
            await expect(page.locator(".msg.in .photo").first).to_be_visible()

            # Buyer 1 "scans" link 1 and orders two bags of oranges.
            await page.click('.persona[data-persona="buyer1"]')
            await page.click('#stream-list .link-card[data-payload$="_1"]')
            plus = page.locator('.ikb button[data-action="b.q"]', has_text="+")
            await plus.click()
            await expect(page.locator(".ikb-row").first).to_contain_text("2")
            await page.click('.ikb button[data-action="b.now"]')
            await page.click('#reply-kbd button[data-kind="contact"]')
            await page.click("#dialog .btn.primary")
            await page.click('#reply-kbd button[data-kind="location"]')
            await page.click("#sheet .sheet-item >> nth=1")
            await expect(page.locator('.msg.out[data-kind="location"]')).to_be_visible()
            await expect(page.locator(".msg.in .text").last).to_contain_text("详细地址")
            await page.fill("#input", ADDRESS)
            await page.press("#input", "Enter")
            await page.click('.ikb button[data-action="b.ok"]')
            await expect(page.locator(".msg.in .text").last).to_contain_text("#1001", timeout=15_000)
            await expect(page.locator('.persona[data-persona="merchant"] .badge')).to_be_visible()
            await page.wait_for_timeout(300)
            await page.screenshot(path=str(_artifact("sandbox.png")))

            # The merchant, on a phone-sized screen, sees the new order.
            phone = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            await phone.goto(sandbox.url + "#merchant")
            await expect(phone.locator(".msg.in .text").last).to_contain_text("#1001")
            await phone.wait_for_timeout(300)
            await phone.screenshot(path=str(_artifact("sandbox-mobile.png")))
            assert errors == []
        finally:
            await browser.close()


# What no element may do at the sizes the browser tests use: hold more text than its box shows.
_OVERFLOWING = """() => {
  const found = [];
  for (const node of document.querySelectorAll("button, button *, .link-card, .link-card *, .persona, .persona *")) {
    const style = getComputedStyle(node);
    if (!node.offsetParent || style.visibility === "hidden" || !node.textContent.trim()) continue;
    if (node.scrollWidth > node.clientWidth + 1 || node.scrollHeight > node.clientHeight + 1) {
      const name = `${node.tagName.toLowerCase()}.${[...node.classList].join(".")}`;
      const text = node.textContent.trim().slice(0, 50);
      found.push(`${name} "${text}" needs ${node.scrollWidth}x${node.scrollHeight}`
                 + `, has ${node.clientWidth}x${node.clientHeight}`);
    }
  }
  return found;
}"""
LONG_SHOP = "Emma's Orchard & Tea House of the Three Gorges"
LONG_PRODUCT = "秭归脐橙 Zigui navel oranges, picked the morning of the stream, 5 kg gift box"


async def test_link_cards_and_buttons_show_all_their_text_and_each_card_names_its_shop():
    async_playwright = _browser_or_skip()
    from playwright.async_api import expect

    async with running_sandbox(port=0) as sandbox, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 880}, locale="zh-CN")
            await page.goto(sandbox.url)
            await page.click("#demo-big")
            await expect(page.locator("#stream-list .link-card")).to_have_count(4, timeout=30_000)
            # A second merchant live at the same time, with a long shop name and a long product name.
            store = sandbox.app.bot.store
            emma = sandbox.app.users["buyer2"]
            await store.users.seen(emma.id, emma.first_name, None, "en")
            shop = await store.shops.create(emma.id, LONG_SHOP, "CNY", "Asia/Shanghai")
            product = await store.products.create(shop.id, LONG_PRODUCT, 12_800, 30, None, None)
            await store.live.pin(shop.id, 1, product.id)
            cards = page.locator("#stream-list .link-card")
            await expect(cards).to_have_count(5, timeout=15_000)
            for card in await cards.all():
                shop_line = card.locator(".shop")
                await expect(shop_line).to_have_count(1)
                assert (await shop_line.inner_text()).removeprefix("🏪 ") in ("青山果园 Green Hill Farm", LONG_SHOP)
            await expect(cards.last).to_contain_text(LONG_SHOP)

            # Buyer 1 opens the long one: the card's buttons fit their text, here and on a phone.
            await page.click('.persona[data-persona="buyer1"]')
            await page.click(f'#stream-list .link-card[data-payload="l_{shop.slug}_1"]')
            await expect(page.locator('.ikb button[data-action="b.now"]')).to_be_visible()
            assert await page.evaluate(_OVERFLOWING) == []
            phone = await browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2)
            await phone.goto(sandbox.url + "#buyer1")
            await expect(phone.locator('.ikb button[data-action="b.now"]')).to_be_visible()
            assert await phone.evaluate(_OVERFLOWING) == []
            await phone.click("#stream-btn")
            await expect(phone.locator("#sheet .link-card")).to_have_count(5)
            assert await phone.evaluate(_OVERFLOWING) == []
            await phone.screenshot(path=str(_artifact("sandbox-mobile-links.png")), animations="disabled")
        finally:
            await browser.close()


async def test_the_typing_dots_stop_when_the_bots_answer_is_only_a_toast():
    async_playwright = _browser_or_skip()
    from playwright.async_api import expect

    async with running_sandbox(port=0) as sandbox, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 880}, locale="zh-CN")
            await page.goto(sandbox.url)
            await page.click("#demo-big")
            await expect(page.locator("#stream-list .link-card")).to_have_count(4, timeout=30_000)
            await page.click('.persona[data-persona="buyer1"]')
            await page.click('#stream-list .link-card[data-payload$="_1"]')
            minus = page.locator('.ikb button[data-action="b.q"]', has_text="−")
            # Generous waits: on a loaded two-core CI machine the bot's answer can take longer than
            # Playwright's default 5 s (the xfail of the last session); the dots' check stays exact.
            await expect(minus).to_be_visible(timeout=15_000)
            await minus.click()  # − at 1: the bot answers with a toast only, the card does not change
            await expect(page.locator("#toast")).to_contain_text("最少 1 件", timeout=15_000)
            # Checked as the toast shows: the dots went with the same answer, not after a time-out.
            assert await page.locator(".typing-bubble").count() == 0
            assert "typing" not in await page.locator("#bot-sub").inner_text()
        finally:
            await browser.close()


async def test_the_sandbox_opens_the_mini_app_in_a_phone_panel_signed_as_the_buyer_and_the_order_reaches_the_chat():
    async_playwright = _browser_or_skip()
    from playwright.async_api import expect

    async with running_sandbox(port=0) as sandbox, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="en")
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            await page.goto(sandbox.url)
            await page.click("#demo-big")
            await expect(page.locator("#stream-list .link-card")).to_have_count(4, timeout=30_000)
            await page.click('.persona[data-persona="buyer2"]')
            await page.click('#stream-list .link-card[data-payload$="_1"]')
            open_shop = page.locator(".ikb button", has_text="Open the shop")
            await open_shop.click()
            panel = page.locator("#miniapp")
            await expect(panel).to_be_visible()
            box = await page.locator("#miniapp-frame").bounding_box()
            assert box is not None and box["width"] == 360
            app = page.frame_locator("#miniapp-frame")
            await expect(app.locator(".sheet h2")).to_contain_text("Link 1")  # opened at the card's link
            await app.locator("#tg-main-button").click()  # Buy now
            await app.locator("#share-phone").click()  # the persona's contact goes into the chat
            await expect(app.locator("#phone")).not_to_have_value("")
            await app.locator("#address").fill(ADDRESS)
            main = app.locator("#tg-main-button")
            await expect(main).to_be_enabled()
            await main.click()
            await expect(app.locator("#placed")).to_contain_text("#1001", timeout=15_000)
            await page.screenshot(path=str(_artifact("sandbox-miniapp.png")))
            await page.click("#miniapp-close")
            await expect(panel).to_be_hidden()
            await expect(page.locator(".msg.in .text").last).to_contain_text("#1001", timeout=15_000)
            assert errors == []
        finally:
            await browser.close()
