"""The order desk: notifications, the status workflow, staff, bursts, /orders, export, pack list."""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import replace


from runtime.pacing import Pacer
from tests.harness import start_world
from tests.stories import place_order, save_delivery, shop_with_product_on_link, stock_of


async def test_new_order_reaches_the_owner_with_confirm_ship_cancel(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob", username="bob88")
    await place_order(world, bob, shop)
    notice = ann.last
    assert "New order #1001" in notice.text and "Bob @bob88" in notice.text and "138 0013 8000" in notice.text
    assert "8 Orchard Lane" in notice.text and "From link 1" in notice.text
    assert notice.buttons == [["✅ Confirm", "🚚 Ship", "✖ Cancel"], ["✏️ Correct details", "💬 Write to buyer"]]


async def test_confirm_ship_with_tracking_and_delivered_each_tell_the_buyer(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    card = ann.last
    await ann.tap("✅ Confirm")
    assert card.text.startswith("👍 Order #1001") and "confirmed" in card.text
    assert card.buttons == [["🚚 Ship", "✖ Cancel"], ["✏️ Correct details", "💬 Write to buyer"],
                            ["🧾 Slip", "📋 Back to orders"]]
    assert "confirmed your order #1001" in bob.last.text
    await ann.tap("🚚 Ship")
    assert "tracking number" in ann.last.text
    await ann.send("SF Express SF1234567890")
    assert "Order #1001: 🚚 shipped" in ann.last.text
    # The card itself shows the new state, edited in place: no Ship or Cancel left on it.
    assert card.text.startswith("🚚 Order #1001") and "SF Express SF1234567890" in card.text
    assert card.buttons == [["📬 Delivered"], ["💬 Write to buyer"], ["📋 Back to orders"]]
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


async def add_staff(world, owner, name: str = "Pat", language_code: str = "en"):
    await owner.send("/staff")
    await owner.tap("Invite staff")
    payload = owner.last.text.split()[-1].split("start=")[1]
    pat = world.user(name, language_code=language_code)
    await pat.send(f"/start {payload}")
    return pat


async def test_illegal_step_is_refused_with_a_message(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    stale = pat.last  # Pat's copy of the new-order notice
    await ann.tap("✖ Cancel")
    await ann.send("Buyer asked")
    query = await pat.send_callback(f"d.conf:{order.id}", stale)  # a button from before the change
    assert query.show_alert and "can't become" in query.answer_text
    assert (await world.store.orders.get(order.id)).status == "cancelled"
    query = await pat.send_callback(f"d.done:{order.id}", stale)
    assert query.show_alert and "can't become" in query.answer_text


async def test_every_copy_of_a_card_follows_the_order_in_each_members_chat(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann, language_code="zh")
    await place_order(world, world.user("Bob"), shop)
    owners_copy, pats_copy = ann.last, pat.last
    await ann.send("/orders")
    opened = ann.last
    await ann.tap("#1001")  # a third copy: the card opened from the list
    await pat.tap("✅ 确认", message=pats_copy)
    for copy in (owners_copy, opened):
        assert copy.text.startswith("👍 Order #1001") and copy.buttons[0] == ["🚚 Ship", "✖ Cancel"]
    assert pats_copy.text.startswith("👍 订单 #1001")
    await ann.tap("🚚 Ship", message=owners_copy)
    await ann.send("SF1234567890")
    for copy in (owners_copy, opened, pats_copy):
        assert len(copy.buttons) in (2, 3) and all(len(row) == 1 for row in copy.buttons) \
            and "SF1234567890" in copy.text
    assert owners_copy.buttons[0] == ["📬 Delivered"] and pats_copy.text.startswith("🚚 订单 #1001")


async def test_a_tapped_old_copy_that_could_not_be_edited_is_brought_up_to_date(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    await place_order(world, world.user("Bob"), shop)
    stale = pat.last
    world.tg.fail_next("editMessageText", error_code=400, description="Bad Request: message can't be edited",
                       times=5, chat_id=pat.id)
    await ann.tap("✅ Confirm")
    await ann.tap("🚚 Ship")
    await ann.tap("Ship without tracking number")
    world.tg.clear_faults()
    assert stale.buttons == [["✅ Confirm", "🚚 Ship", "✖ Cancel"], ["✏️ Correct details", "💬 Write to buyer"]]  # the old copy
    query = await pat.tap("✖ Cancel", message=stale)
    assert query.show_alert and "shipped" in query.answer_text
    # Pat's copy now shows the order as it is, and offers only what it allows.
    assert stale.text.startswith("🚚 Order #1001") and stale.buttons == [["📬 Delivered"], ["💬 Write to buyer"], ["📋 Back to orders"]]


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
        world.bot.outbox.pacer = Pacer(replace(world.config.limits, sends_per_chat_per_second=1.0))
        ann, shop, _ = await shop_with_product_on_link(world)
        buyers = [world.user(f"B{i}") for i in range(12)]
        for b in buyers:
            await save_delivery(world, b)
        await asyncio.gather(*(b.send(f"/start l_{shop.slug}_1") for b in buyers))
        await asyncio.gather(*(b.tap("Buy now") for b in buyers))
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
    await bob.tap("Confirm order")
    assert await world.store.outbox.pending_count() == 1
    await world.stop()
    world.tg.clear_faults()
    await world.start()
    async with world.store.db.write() as conn:  # skip the backoff wait
        await conn.execute("UPDATE outbox SET not_before = 0 WHERE sent_at IS NULL")
    world.bot.outbox.job.wake()
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
    row = dict(zip(rows[0], rows[1]))
    assert row["Order"] == "1001" and "湖北省宜昌市" in row["Address"] and "夏橙 5斤 x2" in row["Items"]
    assert row["Units"] == "2"
    await ann.send("/export yesterday")
    assert "0 orders" in ann.last.text
    await ann.send("/export fortnight")
    assert "today | yesterday | 7d | 30d | all" in ann.last.text


async def test_packlist_live_lists_the_live_sessions_orders(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await place_order(world, world.user("Early"), shop)  # before the session
    await ann.send("/live start Friday")
    for name, plus in (("Bob", 1), ("Cai", 0)):
        await place_order(world, world.user(name), shop, taps_plus=plus)
    await ann.send("/live end")
    await ann.send("/packlist live")
    text = ann.last.text
    assert "Pack list" in text and "Oranges: 3" in text and "#1002 Bob" in text and "#1003 Cai" in text
    assert "Early" not in text


async def test_packlist_lists_every_order_waiting_to_ship_even_between_sessions(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/live start Friday")
    await place_order(world, world.user("Bob"), shop)
    await ann.send("/live end")
    await place_order(world, world.user("Cai"), shop, taps_plus=1)  # between sessions
    shipped = await place_order(world, world.user("Dan"), shop)
    await world.store.orders.transition(shipped.id, "shipped", ann.id)
    await ann.send("/packlist")
    text = ann.last.text
    assert "every order waiting to ship" in text
    assert "#1001 Bob" in text and "#1002 Cai" in text and "Oranges: 3" in text
    assert "Dan" not in text  # already shipped


async def test_packlist_with_nothing_waiting_says_so(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await ann.send("/packlist")
    assert "Nothing to pack" in ann.last.text


# ---------------------------------------------------------------- the desk follows what merchants do

async def test_cash_on_delivery_order_ships_from_placed_confirming_on_the_way(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    order = await place_order(world, bob, shop)
    card = ann.last
    await ann.tap("🚚 Ship", message=card)
    await ann.send("顺丰 SF1234567890")
    after = await world.store.orders.get(order.id)
    assert after.status == "shipped" and (after.carrier, after.tracking_number) == ("顺丰", "SF1234567890")
    events = await world.store.orders.events(order.id)
    assert [(e[0], e[1]) for e in events] == [(None, "placed"), ("placed", "confirmed"), ("confirmed", "shipped")]
    assert "on its way" in bob.last.text and "顺丰 SF1234567890" in bob.last.text
    assert card.buttons == [["📬 Delivered"], ["💬 Write to buyer"], ["📋 Back to orders"]]


async def set_payment(world, order_id: int, method: str, status: str) -> None:
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE orders SET payment_method = ?, payment_status = ? WHERE id = ?",
                           (method, status, order_id))


async def test_prepaid_order_awaiting_payment_offers_no_ship_and_a_forged_ship_says_why(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    order = await place_order(world, world.user("Bob"), shop)
    await set_payment(world, order.id, "code", "awaiting")
    await ann.send("/orders")
    await ann.tap("#1001")
    assert ann.last.buttons == [["✅ Confirm", "✖ Cancel"], ["✏️ Correct details", "💬 Write to buyer"], ["📋 Back to orders"]]
    await ann.tap("✅ Confirm")
    assert ann.last.buttons == [["✖ Cancel"], ["✏️ Correct details", "💬 Write to buyer"], ["📋 Back to orders"]]  # still no Ship
    query = await ann.send_callback(f"d.ship:{order.id}", ann.last)
    assert query.show_alert and "waiting for its payment" in query.answer_text
    assert "can't become" not in query.answer_text
    assert (await world.store.orders.get(order.id)).status == "confirmed"
    await set_payment(world, order.id, "code", "paid")
    await ann.send("/orders")
    await ann.tap("Confirmed")
    await ann.tap("#1001")
    assert ann.last.buttons == [["🚚 Ship", "✖ Cancel"], ["✏️ Correct details", "💬 Write to buyer"],
                                ["🧾 Slip", "📋 Back to orders"]]


async def test_no_button_of_any_state_leads_to_cant_become(world):
    """Every button a card shows, in every state and payment state, does what it says."""
    ann, shop, _ = await shop_with_product_on_link(world)
    cases = [("cod", "cod"), ("code", "awaiting"), ("code", "claimed"), ("code", "paid"), ("card", "paid")]
    for i, (method, paid) in enumerate(cases):
        order = await place_order(world, world.user(f"B{i}"), shop)
        await set_payment(world, order.id, method, paid)
        seen = set()
        await ann.send("/orders")
        await ann.tap("All")
        await ann.tap(f"#{order.number}")
        card = ann.last
        while True:  # the card is edited in place after each step
            actions = [b for row in card.buttons for b in row if b not in ("📋 Back to orders",) and b not in seen]
            if not actions:
                break
            action = actions[0]
            seen.add(action)
            query = await ann.tap(action, message=card)
            assert not query.show_alert, (method, paid, action, query.answer_text)
            if action == "🚚 Ship":
                await ann.tap("Ship without tracking number")
            elif action == "✖ Cancel":
                await ann.send("Sold out")


async def test_ship_without_tracking_on_an_order_shipped_meanwhile_answers_with_an_alert(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    await place_order(world, world.user("Bob"), shop)
    await ann.tap("🚚 Ship")
    prompt = ann.last
    await pat.tap("🚚 Ship")
    await pat.send("SF1234567890")
    query = await ann.tap("Ship without tracking number", message=prompt)
    assert query.answered and query.show_alert and "shipped" in query.answer_text


async def test_cancel_prompt_on_an_order_shipped_meanwhile_says_why(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    order = await place_order(world, world.user("Bob"), shop)
    await ann.tap("✖ Cancel")
    await pat.tap("🚚 Ship")
    await pat.tap("Ship without tracking number")
    await ann.send("Changed my mind")
    assert "Order #1001 is 🚚 shipped" in ann.last.text
    assert (await world.store.orders.get(order.id)).status == "shipped"


async def test_carrier_alone_and_number_alone_are_told_apart_and_exported_in_their_columns(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    for name, typed in (("Bob", "顺丰"), ("Cai", "SF1234567890"), ("Dan", "SF Express SF7654321098")):
        await place_order(world, world.user(name), shop)
        await ann.tap("🚚 Ship")
        await ann.send(typed)
    orders = sorted([o for o, _ in [await world.store.orders.of_shop(shop.id, None, 0, 10)]][0], key=lambda o: o.number)
    assert [(o.carrier, o.tracking_number) for o in orders] == [
        ("顺丰", None), (None, "SF1234567890"), ("SF Express", "SF7654321098")]
    card = next(m for m in ann.chat.bot_messages if (m.text or "").startswith("🚚 Order #1001"))
    assert "Carrier: 顺丰" in card.text and "Tracking" not in card.text
    await ann.send("/export today")
    rows = list(csv.DictReader(io.StringIO(ann.last.document.data.decode("utf-8-sig"))))
    assert [(r["Carrier"], r["Tracking number"]) for r in rows] == [
        ("顺丰", ""), ("", "SF1234567890"), ("SF Express", "SF7654321098")]


async def test_order_card_has_a_way_back_to_the_list(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    for name in ("Bob", "Cai"):
        await place_order(world, world.user(name), shop)
    await ann.send("/orders")
    listing = ann.last
    await ann.tap("#1002")
    assert listing.text.startswith("🛒 New order #1002")  # the list message became the card
    await ann.tap("📋 Back to orders", message=listing)
    assert "Orders of Green Hill Oranges" in listing.text and listing.buttons[0][0].startswith("#1002")


async def test_dates_follow_the_chinese_merchants_language_and_the_shops_time_zone(world):
    import re
    from datetime import datetime
    from zoneinfo import ZoneInfo

    wang = world.user("王", language_code="zh")
    await wang.send("/newshop")
    await wang.send("秭归脐橙")
    await wang.send("/addproduct 脐橙, 39.90, 50")
    await wang.tap("🔴 放到下一个空链接")
    shop = (await world.store.shops.memberships(wang.id))[0].shop
    order = await place_order(world, world.user("Bob"), shop)
    await wang.send("/orders")
    await wang.tap("#1001")
    placed = datetime.fromtimestamp(order.created_at, ZoneInfo(shop.timezone))
    expected = f"{placed.month}月{placed.day}日 {placed:%H:%M}"
    assert expected in wang.last.text, wang.last.text
    assert not re.search(r"\d+/\d+/\d+", wang.last.text)


async def test_shared_location_shows_as_a_map_link_on_the_card_the_notice_and_the_csv(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await bob.send(f"/start l_{shop.slug}_1")
    await bob.tap("Buy now")
    await bob.press("📱 Share my phone number")
    await bob.share_location(30.7, 111.3)
    await bob.send("8 Orchard Lane, Yichang")
    await bob.tap("Confirm order")
    link = "https://www.openstreetmap.org/?mlat=30.700000&mlon=111.300000"
    notice = ann.last
    assert link in notice.text and notice.text.index("8 Orchard Lane") < notice.text.index("📍")
    await ann.send("/orders")
    await ann.tap("#1001")
    assert link in ann.last.text
    await ann.send("/export today")
    row = next(csv.DictReader(io.StringIO(ann.last.document.data.decode("utf-8-sig"))))
    assert row["Map"].startswith(link)


async def test_a_buyers_cancel_takes_ship_off_the_shops_cards(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await place_order(world, bob, shop)
    notice = next(m for m in ann.chat.bot_messages if "New order #1001" in (m.text or ""))
    await bob.send("/myorders")
    await bob.tap("Cancel #1001")
    await bob.tap("Yes, cancel")
    assert notice.text.startswith("✖ Order #1001") and notice.buttons == [["💬 Write to buyer"], ["📋 Back to orders"]]


async def test_a_ship_prompt_answered_by_typing_offers_no_button_any_more(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await place_order(world, world.user("Bob"), shop)
    await ann.tap("🚚 Ship")
    prompt = ann.last
    await ann.send("SF1234567890")
    assert prompt.buttons == []  # "Ship without tracking number" would only be refused now


async def test_an_order_shipped_by_someone_else_is_already_shipped_not_cant_become(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    await place_order(world, world.user("Bob"), shop)
    await ann.tap("🚚 Ship")
    prompt = ann.last
    await pat.tap("🚚 Ship")
    await pat.tap("Ship without tracking number")
    query = await ann.tap("Ship without tracking number", message=prompt)
    assert query.show_alert and query.answer_text == "Order #1001 is already 🚚 shipped."
    assert prompt.buttons == []


async def test_a_notice_delivered_late_shows_the_order_as_it_is_by_then(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    pat = await add_staff(world, ann)
    world.tg.fail_next("sendMessage", error_code=502, description="Bad Gateway", times=1000, chat_id=ann.id)
    await place_order(world, world.user("Bob"), shop)  # Ann's notice waits in the outbox
    await pat.tap("🚚 Ship")
    await pat.send("SF1234567890")
    world.tg.clear_faults()
    async with world.store.db.write() as conn:  # skip the backoff wait
        await conn.execute("UPDATE outbox SET not_before = 0 WHERE sent_at IS NULL")
    world.bot.outbox.job.wake()
    await world.settle()
    notice = next(m for m in ann.chat.bot_messages if "Order #1001" in (m.text or ""))
    assert notice.text.startswith("🚚 Order #1001")
    assert notice.buttons == [["📬 Delivered"], ["💬 Write to buyer"], ["📋 Back to orders"]]


async def test_packlist_leaves_out_prepaid_orders_not_paid_yet_and_says_how_many(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    await place_order(world, world.user("Bob"), shop)
    unpaid = await place_order(world, world.user("Cai"), shop)
    await set_payment(world, unpaid.id, "code", "awaiting")
    await ann.send("/packlist")
    text = ann.last.text
    assert "#1001 Bob" in text and "Cai" not in text and "Oranges: 1" in text
    assert "1 more order waits for its payment" in text
