"""What the operator sees: /metrics in Prometheus' format and /healthz, scraped as Prometheus would."""

from __future__ import annotations

import asyncio
import math
import socket
from dataclasses import replace

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.config import MetricsConfig, WebhookConfig
from runtime import metrics
from storage.outbox import Outgoing
from tests.harness import fake_request, make_config, start_world
from tests.stories import place_order, save_delivery, shop_with_product_on_link


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(scrape: dict, name: str, **labels: str) -> float:
    return scrape.get((name, tuple(sorted(labels.items()))), 0.0)


async def scrape(app, path: str = "/metrics") -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ops") as client:
        return await client.get(path)


async def metrics_of(world) -> dict:
    response = await scrape(world.bot.ops)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


async def wait_until(predicate, what: str) -> None:
    for _ in range(5000):
        if predicate():
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"never happened: {what}")


async def test_metrics_count_updates_handling_orders_sold_out_answers_and_api_calls(world):
    before = await metrics_of(world)
    ann, shop, product_id = await shop_with_product_on_link(world, "Oranges, 39.90, 1")
    bob, cat = world.user("Bob"), world.user("Cat")
    await save_delivery(world, cat)
    await cat.send(f"/start l_{shop.slug}_1")  # Cat sees the last box...
    await place_order(world, bob, shop)  # ...Bob buys it...
    query = await cat.tap("Buy now")  # ...and Cat is told it is sold out
    assert "sold out" in query.answer_text.lower()
    await world.settle()
    after = await metrics_of(world)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("livecart_updates_received_total") >= 8
    assert grew("livecart_updates_handled_total", result="ok") == grew("livecart_updates_received_total")
    assert grew("livecart_update_handling_seconds_count") == grew("livecart_updates_received_total")
    assert value(after, "livecart_orders_placed") == 1
    assert grew("livecart_sold_out_answers_total") == 1
    assert grew("livecart_bot_api_calls_total", method="sendMessage", outcome="ok") >= 3
    assert grew("livecart_bot_api_calls_total", method="answerCallbackQuery", outcome="ok") >= 4
    assert grew("livecart_outbox_sent_total") >= 1  # the owner's notice
    assert value(after, "livecart_inbox_backlog") == 0 and value(after, "livecart_outbox_backlog") == 0
    assert value(after, "livecart_send_budget_per_second") == world.config.limits.sends_per_second
    assert ("livecart_send_rate_per_second", ()) in after and ("livecart_send_budget_used_ratio", ()) in after
    assert value(after, "livecart_holds_open") == 0  # Bob's hold became his order
    assert value(after, "process_resident_memory_bytes") > 0


