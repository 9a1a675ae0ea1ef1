"""`./run bot` with a config that cannot work says so in one line and stops: no traceback, no hang.

bot.py runs as a real process here, as an operator starts it."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import sys
from pathlib import Path

import uvicorn

from faketg import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent
GOOD_TOKEN = "123456789:the-token-the-fake-telegram-knows"
WRONG_TOKEN = "987654321:a-token-telegram-has-never-issued-xx"
PATIENCE = 60  # far above the bot's own 25 s limit: a hang fails the test instead of stalling it


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def run_bot(config: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if k != "LIVECART_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "--config", str(config), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(process.communicate(), PATIENCE)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"bot.py still running after {PATIENCE} s: it hangs") from None
    return process.returncode, err.decode()


def config_at(tmp_path: Path, token: str, base: str) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(f'[bot]\ntoken = "{token}"\n[storage]\ndatabase = "{tmp_path / "db.sqlite3"}"\n'
                      f'[telegram]\napi_base_url = "{base}/bot"\nfile_base_url = "{base}/file/bot"\n',
                      encoding="utf-8")
    return config


def own_lines(stderr: str) -> list[str]:
    """What bot.py printed itself (log records carry a timestamp and a level)."""
    return [line for line in stderr.splitlines() if line.strip() and not line[:4].isdigit()]


async def test_the_example_config_copied_unchanged_stops_with_one_line_about_the_token(tmp_path):
    config = tmp_path / "config.toml"
    shutil.copy(ROOT / "config.example.toml", config)
    code, err = await run_bot(config)
    assert code != 0 and "Traceback" not in err
    assert own_lines(err) == [own_lines(err)[0]] and "bot.token" in err and "placeholder" in err


async def test_a_token_telegram_rejects_says_401_in_one_line(tmp_path):
    port = free_port()
    tg = FakeTelegram(token=GOOD_TOKEN)
    server = uvicorn.Server(uvicorn.Config(tg, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        code, err = await run_bot(config_at(tmp_path, WRONG_TOKEN, f"http://127.0.0.1:{port}"))
    finally:
        server.should_exit = True
        await serving
    assert code != 0 and "Traceback" not in err
    lines = own_lines(err)
    assert len(lines) == 1 and "bot.token" in lines[0] and "401" in lines[0], err


async def test_telegram_unreachable_says_what_to_check_in_one_line(tmp_path):
    base = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    code, err = await run_bot(config_at(tmp_path, GOOD_TOKEN, base))
    assert code != 0 and "Traceback" not in err
    lines = own_lines(err)
    assert len(lines) == 1, err
    assert "cannot reach Telegram" in lines[0] and base in lines[0] and "network" in lines[0]
    assert "api_base_url" in lines[0]


async def test_telegram_that_accepts_but_never_answers_stops_the_bot_after_the_startup_timeout(tmp_path):
    """A firewall that swallows packets, a proxy that hangs: the bot says so instead of waiting."""
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    config = config_at(tmp_path, GOOD_TOKEN, base)
    config.write_text(config.read_text(encoding="utf-8") + "startup_timeout = 2\n", encoding="utf-8")
    try:
        code, err = await run_bot(config)
    finally:
        silent.close()
    assert code != 0 and "Traceback" not in err
    lines = own_lines(err)
    assert len(lines) == 1 and "cannot reach Telegram" in lines[0] and "no answer within 2 s" in lines[0], err


async def test_a_second_polling_process_on_the_same_database_is_refused_in_one_line(tmp_path):
    """Telegram lets one process fetch updates; two on one database would race over the inbox."""
    from runtime.single_poller import PollerLock

    config = config_at(tmp_path, GOOD_TOKEN, f"http://127.0.0.1:{free_port()}")
    first = PollerLock(tmp_path / "db.sqlite3")  # as a running bot holds it
    first.acquire_now()
    try:
        code, err = await run_bot(config)
    finally:
        first.release_now()
    assert code == 2 and "Traceback" not in err, err  # 2: systemd does not restart it in a loop
    lines = own_lines(err)
    assert len(lines) == 1 and "already polling" in lines[0] and f"pid {os.getpid()}" in lines[0], err
    assert not (tmp_path / "db.sqlite3").exists(), "refused before it opened (or migrated) the database"
