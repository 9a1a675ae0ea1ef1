"""The Mini App's API, called as its page calls it: init data checked first, then the same shop,
stock and orders as the chat (one bot message per order: the receipt)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode

from core.initdata import MAX_AGE, InitDataRefused, sign, verify
from storage.outbox import Priority
from tests.harness import TEST_TOKEN
from tests.miniapp_client import Page, init_data, mini_app
from tests.stories import add_product, current_shop, shop_with_product_on_link

import pytest


def _one(items_product: int, quantity: int = 1, slot: int | None = 1, variant: int | None = None) -> list[dict]:
    return [{"product": items_product, "quantity": quantity, "slot": slot, "variant": variant}]


# ---------------------------------------------------------------- init data

def test_init_data_signed_with_the_bot_token_reads_back_and_any_change_is_refused():
    class U:
        id, first_name, language_code = 42, "Bob", "en"

    good = init_data(U())
    assert verify(good, TEST_TOKEN).user_id == 42
    fields = dict(parse_qsl(good))
    altered = urlencode({**fields, "user": fields["user"].replace('"id":42', '"id":43')})
    for bad, reason in ((altered, "bad_hash"), (init_data(U(), token="987:other-bot-token"), "bad_hash"),
                        ("", "missing"), ("user=%7B%7D&hash=00", "bad_hash"), (good + "&hash=00", "malformed"),
                        (init_data(U(), auth_date=time.time() - MAX_AGE - 5), "expired"),
                        (init_data(U(), auth_date=time.time() + 3600), "expired")):
        with pytest.raises(InitDataRefused) as refused:
            verify(bad, TEST_TOKEN)
        assert refused.value.reason == reason
    signed_without_user = sign({"auth_date": str(int(time.time()))}, TEST_TOKEN)
    with pytest.raises(InitDataRefused, match="malformed"):
        verify(signed_without_user, TEST_TOKEN)


async def test_forged_altered_missing_or_expired_init_data_get_401_and_change_nothing(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    body = {"shop": shop.slug, "token": "tok-forged1", "items": _one(product_id), "address": "8 Orchard Lane, Yichang",
            "recipient": "Bob", "phone": "+8613800138000"}
    good = dict(parse_qsl(init_data(bob)))
    async with mini_app(world) as client:
        forged = {
            "missing": {},
            "not tma": {"Authorization": f"Bearer {init_data(bob)}"},
            "another bot's": {"Authorization": f"tma {init_data(bob, token='987:other-bot-token')}"},
            "altered user": {"Authorization": "tma " + urlencode({**good, "user": good["user"].replace(
                str(bob.id), str(ann.id))})},
            "expired": {"Authorization": f"tma {init_data(bob, auth_date=time.time() - 2 * 86400)}"},
        }
        for what, headers in forged.items():
            for call in ("hold", "place", "open"):
                response = await client.post(f"/app/api/{call}", json=body, headers=headers)
                assert response.status_code == 401, (what, call, response.text)
            response = await client.get("/app/api/bag", params={"shop": shop.slug}, headers=headers)
            assert response.status_code == 401, what
    assert await world.store.orders.of_buyer(bob.id) == [] and await world.store.orders.of_buyer(ann.id) == []
    assert (await world.store.products.get(product_id)).stock == 50
    assert await world.store.db.fetch_value("SELECT count(*) FROM link_opens") == 0
    assert await world.store.users.get(bob.id) is None, "a refused call stores nobody"


# ---------------------------------------------------------------- the live bag

async def test_the_live_bag_shows_each_link_with_price_units_left_a_running_deal_and_recent_buys(world):
    ann, shop, oranges = await shop_with_product_on_link(world)
    tea = await add_product(ann, "Tea, 88, 3")
    await ann.tap("🔴 Put on next free link")
    await world.store.deals.start(shop.id, oranges, 2990, units=20, minutes=15, per_buyer=None)
    bob, cai = world.user("Bob"), world.user("Cai")
    async with mini_app(world) as client:
        await Page(client, cai).buy(shop, _one(oranges, 2))
        bag = await Page(client, bob).ok("bag", shop=shop.slug)
    assert bag["shop"]["name"] == "Green Hill Oranges" and bag["language"] == "en"
    first, second = bag["links"]
    assert (first["slot"], first["name"], first["price_text"], first["regular_text"]) == (1, "Oranges", "CN¥29.90",
                                                                                           "CN¥39.90")
    assert first["left"] == 48 and first["recent"] == 2 and first["deal_ends_at"] > time.time() + 800
    assert (second["slot"], second["product"], second["left"], second["deal_ends_at"]) == (2, tea, 3, None)
    assert bag["texts"]["app.bought_recently"] == "{n} bought in the last 10 min"
    assert bag["me"]["can_message"] is True


async def test_the_bag_speaks_the_buyers_language(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    wang = world.user("小王", language_code="zh-hans")
    async with mini_app(world) as client:
        bag = await Page(client, wang).ok("bag", shop=shop.slug)
        missing = await Page(client, wang).get("bag", shop="nosuch")
    assert bag["language"] == "zh" and bag["texts"]["app.buy_now"] == "立即购买"
    assert bag["links"][0]["price_text"] == "¥39.90"
    assert missing.status_code == 404 and "店" in missing.json()["error"]


async def test_a_link_opened_in_the_mini_app_counts_in_the_funnel_like_one_opened_in_the_chat(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    async with mini_app(world) as client:
        await Page(client, bob).ok("open", {"shop": shop.slug, "slot": 1})
        await Page(client, bob).ok("open", {"shop": shop.slug})
    rows = await world.store.db.fetch_all("SELECT kind, slot, product_id, user_id FROM link_opens ORDER BY id")
    assert [tuple(r) for r in rows] == [("slot", 1, product_id, bob.id), ("shop", None, None, bob.id)]


# ---------------------------------------------------------------- ordering

async def test_an_order_placed_in_the_mini_app_takes_stock_tells_the_owner_and_sends_one_receipt(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send("/start")  # has talked to the bot
    before = len(bob.chat.bot_messages)
    async with mini_app(world) as client:
        page = Page(client, bob)
        placed = await page.buy(shop, _one(product_id, 3))
        again = await page.ok("place", {"shop": shop.slug, "token": "tok-0001", "items": _one(product_id, 3),
                                        "address": "8 Orchard Lane, Yichang", "recipient": "Bob",
                                        "phone": "+8613800138000"})
    await world.settle()
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert placed["orders"][0]["number"] == again["orders"][0]["number"] == order.number
    assert placed["receipt_in_chat"] is True and placed["orders"][0]["total_text"] == "CN¥119.70"
    assert len(await world.store.orders.of_buyer(bob.id)) == 1, "the same token places one order"
    assert (await world.store.products.get(product_id)).stock == 47
    new = bob.chat.bot_messages[before:]
    assert len(new) == 1 and f"#{order.number}" in new[0].text, "one bot message per order: the receipt"
    # Bob's chat has not written lately: Telegram counts the receipt against the bulk budget.
    priorities = await world.store.db.fetch_all("SELECT priority FROM outbox WHERE chat_id = ?", (bob.id,))
    assert [r[0] for r in priorities] == [Priority.OWNER]
    assert any(f"#{order.number}" in (m.text or "") for m in ann.chat.bot_messages[-2:]), "the owner hears of it"
    user = await world.store.users.get(bob.id)
    assert (user.phone, user.address) == ("+8613800138000", "8 Orchard Lane, Yichang"), "saved for next time"


async def test_sold_out_is_said_at_buy_now_in_the_mini_app(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    last = await add_product(ann, "Last box, 50, 1")
    bob, cai = world.user("Bob"), world.user("Cai")
    async with mini_app(world) as client:
        await Page(client, bob).ok("hold", {"shop": shop.slug, "token": "tok-bob01", "items": _one(last, slot=None)})
        refused = await Page(client, cai).post("hold", {"shop": shop.slug, "token": "tok-cai01",
                                                        "items": _one(last, slot=None)})
    assert refused.status_code == 409 and "sold out" in refused.json()["error"].lower()


async def test_bad_delivery_details_are_refused_with_the_reason_and_nothing_is_ordered(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    async with mini_app(world) as client:
        page = Page(client, bob)
        await page.ok("hold", {"shop": shop.slug, "token": "tok-bad001", "items": _one(product_id)})
        body = {"shop": shop.slug, "token": "tok-bad001", "items": _one(product_id), "address": "8 Orchard Lane",
                "recipient": "Bob", "phone": "12"}
        bad_phone = await page.post("place", body)
        bad_items = await page.post("place", {**body, "phone": "+8613800138000", "items": [{"product": "x"}]})
        bad_token = await page.post("place", {**body, "phone": "+8613800138000", "token": "a b"})
    assert bad_phone.status_code == 400 and "phone" in bad_phone.json()["error"].lower()
    assert bad_items.status_code == 400 and bad_token.status_code == 400
    assert await world.store.orders.of_buyer(bob.id) == []


async def test_a_buyer_who_never_started_the_bot_gets_the_receipt_in_the_page_not_a_message(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    dan = world.user("Dan")  # opened the Mini App from a QR code; never messaged the bot
    async with mini_app(world) as client:
        page = Page(client, dan, allows_write=False)
        assert (await page.ok("bag", shop=shop.slug))["me"]["can_message"] is False
        quote = await page.ok("quote", {"shop": shop.slug, "token": "tok-dan001", "items": _one(product_id),
                                        "address": "8 Orchard Lane, Yichang"})
        assert [m["value"] for m in quote["methods"]] == ["cod"], "a payment code or invoice needs the chat"
        placed = await page.buy(shop, _one(product_id), token="tok-dan002")
        orders = await page.ok("orders")
        allowed = await page.ok("allow", {})
    await world.settle()
    assert placed["receipt_in_chat"] is False
    assert orders["orders"][0]["number"] == placed["orders"][0]["number"], "the receipt is in the page's orders"
    assert world.tg.calls_of("sendMessage", dan.id) == [], "nothing sent to someone who did not allow it"
    assert allowed["can_message"] is True


async def test_shipping_rules_price_the_mini_app_checkout_and_a_refused_region_is_said_before_placing(world):
    from core.shipping import preset

    ann, shop, product_id = await shop_with_product_on_link(world)
    rules = preset("remote_not_served", "CNY")
    await world.store.shipping.save(shop.id, rules.__class__(**{**rules.__dict__, "default_fee": 800}))
    bob = world.user("Bob")
    async with mini_app(world) as client:
        page = Page(client, bob)
        base = {"shop": shop.slug, "token": "tok-ship01", "items": _one(product_id)}
        await page.ok("hold", base)
        served = await page.ok("quote", {**base, "address": "湖北省宜昌市秭归县茅坪镇 橙园路 8 号"})
        remote = await page.ok("quote", {**base, "address": "新疆乌鲁木齐市天山区 解放路 1 号"})
        refused = await page.post("place", {**base, "address": "新疆乌鲁木齐市天山区 解放路 1 号", "recipient": "Bob",
                                            "phone": "+8613800138000"})
    assert served["fee"] == 800 and served["total_text"] == "CN¥47.90" and served["refused"] is None
    assert remote["refused"] and "Xinjiang" in remote["refused"]
    assert refused.status_code == 409 and await world.store.orders.of_buyer(bob.id) == []


# ---------------------------------------------------------------- the chat side

async def test_the_contact_the_mini_app_posts_into_the_chat_is_kept_as_the_phone_not_answered_not_understood(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob", phone="+8613912345678")
    await bob.share_contact()
    assert "Saved" in bob.last.text and "139 1234 5678" in bob.last.text
    assert "didn't catch" not in bob.last.text
    async with mini_app(world) as client:
        me = await Page(client, bob).ok("me", shop=shop.slug)
    assert me["phone"] == "+8613912345678" and me["phone_text"] == "139 1234 5678"


async def test_a_contact_shared_during_checkout_still_answers_the_phone_step(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.share_contact()
    assert "delivery address" in bob.last.text, "the checkout's phone step took it"
    assert (await world.store.flows.get(bob.id)).step == "address"


async def test_a_photo_of_a_product_on_sale_is_served_to_the_page(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    sent = await ann.send_photo(caption="Pomelo, 25, 10")
    product = (await world.store.products.page((await current_shop(world, ann)).id, 0, 8))[0][0]
    assert product.photo_file_id
    async with mini_app(world) as client:
        photo = await client.get(f"/app/photo/p{product.id}")
        none = await client.get("/app/photo/p999999")
        page = await client.get("/app/")
        redirect = await client.get("/app")
    assert photo.status_code == 200 and photo.content[:4] == b"\x89PNG" and len(photo.content) == sent.photo.file_size
    assert none.status_code == 404
    assert page.status_code == 200 and "telegram-web-app.js" in page.text
    assert "script-src 'self' https://telegram.org" in page.headers["content-security-policy"]
    assert redirect.status_code == 308 and redirect.headers["location"] == "/app/"


async def test_an_address_whose_region_matters_asks_which_and_the_picked_region_prices_and_stays_with_the_order(world):
    from core.shipping import Rules

    ann, shop, product_id = await shop_with_product_on_link(world)
    await world.store.shipping.save(shop.id, Rules(default_fee=600, regions={"CN-35": 1500}))
    bob = world.user("Bob")
    async with mini_app(world) as client:
        page = Page(client, bob)
        base = {"shop": shop.slug, "token": "tok-reg001", "items": _one(product_id), "address": "鼓楼区中山路3号"}
        await page.ok("hold", base)
        asked = await page.ok("quote", base)
        fujian = await page.ok("quote", {**base, "region": "CN-35"})
        placed = await page.ok("place", {**base, "region": "CN-35", "recipient": "Bob", "phone": "+8613800138000"})
    codes = [c["code"] for c in asked["region_choices"]]
    assert "CN-35" in codes and "CN-32" in codes, "Fuzhou's and Nanjing's Gulou district price differently"
    assert any(c["name"] == "Fujian" for c in asked["region_choices"])
    assert fujian["region_choices"] == [] and fujian["fee"] == 1500 and fujian["total_text"] == "CN¥54.90"
    order = (await world.store.orders.of_buyer(bob.id))[0]
    assert order.region == "CN-35" and order.shipping_fee == 1500 and placed["orders"][0]["fee_text"] == "CN¥15.00"


async def test_the_operators_suspensions_hold_in_the_mini_app_too(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob, eve = world.user("Bob"), world.user("Eve")
    await world.store.operator.suspend_user(eve.id, 1, "fake orders")
    async with mini_app(world) as client:
        suspended_user = await Page(client, eve).post("hold", {"shop": shop.slug, "token": "tok-eve001",
                                                               "items": _one(product_id)})
        await world.store.operator.suspend_shop(shop.id, 1, "checking licences")
        paused_bag = await Page(client, bob).get("bag", shop=shop.slug)
        paused_hold = await Page(client, bob).post("hold", {"shop": shop.slug, "token": "tok-bob001",
                                                            "items": _one(product_id)})
    assert suspended_user.status_code == 403 and "fake orders" in suspended_user.json()["error"]
    assert paused_bag.status_code == paused_hold.status_code == 403
    assert "Green Hill Oranges" in paused_bag.json()["error"]
    assert (await world.store.products.get(product_id)).stock == 50, "nothing held"


async def test_a_page_that_floods_the_api_is_told_to_slow_down(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    allowed = 2 * world.config.limits.updates_per_user_per_minute
    async with mini_app(world) as client:
        page = Page(client, bob)
        statuses = [(await page.get("me", shop=shop.slug)).status_code for _ in range(allowed + 1)]
        last = await page.get("me", shop=shop.slug)
    assert statuses[:allowed] == [200] * allowed and statuses[allowed] == 429
    assert "wait a minute" in last.json()["error"]


async def test_a_product_is_shown_only_for_its_own_shop_and_while_on_sale(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    cai = world.user("Cai")
    await cai.send("/newshop")
    await cai.send("Cai's Tea")
    other = await current_shop(world, cai)
    bob = world.user("Bob")
    async with mini_app(world) as client:
        page = Page(client, bob)
        shown = await page.ok("product", shop=shop.slug, id=str(product_id))
        elsewhere = await page.get("product", shop=other.slug, id=str(product_id))
        garbage = await page.get("product", shop=shop.slug, id="1; DROP TABLE")
        await world.store.products.update(product_id, hidden=True)
        hidden = await page.get("product", shop=shop.slug, id=str(product_id))
    assert shown["name"] == "Oranges" and shown["slot"] == 1
    assert elsewhere.status_code == garbage.status_code == hidden.status_code == 404


async def test_a_body_that_is_not_a_json_object_or_an_unknown_call_is_refused_and_changes_nothing(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    headers = {"Authorization": f"tma {init_data(bob)}"}
    async with mini_app(world) as client:
        not_json = await client.post("/app/api/place", content=b"{not json", headers=headers)
        a_list = await client.post("/app/api/hold", json=[1, 2], headers=headers)
        too_big = await client.post("/app/api/hold", content=b"{" + b" " * 20_000 + b"}", headers=headers)
        unknown = await client.get("/app/api/admin", headers=headers)
        wrong_method = await client.get("/app/api/place", headers=headers)
    assert (not_json.status_code, a_list.status_code, too_big.status_code) == (400, 400, 400)
    assert unknown.status_code == wrong_method.status_code == 404
    assert await world.store.orders.of_buyer(bob.id) == [] and (await world.store.products.get(product_id)).stock == 50


async def test_many_viewers_polling_the_bag_make_its_links_once_a_ttl_per_language(world, monkeypatch):
    import handlers.miniapp as api

    ann, shop, _ = await shop_with_product_on_link(world)
    made = []
    real = api._links

    async def counting(svc, t, shop_):
        made.append(t.language)
        return await real(svc, t, shop_)

    monkeypatch.setattr(api, "_links", counting)
    viewers = [world.user(f"Viewer{i}") for i in range(20)] + [world.user("小王", language_code="zh")]
    async with mini_app(world) as client:
        bags = [await Page(client, v).ok("bag", shop=shop.slug) for v in viewers]
    assert sorted(made) == ["en", "zh"], "one making per language, not one per viewer"
    assert bags[0]["links"][0]["price_text"] == "CN¥39.90" and bags[-1]["links"][0]["price_text"] == "¥39.90"
