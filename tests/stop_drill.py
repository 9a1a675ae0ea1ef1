"""Stop drill: the crash drill's flash sale, with SIGTERM in place of SIGKILL.

A graceful stop must stop fetching updates, finish the handlers in flight and record them, start
no other update (those wait, stored, for the restart), let the outbox finish what it is sending and
exit within 10 s. So after a SIGTERM in the middle of a sale and a restart, no handler was cut
short, every update was handled exactly once (every tap answered once, every card sent once),
every buyer has one receipt or one sold-out answer, and the owner heard of each order exactly once.
The set-up and the buyers are the crash drill's (tests/crash_drill.py).

    .venv/bin/python tests/stop_drill.py --buyers 300 --stock 100
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from faketg import FakeTelegram  # noqa: E402
from storage import Store  # noqa: E402
from tests.crash_drill import (  # noqa: E402
    TOKEN,
    free_port,
    has_button,
    outcome,
    owner_heard,
    start_bot,
    wait_for,
)

STOP_BOUND = 10.0  # seconds from SIGTERM to the process gone


def answer_text(person, answers: dict[int, int]) -> str:
    """The text of the message that holds this buyer's answer (receipt, or sold out)."""
    message_id = answers.get(person.id)
    return (person.chat.get(message_id).text or "") if message_id is not None else ""


@dataclass
class StopDrillResult:
    buyers: int
    stock: int
    orders: int
    units: int
    stock_left: int
    receipts: int
    sold_out_answers: int
    unanswered: int
    owner_notices: int
    duplicate_notices: int
    duplicate_receipts: int
    callbacks_answered_twice: int  # a tap whose update was handled twice is answered twice
    callbacks_unanswered: int
    cards_sent_twice: int  # a /start handled twice sends the product card twice
    unprocessed_updates: int
    replayed_updates: int  # stored but not started when the stop came: handled after the restart
    handlers_cut_short: int  # handlers a stop cancelled: 0 when every one finished in time
    stops: int
    stop_seconds: list[float]
    exit_codes: list[int]
    in_flight_at_stop: int  # buyers past "Confirm order" without an answer when SIGTERM was sent
    seconds: float


async def _seed(database: Path, tg: FakeTelegram, buyers: int, stock: int):
    owner = tg.user("Owner")
    people = [tg.user(f"Buyer{i}") for i in range(buyers)]
    store = await Store.open(database)
    await store.users.seen(owner.id, owner.first_name, None, "en")
    shop = await store.shops.create(owner.id, "Flash Orchard", "CNY", "Asia/Shanghai")
    product = await store.products.create(shop.id, "Flash oranges", 990, stock)
    await store.live.pin(shop.id, 1, product.id)
    for person in people:
        await store.users.seen(person.id, person.first_name, None, "en")
    async with store.db.write() as conn:
        await conn.executemany("UPDATE users SET phone = '+8613800138000', recipient = ?, address = '8 Orchard Lane' "
                               "WHERE id = ?", [(p.first_name, p.id) for p in people])
    await store.close()
    return owner, people, shop, product


