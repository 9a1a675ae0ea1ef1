"""Owner summaries: the daily summary with its chart, /summary on demand, the schedule across
restarts, and the operator's all-shops summary.

The scheduler's tick takes the moment to act at, so a test stands "tomorrow at 21:05" without
waiting; orders are placed through the store and moved to the days a story needs.
"""

from __future__ import annotations

import io
import itertools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from telegram.error import BadRequest, TimedOut

from core.chart import ChartDay, ChartText, nice_ticks, render_chart
from core.orders import Status
from core.summary import Figures, daily_period, fits_caption, parse_period, percent_change, period_for
from handlers import summaries
from storage.orders import Delivery
from tests.harness import start_world
from tests.stories import add_product, current_shop, merchant_with_shop

_tokens = itertools.count(1)


def local(shop, day: date, hour: int, minute: int = 0) -> float:
    return datetime.combine(day, time(hour, minute), ZoneInfo(shop.timezone)).timestamp()


def tomorrow(shop) -> date:
    """A day that starts after the shop was opened (so its summary time is ahead of it)."""
    return datetime.now(ZoneInfo(shop.timezone)).date() + timedelta(days=1)


async def buyer(world, name: str):
    person = world.user(name)
    await world.store.users.seen(person.id, name, None, "en")
    return person


async def order(world, shop, who, items, at: float, *, slot=None, session_id=None):
    """An order placed through the store, then moved to `at`."""
    placed, _ = await world.store.orders.place(
        token=f"t{next(_tokens)}", shop_id=shop.id, buyer_id=who.id, items=items,
        delivery=Delivery("+8613800138000", who.first_name, "8 Orchard Lane"), note=None, slot=slot,
        session_id=session_id)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE orders SET created_at = ?, updated_at = ? WHERE id = ?", (at, at, placed.id))
    return placed


async def live_session(world, shop, title, start: float, end: float) -> int:
    session, _ = await world.store.live.start_session(shop.id, title)
    await world.store.live.end_session(shop.id)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE live_sessions SET started_at = ?, ended_at = ? WHERE id = ?",
                           (start, end, session.id))
    return session.id


async def opens(world, shop, count: int, at: float, *, slot=1, product_id=None, session_id=None, people=None):
    """`count` opens of a link at `at`, by `people` (by default each by someone else)."""
    people = people or [await buyer(world, f"Viewer{i}") for i in range(count)]
    before = await world.store.db.fetch_value("SELECT coalesce(max(id), 0) FROM link_opens")
    for i in range(count):
        await world.store.live.record_open(shop.id, "slot", slot, product_id, session_id, people[i % len(people)].id)
    async with world.store.db.write() as conn:
        await conn.execute("UPDATE link_opens SET opened_at = ? WHERE id > ?", (at, before))


def after(user, mark: int):
    """The bot's messages to `user` since `mark` (a count of messages before)."""
    return user.chat.bot_messages[mark:]


def summary_text(messages) -> str:
    """What the messages say, with the narrow spaces of formatted times made plain."""
    return "\n".join(m.text or "" for m in messages).replace("\u202f", " ").replace("\xa0", " ")


async def busy_shop(world):
    """Ann's shop with three days of orders (today, yesterday, a week ago), a live session today,
    a cancelled order and a product running low. Returns (ann, shop, day, products)."""
    ann = await merchant_with_shop(world)
    oranges = await add_product(ann, "Oranges 5kg, 39.90, 200")
    tea = await add_product(ann, "Spring tea, 25.00, 4")
    await add_product(ann, "Honey, 58.00, 30")
    shop = await current_shop(world, ann)
    day = tomorrow(shop)
    bob, cat, dan, eve = [await buyer(world, n) for n in ("Bob", "Cat", "Dan", "Eve")]
    # A week ago (same weekday): Bob's first order.
    await order(world, shop, bob, [(tea, 1)], local(shop, day - timedelta(days=7), 9))
    # Yesterday: one order before 21:05, one after (not part of "yesterday at this time").
    await order(world, shop, bob, [(oranges, 1)], local(shop, day - timedelta(days=1), 11))
    await order(world, shop, bob, [(oranges, 3)], local(shop, day - timedelta(days=1), 22))
    # Today: Bob returns, Cat is new and comes from link 1 during the live session; Dan cancels;
    # Eve orders after the summary time (tomorrow's news).
    session = await live_session(world, shop, "Friday sale", local(shop, day, 19), local(shop, day, 20, 30))
    await opens(world, shop, 10, local(shop, day, 19, 15), product_id=oranges, session_id=session)
    await order(world, shop, bob, [(oranges, 2)], local(shop, day, 10))
    await order(world, shop, cat, [(tea, 1)], local(shop, day, 19, 30), slot=1, session_id=session)
    cancelled = await order(world, shop, dan, [(oranges, 1)], local(shop, day, 20))
    await world.store.orders.transition(cancelled.id, Status.CANCELLED, ann.id, cancel_reason="asked")
    await order(world, shop, eve, [(oranges, 3)], local(shop, day, 21, 30))
    return ann, shop, day, {"oranges": oranges, "tea": tea}


