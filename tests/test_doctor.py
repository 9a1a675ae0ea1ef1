"""`bot.py doctor` against a good set-up and broken ones (a refused token, a corrupt database, no font)."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import uvicorn

from core import fonts
from faketg import FakeTelegram
from runtime.doctor import run_doctor
from storage import Store
from storage.db import LATEST_VERSION

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:DOCTOR-token-for-the-fake-telegram"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def telegram():
    """The fake Telegram over real HTTP (its answers carry a Date, as Telegram's do); only TOKEN is valid."""
    tg = FakeTelegram(token=TOKEN)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(tg, host="127.0.0.1", port=port, lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield tg, port
    finally:
        server.should_exit = True
        await serving


async def set_up(tmp_path: Path, port: int, token: str = TOKEN, extra: str = "") -> Path:
    database = tmp_path / "livecart.sqlite3"
    store = await Store.open(database)
    await store.close()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\ntoken = "{token}"\n[storage]\ndatabase = "{database}"\n'
        f'[telegram]\napi_base_url = "http://127.0.0.1:{port}/bot"\n'
        f'[backup]\nevery = "6h"\ndirectory = "{tmp_path / "backups"}"\n{extra}', encoding="utf-8")
    return config


async def doctor(config: Path) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = await run_doctor(config, out)
    return code, out.getvalue().splitlines()


def line(lines: list[str], check: str) -> str:
    found = [entry for entry in lines if entry.split(":")[0].split()[-1] == check]
    assert len(found) == 1, lines
    return found[0]


@pytest.fixture
def cjk_font():
    if not fonts.has_cjk_font():
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei; .ci/run does)")


async def test_doctor_passes_a_good_set_up_with_one_line_per_check(tmp_path, telegram, cjk_font):
    tg, port = telegram
    code, lines = await doctor(await set_up(tmp_path, port))
    assert code == 0, lines
    assert line(lines, "token").startswith("OK") and "@livecart_test_bot" in line(lines, "token")
    assert line(lines, "webhook").startswith("OK   webhook: none set")
    assert line(lines, "database").startswith("OK") and f"schema version {LATEST_VERSION} (current)" in lines[3]
    assert line(lines, "disk").startswith("OK") and " free on " in line(lines, "disk")
    assert line(lines, "font").startswith("OK")
    assert line(lines, "clock").startswith("OK   clock: within")
    assert line(lines, "backups").startswith("WARN") and "first when it starts" in line(lines, "backups")
    assert lines[-1] == "all checks passed"


async def test_doctor_fails_when_telegram_refuses_the_token(tmp_path, telegram, cjk_font):
    tg, port = telegram
    code, lines = await doctor(await set_up(tmp_path, port, token="123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-wrong"))
    assert code == 1
    assert line(lines, "token").startswith("FAIL token: Telegram refused the token (401")
    assert "@BotFather" in line(lines, "token")
    assert line(lines, "database").startswith("OK")  # the other checks still ran
    assert lines[-1].startswith("2 problem(s): token, webhook")


async def test_doctor_fails_on_a_corrupt_database_and_says_to_restore_a_backup(tmp_path, telegram, cjk_font):
    tg, port = telegram
    config = await set_up(tmp_path, port)
    database = tmp_path / "livecart.sqlite3"
    with database.open("r+b") as f:  # a disk fault overwrote the pages after the header
        f.seek(100)
        f.write(os.urandom(database.stat().st_size - 100))
    before = database.read_bytes()
    code, lines = await doctor(config)
    assert code == 1
    assert line(lines, "database").startswith("FAIL database:")
    assert "restore the newest backup" in line(lines, "database")
    assert database.read_bytes() == before  # the doctor looks, never touches


async def test_doctor_fails_without_a_cjk_font(tmp_path, telegram, monkeypatch):
    tg, port = telegram
    monkeypatch.setattr(fonts, "find_cjk_font", lambda: None)
    code, lines = await doctor(await set_up(tmp_path, port))
    assert code == 1
    assert line(lines, "font").startswith("FAIL font: no CJK font")
    assert "apt-get install fonts-wqy-microhei" in line(lines, "font")


async def test_doctor_warns_when_telegram_has_another_webhook_than_the_config(tmp_path, telegram, cjk_font):
    tg, port = telegram
    tg.webhook["url"] = "https://old.example.com/hook"
    code, lines = await doctor(await set_up(tmp_path, port))
    assert code == 0
    assert line(lines, "webhook").startswith("WARN webhook: Telegram has a webhook at https://old.example.com/hook")


async def test_doctor_names_a_broken_config_setting(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[bot]\ntoken = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"\n[backup]\nevery = "often"\n')
    code, lines = await doctor(config)
    assert code == 1
    assert lines[0] == 'FAIL config: backup.every: must be a duration such as "30m", "6h" or "1d"'


async def test_bot_py_doctor_prints_the_checks_and_exits_non_zero_on_a_problem(tmp_path, telegram):
    tg, port = telegram
    config = await set_up(tmp_path, port, token="123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-wrong")
    env = {k: v for k, v in os.environ.items() if k != "LIVECART_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bot.py"), "--config", str(config), "doctor",
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stdout, stderr = await process.communicate()
    assert process.returncode == 1, stderr
    lines = stdout.decode().splitlines()
    assert [entry.split(":")[0].split()[-1] for entry in lines[:-1]] == [
        "config", "token", "webhook", "database", "disk", "font", "clock", "backups"]
    assert line(lines, "token").startswith("FAIL")
