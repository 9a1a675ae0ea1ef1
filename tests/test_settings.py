"""/settings: the daily summary's time, the shop's time zone, on/off and the low-stock level."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.summary import SettingError, parse_low_stock, parse_time_of_day, parse_timezone
from tests.stories import add_product, current_shop, merchant_with_shop


async def settings_of(world, shop):
    return await world.store.summaries.settings(shop.id)


async def test_settings_show_the_defaults(world):
    ann = await merchant_with_shop(world)
    await ann.send("/settings")
    text = ann.last.text
    assert "Settings · Green Hill Oranges" in text
    assert "Daily summary: on, at 21:00" in text
    assert "Time zone: Asia/Shanghai" in text
    assert "Low stock: 5 or fewer left" in text
    assert ann.last.buttons == [["🕘 Summary time", "🌏 Time zone"],
                                ["🔕 Turn summary off", "⚠️ Low-stock level"],
                                ["⏳ Hold time", "💳 Payment methods"]]


async def test_change_the_summary_time_with_the_button_refusing_bad_times_clearly(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/settings")
    await ann.tap("🕘 Summary time")
    assert "At what time should the daily summary come?" in ann.last.text
    await ann.send("25:00")
    assert "hours go from 0 to 23" in ann.last.text
    await ann.send("after dinner")
    assert "“after dinner” isn't a time I understand" in ann.last.text
    assert (await settings_of(world, shop)).send_at == 21 * 60  # unchanged while refused
    await ann.send("20:30")
    assert "The daily summary now comes at 20:30 (Asia/Shanghai)" in ann.last.text
    assert "Daily summary: on, at 20:30" in ann.last.text
    assert (await settings_of(world, shop)).send_at == 20 * 60 + 30
    await ann.send("19:00")  # the question is answered: plain text is no longer taken as a time
    assert (await settings_of(world, shop)).send_at == 20 * 60 + 30


async def test_change_the_time_in_one_command_and_in_chinese(world):
    mei = await merchant_with_shop(world, "Mei", "绿山橙园", language_code="zh")
    shop = await current_shop(world, mei)
    await mei.send("/settings 时间 8点")
    assert "每日小结改为每天 08:00" in mei.last.text and "前一整天" in mei.last.text
    await mei.send("/settings time 21：30")
    assert (await settings_of(world, shop)).send_at == 21 * 60 + 30
    await mei.send("/settings time 明天")
    assert "不是我能看懂的时间" in mei.last.text


async def test_change_the_time_zone_by_name_offset_or_button_and_refuse_unknown_ones(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/settings tz Mars/Olympus_Mons")
    assert "I don't know the time zone “Mars/Olympus_Mons”" in ann.last.text and "UTC+8" in ann.last.text
    assert (await current_shop(world, ann)).timezone == "Asia/Shanghai"
    await ann.send("/settings tz europe/london")
    assert "Time zone set to Europe/London" in ann.last.text
    assert (await current_shop(world, ann)).timezone == "Europe/London"
    await ann.send("/settings tz UTC+8")
    assert (await current_shop(world, ann)).timezone == "Etc/GMT-8"
    await ann.send("/settings")
    await ann.tap("🌏 Time zone")
    await ann.tap("Asia/Tokyo")
    assert "Time zone set to Asia/Tokyo" in ann.last.text
    assert (await world.store.shops.get(shop.id)).timezone == "Asia/Tokyo"


async def test_the_summary_follows_the_shops_new_time_zone(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/settings tz Europe/London")
    day = datetime.now(ZoneInfo("Europe/London")).date() + timedelta(days=1)
    london_21_05 = datetime.combine(day, time(21, 5), ZoneInfo("Europe/London")).timestamp()
    assert await world.bot.summaries.tick(now=london_21_05 - 3600) == 0  # 21:05 in Shanghai long passed
    assert await world.bot.summaries.tick(now=london_21_05) == 1
    assert [r[0] for r in await world.store.summaries.runs("shop", shop.id)] == [day.isoformat()]


async def test_turn_the_daily_summary_off_and_on(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/settings")
    await ann.tap("🔕 Turn summary off")
    assert "The daily summary is off" in ann.last.text and "Daily summary: off" in ann.last.text
    assert not (await settings_of(world, shop)).enabled
    await ann.send("/settings time 20:00")
    assert "It is turned off at the moment" in ann.last.text
    await ann.tap("🔔 Turn summary on")
    assert "The daily summary is on: every day at 20:00" in ann.last.text
    await ann.send("/settings off")
    assert not (await settings_of(world, shop)).enabled
    await ann.send("/settings on")
    assert (await settings_of(world, shop)).enabled


async def test_low_stock_threshold_changes_what_the_summary_lists(world, monkeypatch):
    from handlers import summaries

    ann = await merchant_with_shop(world)
    await add_product(ann, "Oranges, 10.00, 4")
    await add_product(ann, "Tea, 20.00, 9")
    shop = await current_shop(world, ann)
    await ann.send("/settings lowstock -1")
    assert "“-1” is not a number of items" in ann.last.text
    await ann.send("/settings lowstock lots")
    assert "Send a whole number from 0 to 100000" in ann.last.text
    await ann.send("/settings")
    await ann.tap("⚠️ Low-stock level")
    assert "From how many items left" in ann.last.text
    await ann.send("10")
    assert "Products with 10 or fewer left now count as low stock" in ann.last.text
    assert (await settings_of(world, shop)).low_stock == 10
    monkeypatch.setattr(summaries, "clock", lambda: datetime.now().timestamp())
    await ann.send("/summary")
    assert "Low stock (10 or fewer): Oranges 4 left, Tea 9 left" in ann.last.text
    await ann.send("/settings lowstock 0")
    await ann.send("/summary")
    assert "none with 0 or fewer left" in ann.last.text


async def test_unknown_settings_word_gets_the_list_of_what_works(world):
    ann = await merchant_with_shop(world)
    await ann.send("/settings colour blue")
    assert "I didn't understand “colour blue”" in ann.last.text and "/settings time 20:30" in ann.last.text


async def test_only_the_owner_changes_settings(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    pat = world.user("Pat")
    await pat.send("/start")
    await pat.send(f"/start j_{await world.store.staff.invite(shop.id, ann.id)}")
    await pat.send("/settings off")
    assert "Only the shop's owner can change its settings" in pat.last.text
    sam = world.user("Sam")
    await sam.send("/settings")
    assert "You don't have a shop yet" in sam.last.text
    # Forged buttons with the shop's id change nothing.
    await ann.send("/settings")
    for person in (pat, sam):
        query = await person.send_callback(f"set.onoff:{shop.id}:0", ann.last)
        assert query.answer_text
        query = await person.send_callback(f"set.tz:{shop.id}:6", ann.last)
        assert query.answer_text
        query = await person.send_callback(f"set.ask:{shop.id}:time", ann.last)
        assert query.answer_text
    assert (await settings_of(world, shop)).enabled
    assert (await world.store.shops.get(shop.id)).timezone == "Asia/Shanghai"
    assert await world.store.flows.get(sam.id) is None


async def test_a_garbled_settings_button_is_answered(world):
    ann = await merchant_with_shop(world)
    await ann.send("/settings")
    query = await ann.send_callback("set.tz:abc:99", ann.last)
    assert "no longer valid" in query.answer_text


async def test_cancel_leaves_a_setting_as_it_was(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await ann.send("/settings time")
    assert "At what time" in ann.last.text
    await ann.send("/cancel")
    await ann.send("7:00")
    assert (await settings_of(world, shop)).send_at == 21 * 60


@pytest.mark.parametrize("typed, minutes", [("21:00", 1260), ("9:30", 570), ("21", 1260), ("21.30", 1290),
                                            ("21：30", 1290), ("8点", 480), ("0:00", 0), ("23:59", 1439)])
def test_times_people_type(typed, minutes):
    assert parse_time_of_day(typed) == minutes


@pytest.mark.parametrize("typed", ["24:00", "21:60", "noon", "", "9:5", "-1"])
def test_times_that_are_refused(typed):
    with pytest.raises(SettingError):
        parse_time_of_day(typed)


def test_time_zones_people_type():
    assert parse_timezone("asia/shanghai") == "Asia/Shanghai"
    assert parse_timezone("UTC") == "UTC"
    assert parse_timezone("GMT+5") == "Etc/GMT-5" and parse_timezone("-03:00") == "Etc/GMT+3"
    for bad in ("Shanghai time", "UTC+15", "", "x" * 100, "../etc/passwd"):
        with pytest.raises(SettingError):
            parse_timezone(bad)


def test_low_stock_levels():
    assert parse_low_stock("0") == 0 and parse_low_stock(" 12 ") == 12
    for bad in ("-1", "1.5", "many", "100001", "²"):
        with pytest.raises(SettingError):
            parse_low_stock(bad)
