"""The log: one line per event (text or JSON), a start-up line, and never a phone number or an address."""

from __future__ import annotations

import io
import json
import logging

import pytest

from core.config import LoggingConfig
from runtime.logs import JsonFormatter, TextFormatter, mask
from storage.db import LATEST_VERSION
from tests.harness import start_world
from tests.stories import place_order, save_delivery, shop_with_product_on_link

PHONE = "+86 139 1234 5678"
ADDRESS = "12 Peach Blossom Road, Yichang"


@pytest.fixture(params=["text", "json"])
def captured(request):
    """Every log record of the test, formatted as the bot formats it, one event per line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if request.param == "json" else TextFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield request.param, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def lines_of(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


async def test_logs_never_carry_a_buyers_phone_number_or_address(tmp_path, captured):
    kind, stream = captured
    world = await start_world(tmp_path)
    try:
        ann, shop, _ = await shop_with_product_on_link(world)
        bob = world.user("Bob", phone=PHONE.replace(" ", ""))
        await bob.send(f"/start l_{shop.slug}_1")
        await bob.tap("Buy now")
        await bob.press("📱 Share my phone number")
        # The answer to the address fails: the handler's error is logged with the update that carried it.
        world.tg.fail_next(None, 400, "Bad Request: message is too long", chat_id=bob.id)
        await bob.send(ADDRESS)
        assert "something went wrong" in bob.last.text
        # The owner's new-order notice (phone and address in it) is refused: logged with its parameters.
        cat = world.user("Cat")
        await save_delivery(world, cat, phone=PHONE, address=ADDRESS)
        world.tg.fail_next("sendMessage", 400, "Bad Request: chat not found", chat_id=ann.id)
        await place_order(world, cat, shop)
        assert "placed" in cat.chat.bot_messages[-1].text
    finally:
        await world.stop()
    lines = lines_of(stream)
    log = "\n".join(lines)
    assert "handler failed for update" in log and "Telegram refused outbox message" in log
    for secret in (PHONE, PHONE.replace(" ", ""), "8613912345678", "Peach Blossom"):
        assert secret not in log
    assert "***" in log
    if kind == "json":
        entries = [json.loads(line) for line in lines]  # every line is one whole event
        assert any("exc" in e and "Traceback" in e["exc"] for e in entries)
    else:
        assert any("Traceback" in line and "\\n" in line for line in lines)  # the traceback on its event's line


async def test_start_up_line_says_mode_database_limits_and_version(tmp_path, captured):
    kind, stream = captured
    world = await start_world(tmp_path)
    await world.stop()
    starts = [line for line in lines_of(stream) if "started as @" in line]
    assert len(starts) == 1
    line = json.loads(starts[0])["message"] if kind == "json" else starts[0]
    assert "Livecart 0.1.0 started as @livecart_test_bot: mode=polling" in line
    assert f"database={world.config.database} (schema {LATEST_VERSION})" in line
    assert "sends/s" in line and "per chat" in line and "updates/min per user" in line and "users at once" in line
    backups = "backups: the PostgreSQL server's" if world.store.db.engine == "postgresql" else "backups: off"
    assert backups in line and "metrics: off" in line


def test_an_exception_with_a_multi_line_message_stays_one_event_per_line(captured):
    kind, stream = captured
    log = logging.getLogger("livecart.test")
    try:
        raise ValueError("first line\nsecond line, call +8613800138000")
    except ValueError:
        log.exception("could not do it for %s", {"phone_number": "+8613800138000", "chat_id": 42})
    lines = lines_of(stream)
    assert len(lines) == 1
    assert "13800138000" not in lines[0] and "42" in lines[0] and "second line" in lines[0]


def test_masking_leaves_ids_and_amounts_alone():
    text = "order 1001 of user 7000000001 at 1733150000.5 for 3990 fen; update 1700000000123"
    assert mask(text) == text
    assert mask("call 138-0013-8000 or +1 (555) 010-9999") == "call [phone] or [phone]"


def test_json_logging_is_a_setting(tmp_path):
    from core.config import ConfigError, parse_config

    config = parse_config({"bot": {"token": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                           "logging": {"format": "json"}}, env={})
    assert config.logging == LoggingConfig(format="json", level="INFO")
    with pytest.raises(ConfigError, match="logging.format"):
        parse_config({"bot": {"token": "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
                      "logging": {"format": "xml"}}, env={})