# ---------------------------------------------------------------- the daily summary

async def test_daily_summary_reports_the_day_with_comparisons_top_products_funnel_shipments_and_stock(world):
    ann, shop, day, _ = await busy_shop(world)
    mark = len(ann.chat.bot_messages)
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 5)) == 1
    await world.settle()
    messages = after(ann, mark)
    assert messages[0].photo is not None  # the chart first, the figures with it or right after
    text = summary_text(messages)
    assert "Green Hill Oranges" in text and "until 9:05" in text
    # Bob 2 x 39.90 + Cat 1 x 25.00; Dan's cancelled order and Eve's later one don't count.
    assert "Orders: 2 · Revenue: CN¥104.80" in text
    assert "Units sold: 3 · Average order: CN¥52.40" in text
    assert "Buyers: 2 (1 new, 1 returning)" in text
    assert "Cancelled: 1" in text
    # Yesterday by 21:05: 1 order, 39.90; last week's same weekday by 21:05: 1 order, 25.00.
    assert "yesterday at this time: orders ▲100%, revenue ▲163% (then 1 order, CN¥39.90)" in text
    weekday = day.strftime("%A")
    assert f"last {weekday} at this time: orders ▲100%, revenue ▲319% (then 1 order, CN¥25.00)" in text
    assert "1. Oranges 5kg: ×2, CN¥79.80" in text and "2. Spring tea: ×1, CN¥25.00" in text
    assert "Live “Friday sale” (7:00 PM–8:30 PM)" in text
    assert "Link 1 · Oranges 5kg: 10 opens → 1 order (10%), CN¥25.00" in text
    # Not shipped: a week-old order and everything since, except the cancelled one.
    assert "To ship: 6 orders, the oldest waiting 7 days" in text
    assert "Low stock (5 or fewer): Spring tea 2 left" in text
    assert messages[-1].buttons[0] == ["Today", "Yesterday", "7 days", "30 days"]
    runs = await world.store.summaries.runs("shop", shop.id)
    assert [(r[0], r[2]) for r in runs] == [(day.isoformat(), None)]


async def test_the_chart_is_a_png_a_phone_can_read(world):
    ann, shop, day, _ = await busy_shop(world)
    await world.bot.summaries.tick(now=local(shop, day, 21, 5))
    await world.settle()  # the outbox uploads the chart
    photo = next(m for m in reversed(ann.chat.bot_messages) if m.photo is not None).photo
    image = Image.open(io.BytesIO(photo.data))
    assert image.format == "PNG"
    assert image.size == (1280, 960)
    assert 10_000 < len(photo.data) < 1_000_000
    # Not blank: the bars are there in the revenue (orange) and orders (blue) colours.
    colours = {c for _, c in image.convert("RGB").getcolors(maxcolors=1 << 20)}
    assert (232, 114, 34) in colours and (52, 116, 214) in colours


def test_chart_draws_chinese_and_many_days():
    days = [ChartDay(f"3/{i + 1}", "周一", i * 1000, i, i == 29) for i in range(30)]
    png = render_chart(ChartText("绿山橙园 · 营业额和订单", "近 30 天", "营业额", "订单", "今天截至目前"), days,
                       lambda v: f"¥{v // 100}")
    assert Image.open(io.BytesIO(png)).size == (1280, 960)
    assert nice_ticks(0) == [0, 1] and nice_ticks(7) == [0, 2, 4, 6, 8] and nice_ticks(123456)[-1] >= 123456


