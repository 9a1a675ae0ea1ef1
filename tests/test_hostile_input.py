"""Hostile input: edited messages, forged buttons with numbers out of range, malformed webhook
bodies. Each is refused plainly, never with a traceback, never stored."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from core.callbacks import INT64_MAX, MAX_ID, MAX_QUANTITY, BuyNow, CallbackDataError, OrderList, SetCartLine, read
from runtime.webhook import WebhookApp, well_formed
from tests.stories import merchant_with_shop, save_delivery, shop_with_product_on_link

STALE = "This button is no longer valid"
GONE = "no longer for sale"
SECRET = "s" * 32


def no_handler_failed(caplog) -> bool:
    return not [r for r in caplog.records if r.name == "livecart.errors"]


# ---------------------------------------------------------------- item 9: only new messages run commands

async def test_an_edited_newshop_command_does_nothing(world):
    ann = world.user("Ann")
    sent = await ann.send("/help")
    before = len(ann.chat.bot_messages)
    # Telegram would not deliver an edit (allowed_updates leaves it out), but a webhook set up
    # earlier or a forged POST can: it goes straight into the pipeline here.
    raw = {"update_id": 777_001, "edited_message": {
        "message_id": sent.message_id, "date": 1, "edit_date": 2, "text": "/newshop",
        "chat": {"id": ann.id, "type": "private", "first_name": "Ann"},
        "from": {"id": ann.id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}
    await world.bot.pipeline.accept([raw])
    await world.settle()
    assert len(ann.chat.bot_messages) == before
    assert await world.store.flows.get(ann.id) is None


async def test_editing_a_message_in_a_conversation_does_not_answer_it(world):
    ann = world.user("Ann")
    await ann.send("/newshop")
    typed = await ann.send("/help")  # a command, so the shop-name question is still open
    before = len(ann.chat.bot_messages)
    await world.bot.pipeline.accept([{"update_id": 777_002, "edited_message": {
        "message_id": typed.message_id, "date": 1, "edit_date": 2, "text": "Ann's Oranges",
        "chat": {"id": ann.id, "type": "private", "first_name": "Ann"},
        "from": {"id": ann.id, "is_bot": False, "first_name": "Ann", "language_code": "en"}}}])
    await world.settle()
    assert len(ann.chat.bot_messages) == before
    assert await world.store.shops.memberships(ann.id) == []


async def test_a_channel_post_command_does_nothing(world):
    ann = world.user("Ann")
    await world.bot.pipeline.accept([{"update_id": 777_003, "channel_post": {
        "message_id": 5, "date": 1, "text": "/newshop",
        "chat": {"id": -100123, "type": "channel", "title": "News"},
        "entities": [{"type": "bot_command", "offset": 0, "length": 8}]}}])
    await world.settle()
    assert world.tg.count(method="sendMessage", chat_id=-100123) == 0
    assert ann.chat.bot_messages == []


# ---------------------------------------------------------------- item 10: the callback codec bounds every field

def test_the_codec_reads_numbers_only_within_their_fields_range():
    assert read(f"b.now:{MAX_ID}:5:7") == BuyNow(MAX_ID, 5, 7) and not _decodes(f"b.now:{MAX_ID + 1}:5:7")
    for data in (f"b.now:{INT64_MAX + 1}:5:7", f"b.now:1:{MAX_QUANTITY + 1}:7", "b.now:1:5:51",
                 "b.now:-3:1:1", "b.now:1:-1:1", "b.now:1:1:-1", "d.list:new:10001", "b.q:1:0:0"):
        assert not _decodes(data), data
    assert read("d.list:new:3") == OrderList("new", 3)
    assert read("c.set:1:2:0") == SetCartLine(1, 2, 0)  # 0 removes a cart line; a card's quantity starts at 1


def test_the_codec_refuses_other_scripts_digits_and_trailing_newlines():
    assert not _decodes("d.view:12\n")
    assert not _decodes("d.view:١٢")
    assert not _decodes("d.view\n:12")


def _decodes(data: str) -> bool:
    try:
        read(data)
    except CallbackDataError:
        return False
    return True


# A number outside its field's range makes the whole tap unreadable (core/callbacks.py): the
# buyer hears the button is no longer valid, whichever field it was.
@pytest.mark.parametrize("data, answer", [
    ("b.now:{p}:1:700000000000000000", STALE),         # a slot far past 50: never stored as "link 7000..."
    ("b.now:{p}:1:51", STALE),
    ("b.cart:{p}:1:99999999999999999999", STALE),      # past 64 bits: was an OverflowError in SQLite
    ("b.now:{p}:100000:1", STALE),                      # a quantity past what one line may hold
    ("b.q:{p}:-5:1", STALE),
    ("b.p:99999999999999999999:0", STALE),
    ("b.shop:{s}:99999999999999999", STALE),           # a page past any list: OFFSET would overflow
    ("c.set:{s}:{p}:100000", STALE),
    ("c.set:{s}:99999999999999999999:1", STALE),
    ("o.cancel:9223372036854775808", STALE),
    ("d.list:new:9223372036854775807", STALE),
])
async def test_a_forged_button_with_an_out_of_range_number_is_a_stale_button(world, caplog, data, answer):
    ann, shop, product_id = await shop_with_product_on_link(world)
    bob = world.user("Bob")
    await save_delivery(world, bob)
    await bob.send(f"/start l_{shop.slug}_1")
    with caplog.at_level(logging.ERROR):
        query = await bob.send_callback(data.format(p=product_id, s=shop.id), bob.last)
    assert answer in (query.answer_text or ""), query.answer_text
    assert no_handler_failed(caplog)
    assert await world.store.orders.of_buyer(bob.id) == []
    assert await world.store.carts.lines(bob.id, shop.id) == []
    assert await world.store.db.fetch_value("SELECT count(*) FROM inbox WHERE error IS NOT NULL") == 0


async def test_a_merchant_button_with_a_page_past_any_list_is_a_stale_button(world, caplog):
    ann = await merchant_with_shop(world)
    await ann.send("/orders")
    with caplog.at_level(logging.ERROR):
        for data in ("d.list:all:99999999999", "cat.list:9223372036854775807", "live.pick:1:9223372036854775807",
                     "live.swap:1:700000000000000000", "d.rng:1:5:9223372036854775808"):
            query = await ann.send_callback(data, ann.last)
            assert query.answered and "something went wrong" not in (query.answer_text or ""), data
    assert no_handler_failed(caplog)


# ---------------------------------------------------------------- item 10: the webhook answers 400, never 500

def test_well_formed_refuses_deep_nesting_huge_numbers_and_lone_surrogates():
    deep: dict = {"update_id": 1}
    node = deep
    for _ in range(40):
        node["x"] = {}
        node = node["x"]
    assert not well_formed(deep)
    assert not well_formed({"update_id": 1, "message": {"from": {"id": 2**64}}})
    assert not well_formed({"update_id": 1, "message": {"text": "\ud800"}})
    assert well_formed({"update_id": 1, "message": {"text": "你好", "from": {"id": 2**40}, "n": [1.5, None, True]}})


async def test_the_webhook_answers_400_to_bodies_telegram_never_sends(world):
    app = WebhookApp(world.bot.pipeline, SECRET, "/telegram")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "content-type": "application/json"}
    deep = '{"update_id": 5, "message": ' + "[" * 5000 + "]" * 5000 + "}"
    shallow_but_deep = '{"update_id": 6, "message": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}"
    bodies = [
        deep.encode(),                                        # RecursionError inside json: was a 500
        shallow_but_deep.encode(),                            # parses, but no update nests 100 levels
        b'{"update_id": 7, "message": {"text": "\\ud800"}}',  # a lone surrogate the store cannot write
        b'{"update_id": 99999999999999999999}',               # an id past 64 bits
        b'{"update_id": 8, "message": {"from": {"id": 1' + b"0" * 30 + b'}}}',
        b"\xff\xfe\x00garbage",                                 # not UTF-8 at all
        b'{"update_id": 9, "x": 1' + b"1" * 5000 + b"}",        # an integer past Python's digit limit
        b"[1, 2, 3]",
    ]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hook") as client:
        for body in bodies:
            response = await client.post("/telegram", content=body, headers=headers)
            assert response.status_code == 400, body[:60]
        ann = world.user("Ann")
        good = {"update_id": 10, "message": {"message_id": 1, "date": 1, "text": "/help",
                                              "chat": {"id": ann.id, "type": "private", "first_name": "Ann"},
                                              "from": {"id": ann.id, "is_bot": False, "first_name": "Ann"},
                                              "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        assert (await client.post("/telegram", content=json.dumps(good), headers=headers)).status_code == 200
    assert await world.store.db.fetch_value("SELECT count(*) FROM inbox WHERE update_id BETWEEN 5 AND 9") == 0
