"""Doors into the Mini App: the chat card's "Open the shop" button, QR codes and posted cards that
open the Mini App when the shop chooses so, and the bot's own server for the pages in polling mode.
Without `webapp.url` everything stays as in the chat."""

from __future__ import annotations

import httpx
import pytest

from core.config import WebAppConfig
from tests.harness import start_world
from tests.miniapp_client import init_data
from tests.stories import shop_with_product_on_link
from tests.test_live import qr_texts

APP = "https://shop.example.com/app/"


@pytest.fixture
async def app_world(tmp_path):
    w = await start_world(tmp_path, webapp=WebAppConfig(url=APP, listen="127.0.0.1", port=0))
    try:
        yield w
    finally:
        await w.stop()


def _web_app_url(message, text: str) -> str | None:
    for row in message.reply_markup["inline_keyboard"] if message.reply_markup else []:
        for button in row:
            if button["text"] == text:
                return button.get("web_app", {}).get("url")
    return None


async def test_without_a_mini_app_the_card_qr_and_settings_stay_as_in_the_chat(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    assert not any("Open the shop" in b for row in bob.last.buttons for b in row)
    await ann.send("/settings")
    assert not any("QR codes open" in b for row in ann.last.buttons for b in row)
    assert world.bot.miniapp is None


async def test_the_chat_card_has_an_open_the_shop_button_onto_the_mini_app_at_that_link(app_world):
    world = app_world
    ann, shop, _ = await shop_with_product_on_link(world)
    bob, wang = world.user("Bob"), world.user("小王", language_code="zh-hans")
    await bob.send(f"/start l_{shop.slug}_1")
    assert _web_app_url(bob.last, "🛍 Open the shop") == f"{APP}?shop={shop.slug}&slot=1"
    await bob.tap("+")  # the card's quantity edit keeps it
    assert _web_app_url(bob.last, "🛍 Open the shop") == f"{APP}?shop={shop.slug}&slot=1"
    await wang.send(f"/start l_{shop.slug}_1")
    assert _web_app_url(wang.last, "🛍 打开店铺") == f"{APP}?shop={shop.slug}&slot=1"


async def test_the_owner_chooses_that_qr_codes_open_the_mini_app_and_new_codes_say_startapp(app_world):
    world = app_world
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("🔳 QR code")
    assert qr_texts(world.tg.file(ann.last.photo.file_id).data) == [f"https://t.me/{world.tg.bot_username}?start=l_{shop.slug}_1"]
    await ann.send("/settings")
    await ann.tap("QR codes open: 💬 the chat")
    assert "now open the Mini App" in ann.last.text and ["QR codes open: 📱 the Mini App"] in ann.last.buttons
    assert (await world.store.shops.get(shop.id)).opens_in == "app"
    await ann.send("/live")
    await ann.tap("1")
    await ann.tap("🔳 QR code")
    url = f"https://t.me/{world.tg.bot_username}?startapp=l_{shop.slug}_1"
    assert qr_texts(world.tg.file(ann.last.photo.file_id).data) == [url]
    await ann.send("/settings")
    await ann.tap("QR codes open: 📱 the Mini App")
    assert (await world.store.shops.get(shop.id)).opens_in == "chat"


async def test_only_the_owner_switches_what_qr_codes_open(app_world):
    world = app_world
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/settings")
    data = ann.last.callback_data("QR codes open: 💬 the chat")
    eve = world.user("Eve")
    await eve.send("/start")
    query = await eve.send_callback(data, eve.last)
    assert query.show_alert
    assert (await world.store.shops.get(shop.id)).opens_in == "chat"


async def test_in_polling_mode_the_bot_serves_the_pages_and_api_on_its_own_port(app_world):
    world = app_world
    ann, shop, _ = await shop_with_product_on_link(world)
    server = world.bot._miniapp_server
    port = server.servers[0].sockets[0].getsockname()[1]
    bob = world.user("Bob")
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        page = await client.get("/app/")
        bag = await client.get("/app/api/bag", params={"shop": shop.slug},
                               headers={"Authorization": f"tma {init_data(bob)}"})
        refused = await client.get("/app/api/bag", params={"shop": shop.slug})
    assert page.status_code == 200 and "app.js" in page.text
    assert bag.status_code == 200 and bag.json()["links"][0]["name"] == "Oranges"
    assert refused.status_code == 401


async def test_in_webhook_mode_the_webhooks_server_serves_the_mini_app_beside_the_webhook(world):
    from runtime.webhook import WebhookApp
    from tests.miniapp_client import server_of

    ann, shop, _ = await shop_with_product_on_link(world)
    app = WebhookApp(world.bot.pipeline, "s" * 32, "/telegram", miniapp=server_of(world))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://shop.example.com") as client:
        page = await client.get("/app/")
        bag = await client.get("/app/api/bag", params={"shop": shop.slug},
                               headers={"Authorization": f"tma {init_data(world.user('Bob'))}"})
        webhook_without_secret = await client.post("/telegram", json={"update_id": 1})
    assert page.status_code == 200 and bag.json()["links"][0]["name"] == "Oranges"
    assert webhook_without_secret.status_code == 403, "the webhook keeps its own rules"
