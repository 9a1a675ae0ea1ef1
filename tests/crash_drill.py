"""Crash drill: the real bot process, the fake Telegram over real HTTP, a flash sale, SIGKILL.

Several hundred returning buyers open link 1 and check out at once; in the middle the bot is
killed with SIGKILL and started again. Afterwards every buyer holds a receipt or a clear sold-out
answer, orders = receipts, stock + units sold = the starting stock, and the owner heard of each
order exactly once.

    .venv/bin/python tests/crash_drill.py --buyers 500 --stock 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvicorn  # noqa: E402

from faketg import FakeTelegram  # noqa: E402
from storage import Store  # noqa: E402

TOKEN = "123456789:CRASH-drill-token-for-the-fake"
STEP_TIMEOUT = 90.0


@dataclass
class DrillResult:
    buyers: int
    stock: int
    orders: int
    units: int
    stock_left: int
    receipts: int
    sold_out_answers: int
    unanswered: int
    owner_notices: int  # orders the owner heard of (single notices + orders folded into digests)
    duplicate_notices: int
    duplicate_receipts: int
    unprocessed_updates: int
    kills: int
    seconds: float


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def wait_for(predicate, what: str, timeout: float = STEP_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        await asyncio.sleep(0.02)
    raise TimeoutError(f"waited {timeout:.0f}s for {what}")


def has_button(user, text: str):
    for message in reversed(user.chat.bot_messages):
        for row in message.buttons:
            if any(text in b for b in row):
                return message
    return None


def start_bot(config: Path, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "LIVECART_TOKEN"}
    return subprocess.Popen([sys.executable, str(ROOT / "bot.py"), "--config", str(config)], cwd=ROOT,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env)


async def run_drill(workdir: Path, buyers: int = 300, stock: int = 100, kill_at: float = 0.4) -> DrillResult:
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
        # The owner's chat gets Telegram's real pace, so a burst of orders folds into digests.
        "[limits]\nsends_per_second = 1000.0\nupdates_per_user_per_minute = 1000\n", encoding="utf-8")

    # The shop and its returning buyers, set up before the sale.
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

    log = workdir / "bot.log"
    process = start_bot(config, log)
    kills = 0
    answer_messages: dict[int, int] = {}  # buyer -> the message holding their answer
    confirms_sent = 0
    kill_after = max(1, int(min(buyers, stock) * kill_at))  # only buyers who hold a unit confirm
    killed = asyncio.Event()

    async def buyer(person) -> None:
        nonlocal confirms_sent
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
            return  # nothing left to hold: told at Buy now
        answer_messages[person.id] = confirm.message_id
        await person.tap("Confirm order", message=confirm)
        confirms_sent += 1
        if confirms_sent == kill_after:
            killed.set()
        await wait_for(lambda: outcome(person, confirm.message_id), f"{person.first_name}'s receipt or answer")

    async def killer() -> None:
        nonlocal process, kills
        await killed.wait()
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        await asyncio.sleep(0.3)
        process = start_bot(config, log)

    try:
        await asyncio.gather(killer(), *(buyer(p) for p in people))
        # Let the outbox finish the owner's notices (digests come at Telegram's pace for one chat).
        await wait_for(lambda: owner_heard(owner) >= min(buyers, stock), "the owner's notices", 60)
        await asyncio.sleep(1.5)  # anything sent twice would show up by now
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
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
    return DrillResult(
        buyers=buyers, stock=stock, orders=orders, units=units, stock_left=stock_left, receipts=receipts,
        sold_out_answers=sold_out, unanswered=buyers - receipts - sold_out, owner_notices=owner_heard(owner),
        duplicate_notices=len(numbers) - len(set(numbers)), duplicate_receipts=len(receipt_edits) - receipts,
        unprocessed_updates=unprocessed, kills=kills, seconds=time.monotonic() - began)


def outcome(person, message_id: int) -> bool:
    text = person.chat.get(message_id).text or ""
    return "placed" in text or "Nothing was ordered" in text


def answer_text(person, answers: dict[int, int]) -> str:
    """The text of the message that holds this buyer's answer (receipt, or sold out)."""
    message_id = answers.get(person.id)
    return (person.chat.get(message_id).text or "") if message_id is not None else ""


def owner_heard(owner) -> int:
    heard = 0
    for message in owner.chat.bot_messages:
        text = message.text or ""
        if "New order #" in text:
            heard += 1
        elif "new orders" in text or "new order " in text:
            heard += int(text.split()[1])
    return heard


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=300)
    parser.add_argument("--stock", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run_drill(Path(tmp), args.buyers, args.stock))
    for name, value in vars(result).items():
        print(f"{name:>20}: {value:.1f}" if isinstance(value, float) else f"{name:>20}: {value}")
    ok = (result.orders == result.receipts == min(result.buyers, result.stock) and result.unanswered == 0
          and result.units + result.stock_left == result.stock and result.duplicate_notices == 0
          and result.owner_notices == result.orders and result.unprocessed_updates == 0)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