async def test_a_summary_that_fits_goes_as_the_charts_caption(world):
    ann = await merchant_with_shop(world)
    oranges = await add_product(ann, "Oranges, 10.00, 50")
    shop = await current_shop(world, ann)
    day = tomorrow(shop)
    await order(world, shop, await buyer(world, "Bob"), [(oranges, 1)], local(shop, day, 10))
    mark = len(ann.chat.bot_messages)
    await world.bot.summaries.tick(now=local(shop, day, 21, 5))
    await world.settle()
    messages = after(ann, mark)
    assert len(messages) == 1 and messages[0].photo is not None
    assert "Orders: 1 · Revenue: CN¥10.00" in messages[0].text and len(messages[0].text) <= 1024


async def test_a_day_without_orders_gets_a_short_useful_summary(world):
    ann = await merchant_with_shop(world)
    oranges = await add_product(ann, "Oranges, 10.00, 3")
    shop = await current_shop(world, ann)
    day = tomorrow(shop)
    viewers = [await buyer(world, n) for n in ("Vic", "Wu")]
    await opens(world, shop, 5, local(shop, day, 20), product_id=oranges, people=viewers)
    mark = len(ann.chat.bot_messages)
    await world.bot.summaries.tick(now=local(shop, day, 21, 5))
    await world.settle()
    messages = after(ann, mark)
    assert len(messages) == 1 and messages[0].photo is None  # no chart of zeros
    text = messages[0].text
    assert "No orders yet today." in text
    assert "Links: 5 opens by 2 people → 0 orders" in text
    assert "Last 14 days: 0 orders, CN¥0.00" in text
    assert "Low stock (5 or fewer): Oranges 3 left" in text
    assert "What to try" in text and "2 people looked but nobody ordered" in text and "Restock" in text
    assert "Top products" not in text and "Compared with" not in text
    assert len(text) < 1000


async def test_a_shop_with_nothing_at_all_is_told_what_to_do_first(world):
    ann = await merchant_with_shop(world)
    shop = await current_shop(world, ann)
    await world.bot.summaries.tick(now=local(shop, tomorrow(shop), 21, 5))
    await world.settle()
    assert "Nobody opened your links" in ann.last.text and "/addproduct" in ann.last.text


async def test_summary_in_chinese_for_a_chinese_owner(world):
    mei = await merchant_with_shop(world, "Mei", "绿山橙园", language_code="zh")
    await mei.send("/addproduct 脐橙, 39.90, 100")
    shop = await current_shop(world, mei)
    day = tomorrow(shop)
    product = (await world.store.products.page(shop.id, 0, 1))[0][0]
    await order(world, shop, await buyer(world, "Bob"), [(product.id, 2)], local(shop, day, 10))
    await world.bot.summaries.tick(now=local(shop, day, 21, 5))
    await world.settle()
    text = summary_text(mei.chat.bot_messages[-2:])
    assert "绿山橙园" in text and "订单：1 · 营业额：¥79.80" in text and "热销商品" in text


# ---------------------------------------------------------------- the schedule

async def test_nothing_is_sent_before_the_summary_time(world):
    ann, shop, day, _ = await busy_shop(world)
    assert await world.bot.summaries.tick(now=local(shop, day, 20, 59)) == 0
    assert await world.store.summaries.runs("shop", shop.id) == []


async def test_at_most_one_daily_summary_even_across_a_restart(world, monkeypatch):
    ann, shop, day, _ = await busy_shop(world)
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 5)) == 1
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 6)) == 0
    # The bot restarts later that evening: its first tick finds today's summary already made.
    monkeypatch.setattr(summaries, "clock", lambda: local(shop, day, 22, 0))
    await world.restart()
    await world.bot.summaries.wait_for_tick(0)
    assert await world.bot.summaries.tick(now=local(shop, day, 23, 59)) == 0
    await world.settle()
    assert len([m for m in ann.chat.bot_messages if m.photo is not None]) == 1
    assert len(await world.store.summaries.runs("shop", shop.id)) == 1
    # The next day has its own.
    assert await world.bot.summaries.tick(now=local(shop, day + timedelta(days=1), 21, 0)) == 1