async def _terminate(process: subprocess.Popen, timeout: float = 30.0) -> tuple[float, int]:
    """SIGTERM; returns (seconds until the process was gone, exit code)."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = await asyncio.to_thread(process.wait, timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        code = await asyncio.to_thread(process.wait)
    return time.monotonic() - began, code


async def run_stop_drill(workdir: Path, buyers: int = 300, stock: int = 100, stop_at: float = 0.4) -> StopDrillResult:
    began = time.monotonic()
    port = free_port()
    tg = FakeTelegram()
    server = uvicorn.Server(uvicorn.Config(tg, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    await wait_for(lambda: server.started, "the fake Telegram to listen", 10)

    database = workdir / "drill.sqlite3"
    config = workdir / "config.toml"
    config.write_text(
        f'[bot]\ntoken = "{TOKEN}"\n[storage]\ndatabase = "{database}"\n'
        f'[telegram]\napi_base_url = "http://127.0.0.1:{port}/bot"\n'
        f'file_base_url = "http://127.0.0.1:{port}/file/bot"\n'
        "[limits]\nsends_per_second = 1000.0\nupdates_per_user_per_minute = 1000\n", encoding="utf-8")
    owner, people, shop, product = await _seed(database, tg, buyers, stock)

    log = workdir / "bot.log"
    process = start_bot(config, log)
    stop_seconds: list[float] = []
    answer_messages: dict[int, int] = {}  # buyer -> the message holding their answer
    exit_codes: list[int] = []
    confirms_sent = 0
    answered = 0
    in_flight_at_stop = 0
    stop_after = max(1, int(min(buyers, stock) * stop_at))  # only buyers who hold a unit confirm
    stopping = asyncio.Event()

    async def buyer(person) -> None:
        nonlocal confirms_sent, answered
        await person.send(f"/start l_{shop.slug}_1")
        card = await wait_for(lambda: has_button(person, "Buy now") or has_button(person, "Tell me when it's back"),
                              f"{person.first_name}'s card")
        answer_messages[person.id] = card.message_id
        if has_button(person, "Tell me when it's back"):
            return  # every unit is held or sold already: the card says so at once
        await person.tap("Buy now", message=card)
        confirm = await wait_for(lambda: has_button(person, "Confirm order") or has_button(person, "Tell me when it's back"),
                                 f"{person.first_name}'s confirmation or sold-out card")
        if has_button(person, "Tell me when it's back"):
            return  # nothing left to hold: told at Buy now, never confirmed
        answer_messages[person.id] = confirm.message_id
        await person.tap("Confirm order", message=confirm)
        confirms_sent += 1
        if confirms_sent == stop_after:
            stopping.set()
        await wait_for(lambda: outcome(person, confirm.message_id), f"{person.first_name}'s receipt or answer")
        answered += 1

    async def stopper() -> None:
        nonlocal process, in_flight_at_stop
        await stopping.wait()
        in_flight_at_stop = confirms_sent - answered
        seconds, code = await _terminate(process)
        stop_seconds.append(seconds)
        exit_codes.append(code)
        await asyncio.sleep(0.3)
        process = start_bot(config, log)

    try:
        await asyncio.gather(stopper(), *(buyer(p) for p in people))
        await wait_for(lambda: owner_heard(owner) >= min(buyers, stock), "the owner's notices", 60)
        await asyncio.sleep(1.5)  # anything sent twice would show up by now
        seconds, code = await _terminate(process)  # the end of the day: a graceful stop as well
        stop_seconds.append(seconds)
        exit_codes.append(code)
    finally:
        if process.poll() is None:
            process.kill()
        server.should_exit = True
        await serving

    store = await Store.open(database)
    try:
        orders = await store.db.fetch_value("SELECT count(*) FROM orders")
        units = await store.db.fetch_value("SELECT coalesce(sum(units), 0) FROM orders")
        stock_left = (await store.products.get(product.id)).stock
        unprocessed = await store.db.fetch_value("SELECT count(*) FROM inbox WHERE processed_at IS NULL")
    finally:
        await store.close()
    # Judged on the message each buyer acted on (a replayed /start may show a card again below it).
    receipts = sum(1 for p in people if "placed" in answer_text(p, answer_messages))
    sold_out = sum(1 for p in people if "sold out" in answer_text(p, answer_messages).lower())
    receipt_edits = [c for c in tg.calls_of("editMessageText", ok=True) if "placed" in str(c.params.get("text"))]
    singles = [m.text for m in owner.chat.bot_messages if "New order #" in (m.text or "")]
    numbers = [t.split("#")[1].split()[0] for t in singles]
    answers = Counter(str(c.params.get("callback_query_id")) for c in tg.calls_of("answerCallbackQuery", ok=True))
    cards = Counter(c.chat_id for c in tg.calls if c.method in ("sendMessage", "sendPhoto")
                    and c.ok and c.chat_id != owner.id)
    log_lines = log.read_text(errors="replace").splitlines()
    replayed = sum(int(line.split("replaying ")[1].split()[0]) for line in log_lines
                   if "replaying " in line and "stored update(s)" in line)
    cut_short = sum(int(line.split("stopped with ")[1].split()[0]) for line in log_lines
                    if "handler(s) cut short" in line)
    return StopDrillResult(
        buyers=buyers, stock=stock, orders=orders, units=units, stock_left=stock_left, receipts=receipts,
        sold_out_answers=sold_out, unanswered=buyers - receipts - sold_out, owner_notices=owner_heard(owner),
        duplicate_notices=len(numbers) - len(set(numbers)), duplicate_receipts=len(receipt_edits) - receipts,
        callbacks_answered_twice=sum(1 for n in answers.values() if n > 1),
        callbacks_unanswered=sum(1 for q in tg.callback_queries.values() if not q.answered),
        cards_sent_twice=sum(1 for n in cards.values() if n > 1), unprocessed_updates=unprocessed,
        replayed_updates=replayed, handlers_cut_short=cut_short, stops=len(stop_seconds),
        stop_seconds=stop_seconds, exit_codes=exit_codes,
        in_flight_at_stop=in_flight_at_stop, seconds=time.monotonic() - began)


def passed(result: StopDrillResult) -> bool:
    return (result.orders == result.receipts == min(result.buyers, result.stock) and result.unanswered == 0
            and result.units + result.stock_left == result.stock and result.duplicate_notices == 0
            and result.owner_notices == result.orders and result.duplicate_receipts == 0
            and result.callbacks_answered_twice == 0 and result.callbacks_unanswered == 0
            and result.cards_sent_twice == 0 and result.unprocessed_updates == 0 and result.handlers_cut_short == 0
            and all(s < STOP_BOUND for s in result.stop_seconds) and set(result.exit_codes) == {0})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--stock", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run_stop_drill(Path(tmp), args.buyers, args.stock))
    for name, value in vars(result).items():
        print(f"{name:>24}: {value:.1f}" if isinstance(value, float) else f"{name:>24}: {value}")
    ok = passed(result)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
