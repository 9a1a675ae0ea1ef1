"""The first journeys: /start, /newshop, /myshop, /help, /cancel, /language, the menu, errors."""

from __future__ import annotations

import pytest

import logging


from faketg.html import parse_html  # noqa: F401  (the fake parses HTML as Telegram does)


async def open_shop(user, name="Green Hill Oranges"):
    await user.send("/newshop")
    await user.send(name)
    return user.last


async def test_start_welcomes_merchants_and_buyers_with_a_way_to_open_a_shop(world):
    ann = world.user("Ann")
    await ann.send("/start")
    text = ann.last.text
    assert "Hi Ann" in text and "Buying?" in text and "Selling?" in text
    assert ann.last.buttons == [["🏪 Open a shop"]]


async def test_start_in_chinese_for_a_chinese_telegram_client(world):
    li = world.user("李", language_code="zh-hans")
    await li.send("/start")
    assert "你好，李" in li.last.text
    assert li.last.buttons == [["🏪 开店"]]


async def test_open_a_shop_button_asks_for_the_name_and_creates_the_shop(world):
    ann = world.user("Ann")
    await ann.send("/start")
    await ann.tap("Open a shop")
    assert "What is your shop called?" in ann.last.text
    await ann.send("Green Hill Oranges")
    assert "Your shop Green Hill Oranges is open" in ann.last.text
    shops = await world.store.shops.memberships(ann.id)
    assert [m.shop.name for m in shops] == ["Green Hill Oranges"] and shops[0].is_owner
    assert len(shops[0].shop.slug) == 6
    assert f"start=s_{shops[0].shop.slug}" in ann.last.text


async def test_shop_name_too_long_gets_the_reason_and_a_second_chance(world):
    ann = world.user("Ann")
    await ann.send("/newshop")
    await ann.send("x" * 65)
    assert "65 characters; the limit is 64" in ann.last.text
    assert await world.store.shops.memberships(ann.id) == []
    await ann.send("Short and sweet")
    assert "Short and sweet is open" in ann.last.text


async def test_shop_name_as_a_photo_is_refused_with_a_way_forward(world):
    ann = world.user("Ann")
    await ann.send("/newshop")
    await ann.send_photo()
    assert "send the shop's name as text" in ann.last.text
    assert await world.store.shops.memberships(ann.id) == []


async def test_shop_name_with_markup_is_shown_as_typed(world):
    ann = world.user("Ann")
    last = await open_shop(ann, '<b>&"x</b>')
    assert '<b>&"x</b> is open' in last.text
    assert not any(e["type"] == "bold" and last.text[e["offset"]:e["offset"] + e["length"]] == '&"x'
                   for e in last.entities)


async def test_myshop_shows_the_card_with_link_and_counts(world):
    ann = world.user("Ann")
    await open_shop(ann)
    await ann.send("/myshop")
    text = ann.last.text
    assert "Green Hill Oranges (owner)" in text
    assert "Products: 0" in text and "Orders: 0" in text and "https://t.me/livecart_test_bot?start=s_" in text


async def test_myshop_without_a_shop_offers_to_open_one(world):
    bob = world.user("Bob")
    await bob.send("/myshop")
    assert "don't have a shop yet" in bob.last.text
    assert bob.last.buttons == [["🏪 Open a shop"]]


async def test_owner_of_two_shops_switches_the_current_one(world):
    ann = world.user("Ann")
    await open_shop(ann, "Oranges")
    await open_shop(ann, "Tea")
    await ann.send("/myshop")
    assert "Tea (owner)" in ann.last.text
    await ann.tap("Switch to Oranges")
    assert "Oranges (owner)" in ann.last.text
    assert ann.last.buttons[-1] == ["Switch to Tea"]
    await ann.send("/myshop")
    assert "Oranges (owner)" in ann.last.text


async def test_switching_to_someone_elses_shop_is_refused(world):
    ann, eve = world.user("Ann"), world.user("Eve")
    await open_shop(ann, "Oranges")
    shop = (await world.store.shops.memberships(ann.id))[0].shop
    await open_shop(eve, "Eve's")
    query = await eve.send_callback(f"shop.use:{shop.id}", eve.last)
    assert query.answered and "can't do that" in query.answer_text
    await eve.send("/myshop")
    assert "Eve's (owner)" in eve.last.text


async def test_help_lists_buyer_commands_and_merchant_ones_for_merchants(world):
    bob = world.user("Bob")
    await bob.send("/help")
    assert "/myorders" in bob.last.text and "/newshop opens your shop" in bob.last.text
    ann = world.user("Ann")
    await open_shop(ann)
    await ann.send("/help")
    assert "/addproduct" in ann.last.text and "/live" in ann.last.text


async def test_cancel_leaves_the_conversation_and_says_so(world):
    ann = world.user("Ann")
    await ann.send("/newshop")
    await ann.send("/cancel")
    assert "Cancelled" in ann.last.text
    await ann.send("My shop")
    assert "didn't catch that" in ann.last.text
    assert await world.store.shops.memberships(ann.id) == []