async def test_a_summary_missed_while_the_bot_was_down_is_sent_when_it_returns_the_same_day(world, monkeypatch):
    ann, shop, day, _ = await busy_shop(world)
    await world.stop()  # down from before 21:00 ...
    monkeypatch.setattr(summaries, "clock", lambda: local(shop, day, 23, 30))
    mark = len(ann.chat.bot_messages)
    await world.start()  # ... back at 23:30: the first tick makes the summary at once
    await world.bot.summaries.wait_for_tick(0)
    await world.settle()
    messages = after(ann, mark)
    assert messages and messages[0].photo is not None
    assert "until 11:30 PM" in summary_text(messages)
    assert "Orders: 3" in summary_text(messages)  # Eve's 21:30 order is in by now
    assert [r[0] for r in await world.store.summaries.runs("shop", shop.id)] == [day.isoformat()]


async def test_a_summary_missed_on_a_day_the_bot_never_came_back_is_not_sent_the_next_morning(world, monkeypatch):
    ann, shop, day, _ = await busy_shop(world)
    await world.stop()
    monkeypatch.setattr(summaries, "clock", lambda: local(shop, day + timedelta(days=1), 10, 0))
    mark = len(ann.chat.bot_messages)
    await world.start()
    await world.bot.summaries.wait_for_tick(0)
    await world.settle()
    assert after(ann, mark) == []
    assert await world.bot.summaries.tick(now=local(shop, day + timedelta(days=1), 21, 1)) == 1
    assert [r[0] for r in await world.store.summaries.runs("shop", shop.id)] == [
        (day + timedelta(days=1)).isoformat()]


async def test_a_chart_telegram_cannot_take_now_is_retried_and_the_text_is_never_lost(world):
    # The outbox sends the chart like any other message: a failed upload is retried, and the
    # summary's texts wait for it rather than overtaking it.
    ann, shop, day, _ = await busy_shop(world)
    world.tg.fail_next("sendPhoto", error_code=502, description="Bad Gateway", chat_id=ann.id)
    mark = len(ann.chat.bot_messages)
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 5)) == 1
    await world.settle()
    messages = after(ann, mark)
    assert len(world.tg.calls_of("sendPhoto", ann.id)) == 2  # failed once, then sent
    assert [m.photo is not None for m in messages][0] is True  # the chart first, whatever follows
    assert len([m for m in messages if m.photo is not None]) == 1
    assert "Orders: 2" in summary_text(messages)
    assert len(await world.store.summaries.runs("shop", shop.id)) == 1


async def test_the_summarys_texts_wait_for_its_chart_while_the_chart_waits_out_a_retry(world):
    ann, shop, day, _ = await busy_shop(world)
    from storage.outbox import Outgoing, Upload
    from handlers.summaries import queue_summary
    from faketg import make_png

    world.tg.fail_next("sendPhoto", error_code=429, retry_after=2, chat_id=ann.id)
    mark = len(ann.chat.bot_messages)
    async with world.store.db.write() as conn:
        await queue_summary(world.store, conn, ann.id, {"caption": "chart"}, make_png(40, 40),
                            [{"text": "first text"}, {"text": "second text"}])
    await world.settle()
    messages = after(ann, mark)
    assert [("photo" if m.photo is not None else m.text) for m in messages] == ["photo", "first text", "second text"]
    assert Outgoing and Upload  # the storage types the queue uses


async def test_a_chart_telegram_refuses_still_leaves_the_summary_going_out_as_text(world):
    ann, shop, day, _ = await busy_shop(world)
    world.tg.fail_next("sendPhoto", error_code=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS",
                       chat_id=ann.id)
    mark = len(ann.chat.bot_messages)
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 5)) == 1
    await world.settle()
    messages = after(ann, mark)
    assert messages and all(m.photo is None for m in messages)
    assert "Orders: 2 · Revenue: CN¥104.80" in summary_text(messages)
    assert messages[-1].buttons[0] == ["Today", "Yesterday", "7 days", "30 days"]
    [(_, delivered, error)] = await world.store.summaries.runs("shop", shop.id)
    assert delivered and error is None


async def test_a_summary_sent_in_the_morning_reports_the_whole_previous_day(world):
    ann, shop, day, _ = await busy_shop(world)
    await ann.send("/settings time 8:00")
    next_day = day + timedelta(days=1)
    assert await world.bot.summaries.tick(now=local(shop, next_day, 7, 59)) == 0
    assert await world.bot.summaries.tick(now=local(shop, next_day, 8, 1)) == 1
    await world.settle()
    text = summary_text(ann.chat.bot_messages[-2:])
    assert "yesterday," in text and "Orders: 3" in text  # the whole day, Eve's late order too
    assert "the day before: orders ▲50%" in text  # the day before had two orders in all