async def test_metrics_count_api_calls_by_outcome_429_5xx_and_blocked(world):
    ann = world.user("Ann")
    await ann.send("/start")
    before = await metrics_of(world)
    world.tg.fail_next("sendMessage", 429, retry_after=1)
    await ann.send("/help")
    world.tg.fail_next("sendMessage", 502)
    await ann.send("/help")
    world.tg.fail_next("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    await ann.send("/help")
    after = await metrics_of(world)
    for outcome in ("429", "5xx", "blocked"):
        grown = (value(after, "livecart_bot_api_calls_total", method="sendMessage", outcome=outcome)
                 - value(before, "livecart_bot_api_calls_total", method="sendMessage", outcome=outcome))
        assert grown == 1, outcome


async def test_outbox_backlog_and_its_oldest_age_show_and_healthz_names_a_stuck_outbox(world, monkeypatch):
    ann = world.user("Ann")
    await ann.send("/start")
    assert (await scrape(world.bot.ops, "/healthz")).text == "ok\n"
    await world.bot.outbox.stop()  # the sender dies: messages queue up and nothing goes out
    for n in range(3):
        await world.store.outbox.send_later(Outgoing(ann.id, "sendMessage", {"text": f"note {n}"}))
    queued = await metrics_of(world)
    assert value(queued, "livecart_outbox_backlog") == 3 and value(queued, "livecart_outbox_due") == 3
    assert value(queued, "livecart_outbox_oldest_age_seconds") >= 0
    healthy = await scrape(world.bot.ops, "/healthz")
    assert healthy.status_code == 200  # queued a moment ago: not stuck yet

    later = metrics.clock() + world.config.metrics.stuck_after + 5
    monkeypatch.setattr(metrics, "clock", lambda: later)
    stuck = await scrape(world.bot.ops, "/healthz")
    assert stuck.status_code == 503
    assert "outbox stuck: 3 message(s) due, none sent for" in stuck.text
    assert value(await metrics_of(world), "livecart_healthy") == 0

    world.bot.outbox.start()  # the sender runs again and catches up
    await world.settle()
    assert [m.text for m in ann.chat.bot_messages[-3:]] == ["note 0", "note 1", "note 2"]
    polls = world.tg.count("getUpdates")
    await wait_until(lambda: world.tg.count("getUpdates") >= polls + 2, "a getUpdates answered after the clock moved")
    recovered = await scrape(world.bot.ops, "/healthz")
    assert (recovered.status_code, recovered.text) == (200, "ok\n")


async def test_healthz_names_updates_that_wait_with_none_handled(world, monkeypatch):
    ann = world.user("Ann")
    # Stored but never handed to a worker: what a wedged update path leaves behind.
    await world.store.inbox.store([{"update_id": 990_001, "message": {
        "message_id": 1, "date": 0, "chat": {"id": ann.id, "type": "private"},
        "from": {"id": ann.id, "is_bot": False, "first_name": "Ann"}, "text": "/help"}}])
    assert value(await metrics_of(world), "livecart_inbox_backlog") == 1
    assert (await scrape(world.bot.ops, "/healthz")).status_code == 200
    later = metrics.clock() + world.config.metrics.stuck_after + 5
    monkeypatch.setattr(metrics, "clock", lambda: later)
    stuck = await scrape(world.bot.ops, "/healthz")
    assert stuck.status_code == 503
    assert "updates stuck: 1 stored update(s) waiting, none handled for" in stuck.text


async def test_healthz_says_when_updates_are_not_being_fetched(world, monkeypatch):
    world.tg.fail_next("getUpdates", 502, times=1_000_000)
    failed = world.tg.count("getUpdates", ok=False)
    await wait_until(lambda: world.tg.count("getUpdates", ok=False) > failed, "a failed getUpdates")
    later = metrics.clock() + world.config.metrics.stuck_after + 60
    monkeypatch.setattr(metrics, "clock", lambda: later)
    stuck = await scrape(world.bot.ops, "/healthz")
    assert stuck.status_code == 503 and "not fetching updates" in stuck.text
    world.tg.clear_faults()


async def test_polling_mode_serves_metrics_and_healthz_on_the_configured_local_port(tmp_path):
    port = free_port()
    world = await start_world(tmp_path, metrics=MetricsConfig(listen="127.0.0.1", port=port))
    try:
        await world.user("Ann").send("/start")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            scraped = samples((await client.get("/metrics")).text)
            health = await client.get("/healthz")
            post = await client.post("/metrics")
        assert value(scraped, "livecart_updates_received_total") >= 1
        assert (health.status_code, health.text) == (200, "ok\n")
        assert post.status_code == 405
    finally:
        await world.stop()


async def test_webhook_server_answers_metrics_and_healthz_beside_the_webhook(tmp_path):
    from faketg import FakeTelegram
    from runtime.livecart import Livecart

    port = free_port()
    config = replace(make_config(tmp_path), mode="webhook",
                     webhook=WebhookConfig(url="https://shop.example/hook", listen="127.0.0.1", port=port,
                                           secret_token="t" * 40))
    tg = FakeTelegram()
    bot = Livecart(config, request=fake_request(tg), updates_request=fake_request(tg, 4))
    await bot.start(polling=False)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            scraped = await client.get("/metrics")
            health = await client.get("/healthz")
            unknown = await client.get("/other")
        assert scraped.status_code == 200 and "livecart_bot_api_calls_total" in scraped.text
        assert (health.status_code, health.text) == (200, "ok\n")  # no getUpdates expected in webhook mode
        assert unknown.status_code == 404
    finally:
        await bot.stop()


def test_send_rate_is_the_last_ten_seconds_of_sends_and_keeps_no_older_counts(monkeypatch):
    now = [1_800_000_000.5]
    monkeypatch.setattr(metrics, "clock", lambda: now[0])
    metrics.bot_started("polling", 25.0)
    url = "http://faketg/bot123:abc/sendMessage"
    for second in range(30):  # 3 messages a second for 30 s
        now[0] = 1_800_000_000.5 + second
        for _ in range(3):
            metrics.api_call(url, 200)
    metrics.api_call("http://faketg/bot123:abc/answerCallbackQuery", 200)  # not a message
    metrics.api_call(url, 429)  # not sent
    now[0] += 1
    assert metrics.send_rate() == 3.0
    assert len(metrics.progress.send_buckets) <= metrics.RATE_WINDOW + 1
    now[0] += 60  # a quiet minute
    assert metrics.send_rate() == 0.0