async def test_cancel_with_nothing_to_cancel_says_so(world):
    ann = world.user("Ann")
    await ann.send("/cancel")
    assert "nothing to cancel" in ann.last.text


async def test_language_choice_is_remembered_over_telegrams_language(world):
    ann = world.user("Ann", language_code="en")
    await ann.send("/language")
    await ann.tap("中文")
    assert "中文" in ann.last.text
    await ann.send("/start")
    assert "你好，Ann" in ann.last.text
    await world.restart()
    await ann.send("/help")
    assert "购物" in ann.last.text


async def test_unknown_command_points_to_help(world):
    ann = world.user("Ann")
    await ann.send("/frobnicate")
    assert "/help" in ann.last.text


async def test_command_menu_is_set_for_everyone_and_for_shop_owners(world):
    default_en = world.tg.get_commands({"type": "default"})
    default_zh = world.tg.get_commands({"type": "default"}, "zh")
    assert {"start", "myorders", "cart", "help", "newshop"} <= {c["command"] for c in default_en}
    assert "我的订单" in {c["description"] for c in default_zh}
    ann = world.user("Ann")
    assert world.tg.get_commands({"type": "chat", "chat_id": ann.id}) == []
    await open_shop(ann)
    merchant = {c["command"] for c in world.tg.get_commands({"type": "chat", "chat_id": ann.id})}
    assert {"myshop", "addproduct", "products", "live", "orders", "myorders"} <= merchant


async def test_a_failing_handler_apologises_in_the_users_language_and_logs_the_update(world, monkeypatch, caplog):
    from handlers import start as start_module

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(world.store.shops, "memberships", broken)
    li = world.user("李", language_code="zh")
    with caplog.at_level(logging.ERROR, logger="livecart.errors"):
        await li.send("/help")
    assert "抱歉" in li.last.text and "/start" in li.last.text
    record = next(r for r in caplog.records if r.name == "livecart.errors")
    assert "database on fire" in str(record.exc_info[1]) and '"/help"' in record.getMessage()
    assert start_module  # the handler module is the one that failed


async def test_a_failing_button_stops_the_spinner_with_an_apology(world, monkeypatch):
    ann = world.user("Ann")
    await ann.send("/start")

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(world.store.users, "seen", broken)
    query = await ann.tap("Open a shop")
    assert query.answered and query.show_alert and "went wrong" in query.answer_text


async def test_a_button_that_fails_after_answering_apologises_in_the_chat(world, monkeypatch):
    ann = world.user("Ann")
    await ann.send("/start")

    async def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(world.store.flows, "start", broken)
    query = await ann.tap("Open a shop")
    assert query.answered
    assert "went wrong" in ann.last.text and "/start" in ann.last.text


async def test_forged_button_data_is_answered_not_crashed(world):
    ann = world.user("Ann")
    await ann.send("/start")
    query = await ann.send_callback("no-such-action:1:2", ann.last)
    assert query.answered and "no longer valid" in query.answer_text


async def test_a_shop_name_with_markup_shows_as_typed_on_buttons_too(world):
    ann = world.user("Ann")
    await open_shop(ann, '<b>&"x</b>')
    await open_shop(ann, "Tea")
    await ann.send("/myshop")
    assert ann.last.buttons[-1] == ['Switch to <b>&"x</b>']


async def test_a_known_button_with_garbled_data_is_answered_as_stale(world):
    ann = world.user("Ann")
    await ann.send("/start")
    query = await ann.send_callback("b.ok:not a token!", ann.last)
    assert query.answered and "no longer valid" in query.answer_text


def test_a_button_action_can_only_be_routed_once():
    from core.callbacks import BuyNow
    from handlers.flows import Conversations
    from handlers.registry import ButtonRouter
    from handlers.start import stale_button

    router = ButtonRouter(Conversations(), fallback=stale_button)
    router.add(BuyNow, stale_button)
    with pytest.raises(ValueError, match="b.now"):
        router.add(BuyNow, stale_button)


def test_the_running_bot_freezes_its_start_up_heap_for_the_garbage_collector():
    import gc

    from runtime.livecart import freeze_startup_heap

    before = gc.get_freeze_count()
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # the test process goes on creating and dropping worlds


async def test_a_second_bot_polling_on_a_running_bots_database_is_refused_and_may_start_once_it_stops(world):
    from runtime.livecart import Livecart
    from runtime.single_poller import AnotherPoller
    from tests.harness import fake_request

    second = Livecart(world.config, request=fake_request(world.tg), updates_request=fake_request(world.tg, 4))
    with pytest.raises(AnotherPoller, match="already polling"):
        await second.start()
    await second.stop()  # undoing the refused start touches nothing of the running bot's
    assert (await world.store.users.get(1)) is None and world.bot.pipeline is not None
    await world.bot.stop()
    again = Livecart(world.config, request=fake_request(world.tg), updates_request=fake_request(world.tg, 4),
                     long_poll=1)
    await again.start()
    await again.stop()
    await world.start()  # a new bot on the database, which the fixture stops at the end