# ---------------------------------------------------------------- /summary

async def test_summary_command_for_each_period(world, monkeypatch):
    ann, shop, day, _ = await busy_shop(world)
    monkeypatch.setattr(summaries, "clock", lambda: local(shop, day, 21, 5))
    expectations = {
        "/summary": ("today,", "Orders: 2 ·"),
        "/summary today": ("today,", "Orders: 2 ·"),
        "/summary yesterday": ("yesterday,", "Orders: 2 ·"),
        "/summary week": ("last 7 days", "Orders: 4 ·"),
        "/summary month": ("last 30 days", "Orders: 5 ·"),
        "/summary 7d": ("last 7 days", "the 7 days before: orders ▲300%"),
    }
    for command, wanted in expectations.items():
        mark = len(ann.chat.bot_messages)
        await ann.send(command)
        text = summary_text(after(ann, mark))
        for part in wanted:
            assert part in text, (command, part, text)
    mark = len(ann.chat.bot_messages)
    await ann.tap("30 days")
    assert "last 30 days" in summary_text(after(ann, mark))


async def test_summary_command_with_a_bad_period_says_what_to_send(world):
    ann = await merchant_with_shop(world)
    await ann.send("/summary fortnight")
    assert "I don't know the period “fortnight”" in ann.last.text and "yesterday" in ann.last.text
    await ann.send("/summary <b>x</b>")
    assert "“<b>x</b>”" in ann.last.text  # shown as typed, not as markup
    assert ann.last.entities_of("bold") == []


async def test_staff_may_read_the_summary_but_not_change_its_settings(world):
    ann, shop, day, _ = await busy_shop(world)
    pat = world.user("Pat")
    await pat.send("/start")
    token = await world.store.staff.invite(shop.id, ann.id)
    await pat.send(f"/start j_{token}")
    mark = len(pat.chat.bot_messages)
    await pat.send("/summary week")
    messages = after(pat, mark)
    assert "last 7 days" in summary_text(messages)
    assert ["⚙️ Summary settings"] not in messages[-1].buttons
    await pat.send("/settings")
    assert "Only the shop's owner can change its settings" in pat.last.text


async def test_a_stranger_cannot_read_a_shops_summary(world):
    ann, shop, day, _ = await busy_shop(world)
    sam = world.user("Sam")
    await sam.send("/summary")
    assert "You don't have a shop yet" in sam.last.text
    await ann.send("/summary")
    forged_on = ann.chat.bot_messages[-1]
    mark = len(sam.chat.bot_messages)
    query = await sam.send_callback(f"sum.p:{shop.id}:month", forged_on)
    assert "can't do that" in query.answer_text
    assert after(sam, mark) == []
    # Nor can the owner of another shop.
    olga = await merchant_with_shop(world, "Olga", "Other shop")
    query = await olga.send_callback(f"sum.p:{shop.id}:today", forged_on)
    assert "can't do that" in query.answer_text


async def test_a_shop_with_summaries_off_gets_none(world):
    ann, shop, day, _ = await busy_shop(world)
    await ann.send("/settings off")
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 5)) == 0
    await ann.send("/settings on")
    assert await world.bot.summaries.tick(now=local(shop, day, 21, 6)) == 1


# ---------------------------------------------------------------- the operator

async def operator_world(tmp_path):
    world = await start_world(tmp_path, admins=frozenset({10001}))
    olga = world.user("Olga")
    assert olga.id == 10001
    await olga.send("/start")
    return world, olga


