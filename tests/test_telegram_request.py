"""The bot's HTTP layer (runtime/telegram_request.py): JSON bodies, uploads, timeouts and errors."""

from __future__ import annotations

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut

from faketg import FakeTelegram, make_png
from runtime.telegram_request import TelegramRequest
from tests.harness import TEST_TOKEN


def bot_over(tg: FakeTelegram, transport: httpx.AsyncBaseTransport, **timeouts: float) -> Bot:
    return Bot(TEST_TOKEN, base_url="http://faketg/bot", base_file_url="http://faketg/file/bot",
               request=TelegramRequest(httpx_kwargs={"transport": transport}, **timeouts))


@pytest.fixture
async def tg_and_bot():
    tg = FakeTelegram()
    bot = bot_over(tg, tg.transport())
    await bot.initialize()
    yield tg, bot
    await bot.shutdown()


async def test_calls_without_files_go_as_one_json_body_with_typed_values(tg_and_bot):
    tg, bot = tg_and_bot
    ann = tg.user("Ann")
    await ann.send("/start")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Buy now", callback_data="b.now:1")]])
    await bot.send_message(ann.id, "<b>Oranges</b> 39,90 ¥ 🍊", parse_mode="HTML", reply_markup=markup)

    call = tg.calls_of("sendMessage", ok=True)[-1]
    assert call.params["chat_id"] == ann.id  # an int, not the "123" a form field would carry
    assert call.params["reply_markup"] == {"inline_keyboard": [[{"text": "Buy now", "callback_data": "b.now:1"}]]}
    assert ann.last.text == "Oranges 39,90 ¥ 🍊"
    assert ann.last.buttons == [["Buy now"]]


async def test_a_plain_dict_keyboard_is_sent_as_it_is(tg_and_bot):
    tg, bot = tg_and_bot
    ann = tg.user("Ann")
    await ann.send("/start")
    keyboard = {"inline_keyboard": [[{"text": "Use this", "callback_data": "b.use"}]]}
    await bot.do_api_request("sendMessage", api_kwargs={"chat_id": ann.id, "text": "Ship to?",
                                                        "reply_markup": keyboard})
    assert ann.last.buttons == [["Use this"]]


async def test_uploads_still_go_as_multipart(tg_and_bot):
    tg, bot = tg_and_bot
    ann = tg.user("Ann")
    await ann.send("/start")
    png = make_png(8, 8)
    await bot.send_photo(ann.id, png, caption="QR")
    call = tg.calls_of("sendPhoto", ok=True)[-1]
    assert call.files == {"photo": len(png)}
    assert ann.last.caption == "QR"


async def test_telegrams_refusal_arrives_as_bad_request(tg_and_bot):
    tg, bot = tg_and_bot
    ann = tg.user("Ann")
    await ann.send("/start")
    with pytest.raises(BadRequest, match="text is empty"):
        await bot.send_message(ann.id, "")


async def test_a_slow_answer_times_out_as_timed_out():
    tg = FakeTelegram()
    bot = bot_over(tg, tg.transport(), read_timeout=0.2)
    await bot.initialize()
    try:
        ann = tg.user("Ann")
        await ann.send("/start")
        tg.delay_next("sendMessage", seconds=1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(ann.id, "late")
    finally:
        await bot.shutdown()


async def test_a_dropped_connection_is_a_network_error():
    class Refusing(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

    bot = bot_over(FakeTelegram(), Refusing())
    with pytest.raises(NetworkError, match="ConnectError"):
        await bot.get_me()


def test_retry_after_is_read_through_ptbs_public_attribute_in_seconds():
    # Fails when PTB changes what RetryAfter.retry_after returns in a way we do not read (the
    # limiter, the outbox and the poller all pause by this number).
    import warnings
    from datetime import timedelta

    from telegram.error import RetryAfter

    from handlers.telegram_errors import retry_after_seconds

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's own constructor reads the deprecated attribute
        whole, delta = RetryAfter(7), RetryAfter(timedelta(seconds=3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our reader keeps PTB's deprecation warning quiet
        assert retry_after_seconds(whole) == 7.0
        assert retry_after_seconds(delta) == 3.0


def test_the_request_class_uses_only_ptbs_public_request_interface():
    # BaseRequest is PTB's public extension point; HTTPXRequest's client is private to it.
    from telegram.request import BaseRequest, HTTPXRequest

    assert issubclass(TelegramRequest, BaseRequest) and not issubclass(TelegramRequest, HTTPXRequest)
