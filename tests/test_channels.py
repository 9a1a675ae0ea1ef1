"""The shop's channel and group: connecting them, posting cards and the board, keeping posts up to date."""

from __future__ import annotations

import time

from core.stock import parse_stock_change
from tests.stories import add_product, current_shop, merchant_with_shop, shop_with_product_on_link

BOT = "livecart_test_bot"


def _urls(message) -> list[str]:
    return [b["url"] for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row if "url" in b]


async def _connected_group(world, ann, shop, title: str = "Green Hill fans"):
    group = world.tg.group(title, ann)
    await ann.add_bot(group)
    assert f"administrator of “{title}”" in ann.last.text
    await ann.tap(f"Connect to {shop.name}")
    assert f"“{title}” is connected to {shop.name}" in ann.last.text
    return group


async def _post_product(ann, product_name: str = "Oranges"):
    await ann.send("/products")
    await ann.tap(product_name)
    await ann.tap("📣 Post to channel/group")


async def test_owner_connects_a_group_and_posts_a_product_card_with_a_link_into_the_bot(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    await _post_product(ann)
    assert "Posted to Green Hill fans" in ann.last.text
    post = group.messages[-1]
    assert "Oranges" in post.text and "CN¥39.90" in post.text
    assert _urls(post) == [f"https://t.me/{BOT}?start=p_{shop.slug}_{product_id}"]


async def test_a_channel_gets_the_live_board_with_a_button_per_link(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    channel = world.tg.channel("Green Hill live")
    await ann.add_bot(channel)
    await ann.tap(f"Connect to {shop.name}")
    await ann.send("/live")
    await ann.tap("📣 Post the board to channel/group")
    post = channel.messages[-1]
    assert "today's links" in post.text and "1 · Oranges" in post.text
    assert _urls(post) == [f"https://t.me/{BOT}?start=l_{shop.slug}_1"]


async def test_posted_cards_follow_price_and_stock_with_one_edit_for_many_changes(world):
    ann, shop, product_id = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    await _post_product(ann)
    post = group.messages[-1]
    for price in (3500, 3300, 2990):  # three changes between two runs of the job
        await world.store.products.update(product_id, price=price)
    before = world.tg.count(method="editMessageText", chat_id=group.id)
    await world.bot.post_refresher.run()
    assert world.tg.count(method="editMessageText", chat_id=group.id) == before + 1
    assert "CN¥29.90" in group.get(post.message_id).text
    await world.bot.post_refresher.run()  # nothing changed since: no edit
    assert world.tg.count(method="editMessageText", chat_id=group.id) == before + 1
    await world.store.products.update(product_id, hidden=True)
    await world.bot.post_refresher.run()
    assert "no longer on sale" in group.get(post.message_id).text


async def test_sold_out_shows_on_the_posted_card(world):
    ann, shop, product_id = await shop_with_product_on_link(world, "Honey, 30, 1")
    group = await _connected_group(world, ann, shop)
    await _post_product(ann, "Honey")
    await world.store.products.change_stock(product_id, parse_stock_change("=0"))
    await world.bot.post_refresher.run()
    assert "Sold out" in group.messages[-1].text


async def test_edits_stay_within_the_group_budget_a_minute(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    ids = [await add_product(ann, f"Tea {i}, 10, 5") for i in range(25)]
    group = await _connected_group(world, ann, shop)
    for product_id in ids:
        await ann.send_callback(f"ch.p:{product_id}", ann.last)
    assert len([m for m in group.messages if "Tea" in (m.text or "")]) == 25
    for product_id in ids:
        await world.store.products.update(product_id, price=1200)
    now = time.time()
    before = world.tg.count(method="editMessageText", chat_id=group.id)
    await world.bot.post_refresher.run(now)
    first = world.tg.count(method="editMessageText", chat_id=group.id) - before
    assert first == 18  # the rest wait: Telegram allows a group about 20 messages a minute
    await world.bot.post_refresher.run(now + 61)
    assert world.tg.count(method="editMessageText", chat_id=group.id) - before == 25
    assert all("CN¥12.00" in m.text for m in group.messages if "Tea" in (m.text or ""))


async def test_only_who_added_the_bot_connects_it_and_only_to_a_shop_they_own(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    eve = world.user("Eve")
    await eve.send("/newshop")
    await eve.send("Eve's shop")
    eve_shop = await current_shop(world, eve)
    group = world.tg.group("Fans", ann)
    await ann.add_bot(group)
    query = await eve.send_callback(f"ch.c:{group.id}:{eve_shop.id}", eve.last)  # forged: Eve did not add it
    assert "can't do that" in query.answer_text
    query = await eve.send_callback(f"ch.c:{group.id}:{shop.id}", eve.last)  # nor to Ann's shop
    assert query.answer_text
    assert (await world.store.chats.get(group.id)).shop_id is None


async def test_a_bot_removed_from_the_group_posts_nothing_there_and_a_plain_member_is_not_asked(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    await ann.remove_bot(group)
    await ann.send("/products")
    await ann.tap("Oranges")
    assert not any("Post to channel" in b for row in ann.last.buttons for b in row)
    other = world.tg.group("Chat", ann)
    before = len(ann.chat.bot_messages)
    await ann.add_bot(other, admin=False)
    assert len(ann.chat.bot_messages) == before


async def test_connecting_in_chinese(world):
    ann = await merchant_with_shop(world, language_code="zh")
    shop = await current_shop(world, ann)
    group = world.tg.group("果园粉丝群", ann)
    await ann.add_bot(group)
    assert "它属于哪家店铺" in ann.last.text
    await ann.tap(f"连接到 {shop.name}")
    assert "已连接到" in ann.last.text


# ---------------------------------------------------------------- ordering from the group's comments

def _comments(world):
    return world.bot.app.bot_data["comment_orders"]


async def test_comments_that_order_get_one_reply_per_burst_naming_the_viewers_with_links(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    bob, carol, dan = world.user("Bob", username="bob"), world.user("Carol"), world.user("Dan")
    for viewer, text in ((bob, "1 x2"), (carol, "链接1 2份"), (dan, "hello, is it sweet?"), (dan, "+1")):
        await viewer.send(text, chat=group)
    await _comments(world).flush_all()
    replies = [m for m in group.messages if m.from_bot and "Orders from the chat" in (m.text or "")]
    assert len(replies) == 1
    reply = replies[0]
    assert "Link 1 × 1: Dan" in reply.text and "Link 1 × 2: @bob, Carol" in reply.text
    assert _urls(reply) == [f"https://t.me/{BOT}?start=l_{shop.slug}_1", f"https://t.me/{BOT}?start=l_{shop.slug}_1_2"]
    # The deep link opens the card with the units ready.
    await carol.send(f"/start l_{shop.slug}_1_2")
    assert carol.last.buttons[0] == ["−", "2", "+"]


async def test_a_viewer_who_started_the_bot_gets_the_card_privately_with_the_units_set(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    bob = world.user("Bob")
    await bob.send("/start")
    eve = world.user("Eve", started=False)
    await bob.send("1 x3", chat=group)
    await eve.send("1", chat=group)
    await _comments(world).flush_all()
    await world.settle()
    assert "You ordered in Green Hill Oranges's chat" in bob.last.text and bob.last.buttons[0] == ["−", "3", "+"]
    assert not eve.chat.bot_messages  # never started the bot: the group's button is her way in


async def test_200_comments_in_a_minute_make_at_most_20_group_messages_and_reach_every_commenter(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    viewers = [world.user(f"V{i}") for i in range(200)]
    for i, viewer in enumerate(viewers):
        await viewer.send(f"1 x{1 + i % 3}", chat=group)
        if i % 10 == 9:  # a burst's reply every 10 comments: 20 over the minute
            await _comments(world).flush_all()
    await _comments(world).flush_all()
    replies = [m for m in group.messages if m.from_bot and "Orders from the chat" in (m.text or "")]
    assert len(replies) <= 20
    named = "\n".join(r.html or r.text for r in replies)
    assert all(f"tg://user?id={v.id}" in named for v in viewers)


async def test_comments_in_a_group_not_connected_to_a_shop_are_left_alone(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    group = world.tg.group("Someone else's chat", ann)
    await ann.add_bot(group)  # asked, never connected
    bob = world.user("Bob")
    await bob.send("1 x2", chat=group)
    assert "comment_orders" not in world.bot.app.bot_data
    assert not [m for m in group.messages if m.from_bot]


async def test_a_burst_waiting_for_its_reply_is_answered_when_the_bot_stops(world):
    ann, shop, _ = await shop_with_product_on_link(world)
    group = await _connected_group(world, ann, shop)
    bob = world.user("Bob")
    await bob.send("1 x2", chat=group)
    await world.restart()  # within the burst's three seconds
    replies = [m for m in group.messages if m.from_bot and "Orders from the chat" in (m.text or "")]
    assert len(replies) == 1 and "Link 1 × 2: Bob" in replies[0].text