async def test_operator_summary_is_for_admins_only_on_demand_and_daily(tmp_path, monkeypatch):
    world, olga = await operator_world(tmp_path)
    try:
        ann, shop, day, _ = await busy_shop(world)
        other = await merchant_with_shop(world, "Ben", "Tea Garden")
        tea_shop = await current_shop(world, other)
        leaf = await add_product(other, "Green tea, 30.00, 50")
        await order(world, tea_shop, await buyer(world, "Flo"), [(leaf, 1)], local(tea_shop, day, 12))
        monkeypatch.setattr(summaries, "clock", lambda: local(shop, day, 21, 40))
        await olga.send("/admin")
        text = olga.last.text
        assert "All shops" in text and "Shops with orders: 2 of 2" in text
        # Ann's 2 + Eve's late one + Ben's 1; yesterday by 21:40 had 1.
        assert "Orders: 4 (▲300% on yesterday at this time)" in text
        assert "Revenue: CN¥254.50" in text
        assert "1. Green Hill Oranges: 3 orders" in text and "2. Tea Garden: 1 order" in text
        assert "Green Hill Oranges · link 1 (Spring tea): 10 opens → 1 order (10%)" in text
        await olga.send("/admin week")
        assert "last 7 days" in olga.last.text
        await olga.send("/admin someday")
        assert "I don't know the period" in olga.last.text
        # Everyone else: the command does not exist.
        await ann.send("/admin")
        assert "I don't know that command" in ann.last.text
        query = await ann.send_callback("adm.p:today", ann.last)
        assert "can't do that" in query.answer_text
        # Daily at 21:30 in the configured time zone, once.
        mark = len(olga.chat.bot_messages)
        assert await world.bot.summaries.tick(now=local(shop, day, 21, 20)) == 2  # Ann's and Ben's at 21:00
        assert await world.bot.summaries.tick(now=local(shop, day, 21, 31)) == 1  # the operator's
        assert await world.bot.summaries.tick(now=local(shop, day, 21, 45)) == 0
        await world.settle()
        daily = after(olga, mark)
        assert len(daily) == 1 and "All shops" in daily[0].text
        assert "All shops" not in summary_text(ann.chat.bot_messages[-3:])
    finally:
        await world.stop()


# ---------------------------------------------------------------- pure figures

def test_periods_and_comparisons_in_the_shops_time_zone():
    zone = "Asia/Shanghai"
    now = datetime(2025, 3, 14, 21, 5, tzinfo=ZoneInfo(zone)).timestamp()
    today = period_for("today", now, zone)
    assert today.first_day == today.last_day == date(2025, 3, 14) and today.end == now and today.partial
    start, end = today.shifted(7)
    assert datetime.fromtimestamp(start, ZoneInfo(zone)) == datetime(2025, 3, 7, tzinfo=ZoneInfo(zone))
    assert end == now - 7 * 86400
    week = period_for("week", now, zone)
    assert week.first_day == date(2025, 3, 8) and week.comparisons() == [("previous", 7)]
    assert len(week.day_bounds()) == 14
    assert daily_period(now, zone, 8 * 60).kind == "yesterday" and daily_period(now, zone, 21 * 60).kind == "today"


def test_a_day_across_a_daylight_saving_change_is_compared_by_the_clock():
    zone = "Europe/London"  # clocks went forward on 30 March 2025
    now = datetime(2025, 3, 31, 21, 0, tzinfo=ZoneInfo(zone)).timestamp()
    start, end = period_for("today", now, zone).shifted(1)
    assert datetime.fromtimestamp(end, ZoneInfo(zone)).hour == 21
    assert end - start == 20 * 3600  # the 30th started in winter time: 21 h wall clock minus the lost hour


def test_figures_arithmetic():
    assert Figures(orders=3, revenue=1000).average_order == 333
    assert Figures(orders=2, revenue=1001).average_order == 501  # half up
    assert Figures().average_order == 0
    assert percent_change(5, 0) is None and percent_change(15, 10) == 50 and percent_change(5, 10) == -50
    assert parse_period("") == "today" and parse_period("昨天") == "yesterday" and parse_period("soon") is None
    assert fits_caption("<b>" + "x" * 1024 + "</b>") and not fits_caption("x" * 1025)
    assert fits_caption("&lt;" * 1024)


@pytest.mark.parametrize("kind", ["today", "yesterday", "week", "month"])
def test_every_period_ends_after_it_starts(kind):
    now = datetime(2025, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
    period = period_for(kind, now, "Asia/Shanghai")
    assert period.start < period.end <= now


async def test_a_comparison_with_a_period_without_orders_reads_naturally(world, monkeypatch):
    ann, shop, day, _ = await busy_shop(world)
    monkeypatch.setattr(summaries, "clock", lambda: local(shop, day, 21, 5))
    mark = len(ann.chat.bot_messages)
    await ann.send("/summary month")
    text = summary_text(after(ann, mark))
    assert "the 30 days before: no orders then" in text
    assert "none then" not in text and "(then 0 orders" not in text
