"""Start-up configuration: every bad setting stops the bot with one clear line and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
GOOD_TOKEN = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run_bot(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bot.py"), *args], capture_output=True, text=True,
                          timeout=60, env=env or {"PATH": "/usr/bin:/bin"})


def test_example_config_is_valid_once_a_token_is_given(tmp_path):
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    config = load_config(write(tmp_path, text), environ={"LIVECART_TOKEN": GOOD_TOKEN})
    assert config.token == GOOD_TOKEN
    assert config.currency == "CNY" and config.timezone == "Asia/Shanghai" and config.language == "zh"
    assert config.mode == "polling"
    assert config.database == tmp_path / "livecart.sqlite3"


def test_token_from_environment_wins_over_file(tmp_path):
    other = "987654321:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
    config = load_config(write(tmp_path, f'[bot]\ntoken = "{GOOD_TOKEN}"\n'), environ={"LIVECART_TOKEN": other})
    assert config.token == other


@pytest.mark.parametrize(
    "text, setting",
    [
        ("", "bot.token"),
        ('[bot]\ntoken = "not-a-token"\n', "bot.token"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\nadmins = ["alice"]\n', "bot.admins"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[defaults]\ncurrency = "XYZ"\n', "defaults.currency"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[defaults]\ntimezone = "Mars/Olympus"\n', "defaults.timezone"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[defaults]\nlanguage = "fr"\n', "defaults.language"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[telegram]\nmode = "carrier-pigeon"\n', "telegram.mode"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[telegram]\nmode = "webhook"\n', "telegram.webhook_url"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[telegram]\nmode = "webhook"\nwebhook_url = "https://x.example/t"\n'
         'secret_token = "short"\n', "telegram.secret_token"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[telegram]\nmode = "webhook"\nwebhook_url = "https://x.example/t"\n'
         'secret_token = "0123456789abcdef0123"\nport = 70000\n', "telegram.port"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[telegram]\napi_base_url = "ftp://nope"\n', "telegram.api_base_url"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[telegram]\nfile_base_url = 5\n', "telegram.file_base_url"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[storage]\ndatabase = ""\n', "storage.database"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[limits]\nsends_per_second = -1\n', "limits.sends_per_second"),
        ('bot = 5\n', "bot"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\nadmin_summary_at = "25:00"\n', "bot.admin_summary_at"),
        (f'[bot]\ntoken = "{GOOD_TOKEN}"\n[payments]\nprovider_token = "nope"\n', "payments.provider_token"),
        ('[bot\ntoken = "x"\n', "config file"),
    ],
)
def test_each_bad_setting_is_named(tmp_path, text, setting):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), environ={})
    assert err.value.setting == setting


def test_missing_config_file_stops_with_exit_code_2_and_one_line(tmp_path):
    result = run_bot("--config", str(tmp_path / "nope.toml"))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "config file" in lines[0] and "config.example.toml" in lines[0]


def test_malformed_value_stops_with_exit_code_2_naming_the_setting(tmp_path):
    path = write(tmp_path, f'[bot]\ntoken = "{GOOD_TOKEN}"\n[defaults]\ntimezone = "Nowhere/Land"\n')
    result = run_bot("--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'config error: defaults.timezone: must be an IANA time zone such as "Asia/Shanghai"'
    ]
    assert "Traceback" not in result.stderr


def test_missing_token_says_where_to_get_one(tmp_path):
    result = run_bot("--config", str(write(tmp_path, "[bot]\n")))
    assert result.returncode == 2
    assert "bot.token" in result.stderr and "LIVECART_TOKEN" in result.stderr and "BotFather" in result.stderr
    assert "Traceback" not in result.stderr
