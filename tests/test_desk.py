"""The order desk: notifications, the status workflow, staff, bursts, /orders, export, pack list."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace


from tests.harness import start_world
from tests.stories import place_order, save_delivery, shop_with_product_on_link, stock_of


async def test_new_order_reaches_the_owner_with_confirm_ship_cancel(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob", username="bob88")
    await place_order(world, bob, shop)
    notice = ann.last
    assert "New order #1001" in notice.text and "Bob @bob88" in notice.text and "138 0013 8000" in notice.text
    assert "8 Orchard Lane" in notice.text and "From link 1" in notice.text
    assert notice.buttons == [["✅ Confirm", "🚚 Ship", "✖ Cancel"]]


async def test_confirm_ship_with_tracking_and_delivered_each_tell_the_buyer(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.tap("✅ Confirm")
    assert "confirmed" in ann.last.text and ann.last.buttons == [["🚚 Ship", "✖ Cancel"]]
    assert "confirmed your order #1001" in bob.last.text
    await ann.tap("🚚 Ship")
    assert "tracking number" in ann.last.text
    await ann.send("SF Express SF1234567890")
    assert "shipped" in ann.last.text and "SF1234567890" in ann.last.text
    assert "on its way" in bob.last.text and "SF Express SF1234567890" in bob.last.text
    await bob.tap("I received #1001")
    assert (await world.store.orders.get(order.id)).status == "delivered"
    assert "received order #1001" in ann.last.text
    events = await world.store.orders.events(order.id)
    assert [(e[0], e[1]) for e in events] == [(None, "placed"), ("placed", "confirmed"), ("confirmed", "shipped"),
                                             ("shipped", "delivered")]
    assert [e[2] for e in events] == [bob.id, ann.id, ann.id, bob.id]


async def test_ship_without_tracking_number(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.tap("✅ Confirm")
    await ann.tap("🚚 Ship")
    await ann.tap("Ship without tracking number")
    assert (await world.store.orders.get(order.id)).status == "shipped"
    assert "on its way" in bob.last.text and "Tracking" not in bob.last.text


async def test_merchant_cancels_with_a_reason_stock_returns_and_buyer_is_told(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop, taps_plus=2)
    assert await stock_of(world, product_id) == 47
    await ann.tap("✖ Cancel")
    await ann.send("Out of stock after the storm <sorry>")
    assert await stock_of(world, product_id) == 50
    assert (await world.store.orders.get(order.id)).status == "cancelled"
    assert "cancelled your order #1001" in bob.last.text and "<sorry>" in bob.last.text


async def test_illegal_step_is_refused_with_a_message(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    stale = ann.last
    await ann.tap("✖ Cancel")
    await ann.send("Buyer asked")
    query = await ann.tap("✅ Confirm", message=stale)  # an old message still shows Confirm
    assert "can't become" in query.answer_text
    assert (await world.store.orders.get(order.id)).status == "cancelled"
    query = await ann.send_callback(f"d.done:{order.id}", stale)
    assert "can't become" in query.answer_text


async def test_buyer_cannot_cancel_after_shipping(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    await ann.tap("✅ Confirm")
    await ann.tap("🚚 Ship")
    await ann.tap("Ship without tracking number")
    query = await bob.send_callback(f"o.cancelok:{order.id}", bob.last)
    assert "can't be changed" in query.answer_text
    assert (await world.store.orders.get(order.id)).status == "shipped"


async def test_staff_invite_link_joins_once_and_staff_handle_orders(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/staff")
    assert "No staff yet" in ann.last.text
    await ann.tap("Invite staff")
    link = ann.last.text.split()[-1]
    payload = link.split("start=")[1]
    pat = world.user("Pat")
    await pat.send(f"/start {payload}")
    assert "Welcome to Green Hill Oranges" in pat.last.text
    assert "Pat joined" in ann.last.text
    eve = world.user("Eve")
    await eve.send(f"/start {payload}")
    assert "already been used" in eve.last.text
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    assert "New order #1001" in pat.last.text
    await pat.tap("✅ Confirm")
    assert "confirmed your order" in bob.last.text
    # Staff cannot touch the catalog or the staff.
    await pat.send("/addproduct Tea, 5, 5")
    assert "Only the shop's owner" in pat.last.text
    await pat.send("/staff")
    assert "Only the shop's owner" in pat.last.text
    await ann.send("/staff")
    await ann.tap("Remove Pat")
    assert "no longer staff" in pat.last.text
    assert await world.store.shops.membership(pat.id, shop.id) is None


async def test_expired_invite_is_refused(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    token = await world.store.staff.invite(shop.id, ann.id)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE staff_invites SET expires_at = 0 WHERE token = ?", (token,))
    pat = world.user("Pat")
    await pat.send(f"/start j_{token}")
    assert "expired" in pat.last.text
    assert await world.store.shops.membership(pat.id, shop.id) is None


async def test_every_order_action_by_an_outsider_is_refused_and_changes_nothing(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    # Staff of another shop, a stranger, and the buyer himself, all with forged callback data.
    other = world.user("Olga")
    await other.send("/newshop")
    await other.send("Other shop")
    stranger = world.user("Sam")
    await stranger.send("/start")
    actions = [f"d.view:{order.id}", f"d.conf:{order.id}", f"d.ship:{order.id}", f"d.shipnow:{order.id}",
               f"d.cancel:{order.id}", f"d.done:{order.id}", f"d.rng:{shop.id}:1000:1100"]
    for person in (other, stranger, bob):
        for data in actions:
            query = await person.send_callback(data, person.last)
            assert query.answered and "can't do that" in query.answer_text, (person.first_name, data)
    after = await world.store.orders.get(order.id)
    assert after.status == "placed" and await stock_of(world, product_id) == 49
    assert len(await world.store.orders.events(order.id)) == 1


async def test_orders_lists_by_status_and_opens_one(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    buyers = [world.user(f"B{i}") for i in range(3)]
    for b in buyers:
        await place_order(world, b, shop)
    await ann.send("/orders")
    assert "New: 3" in ann.last.text
    assert ann.last.buttons[0][0].startswith("#1003")
    await ann.tap("#1002")
    assert "New order #1002" in ann.last.text and "Status: 🕐 placed" in ann.last.text
    await ann.tap("✅ Confirm")
    await ann.send("/orders")
    await ann.tap("Confirmed")
    assert "Confirmed: 1" in ann.last.text and ann.last.buttons[0][0].startswith("#1002")


async def test_burst_of_orders_reaches_the_owner_as_a_digest(tmp_path):
    world = await start_world(tmp_path)
    try:
        # Telegram's real pace for one chat: about one message a second (bursts of 3).
        world.bot.outbox._limits = replace(world.config.limits, sends_per_chat_per_second=1.0)
        world.bot.outbox._chats.clear()
        ann, shop, _ = await shop_with_product_on_link(world)
        buyers = [world.user(f"B{i}") for i in range(12)]
        for b in buyers:
            await save_delivery(world, b)
        await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
        await asyncio.gather(*(b.tap("Buy now") for b in buyers))
        await asyncio.gather(*(b.tap("Use this") for b in buyers))
        await asyncio.gather(*(b.tap("Confirm order") for b in buyers))
        owner_msgs = [m for m in ann.chat.bot_messages if "order" in (m.text or "")]
        singles = [m for m in owner_msgs if "New order #" in m.text]
        digests = [m for m in owner_msgs if "new orders" in m.text]
        assert digests, [m.text for m in owner_msgs]
        assert len(singles) + sum(int(d.text.split()[1]) for d in digests) == 12
        assert len(singles) + len(digests) < 12
        digest = digests[-1]
        assert "units" in digest.text and "CN¥" in digest.text
        await ann.tap("List them", message=digest)
        assert ann.last.buttons and ann.last.buttons[0][0].startswith("#")
    finally:
        await world.stop()


async def test_pending_messages_survive_a_restart_and_arrive_exactly_once(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    # Telegram is down for the owner's chat: the notice stays in the outbox.
    world.tg.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1000, chat_id=ann.id)
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.tap("Use this")
    await bob.tap("Confirm order")
    assert await world.store.outbox.pending_count() == 1
    await world.stop()
    world.tg.clear_faults()
    await world.start()
    async with world.store.db.write() as conn:  # skip the backoff wait
        await conn.execute("UPDATE outbox SET not_before = 0 WHERE sent_at IS NULL")
    world.bot.outbox._wake.set()
    await world.settle()
    notices = [m for m in ann.chat.bot_messages if "New order #1001" in (m.text or "")]
    assert len(notices) == 1
    assert await world.store.outbox.pending_count() == 0


async def test_429_is_retried_after_retry_after_and_delivered_once(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    world.tg.fail_next("sendMessage", error_code=429, retry_after=1, times=1, chat_id=ann.id)
    await place_order(world, bob, shop)
    assert len([m for m in ann.chat.bot_messages if "New order #1001" in (m.text or "")]) == 1
    failures = world.tg.calls_of("sendMessage", chat_id=ann.id, ok=False)
    assert len(failures) == 1


async def test_a_buyer_who_blocked_the_bot_is_marked_and_skipped(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    bob.block_bot()
    await ann.tap("✅ Confirm")
    user = await world.store.users.get(bob.id)
    assert user.blocked_at is not None
    await ann.tap("🚚 Ship")
    await ann.tap("Ship without tracking number")
    assert world.tg.count("sendMessage", chat_id=bob.id, ok=False) == 1  # the second notice was skipped
    assert (await world.store.orders.get(order.id)).status == "shipped"


async def test_export_is_a_utf8_csv_with_bom_and_chinese_text(world):
    ann, shop, _ = await shop_with_product_on_link(world, "夏橙 5斤, 39.90, 50")
    wang = world.user("王")
    await save_delivery(world, wang, address="湖北省宜昌市秭归县橙乡路8号")
    await place_order(world, wang, shop, taps_plus=1)
    await ann.send("/export today")
    doc = ann.last.document
    assert doc.file_name.endswith(".csv")
    assert doc.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(doc.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Order", "Time", "Buyer"]
    assert rows[1][0] == "1001" and "湖北省宜昌市" in rows[1][5] and "夏橙 5斤 x2" in rows[1][6] and rows[1][7] == "2"
    await ann.send("/export yesterday")
    assert "0 orders" in ann.last.text
    await ann.send("/export fortnight")
    assert "today | yesterday | 7d | 30d | all" in ann.last.text


async def test_packlist_after_a_live_session(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/live start Friday")
    for name, plus in (("Bob", 1), ("Cai", 0)):
        await place_order(world, world.user(name), shop, taps_plus=plus)
    await ann.send("/live end")
    await ann.send("/packlist")
    text = ann.last.text
    assert "Pack list" in text and "Oranges: 3" in text and "#1001 Bob" in text and "#1002 Cai" in text
