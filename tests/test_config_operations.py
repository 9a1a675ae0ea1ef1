"""The operator's settings (metrics, backup, logging): defaults, the example, and each bad value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parent.parent
GOOD_TOKEN = "123456789:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[bot]\ntoken = "{GOOD_TOKEN}"\n{text}', encoding="utf-8")
    return path


def test_without_the_sections_metrics_are_not_served_on_a_port_and_no_backups_are_scheduled(tmp_path):
    config = load_config(write(tmp_path, ""), environ={})
    assert config.metrics.port is None and config.metrics.listen == "127.0.0.1"
    assert config.backup.every is None and config.backup.keep == 7
    assert config.backup.directory == tmp_path / "backups"
    assert config.logging.format == "text" and config.logging.level == "INFO"


def test_the_example_config_backs_up_every_six_hours_keeping_seven(tmp_path):
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ={"LIVECART_TOKEN": GOOD_TOKEN})
    assert (config.backup.every, config.backup.keep) == (6 * 3600, 7)
    assert config.metrics.stuck_after == 120


@pytest.mark.parametrize("every, seconds", [("30m", 1800), ("6h", 21600), ("1d", 86400), ("1.5h", 5400), (600, 600)])
def test_backup_every_takes_a_duration(tmp_path, every, seconds):
    value = f'"{every}"' if isinstance(every, str) else every
    assert load_config(write(tmp_path, f"[backup]\nevery = {value}\n"), environ={}).backup.every == seconds


@pytest.mark.parametrize(
    "text, setting",
    [
        ('[metrics]\nport = 0\n', "metrics.port"),
        ('[metrics]\nport = "9464"\n', "metrics.port"),
        ('[metrics]\nlisten = ""\n', "metrics.listen"),
        ('[metrics]\nstuck_after = -5\n', "metrics.stuck_after"),
        ('[backup]\nevery = "often"\n', "backup.every"),
        ('[backup]\nevery = "10s"\n', "backup.every"),
        ('[backup]\nkeep = 0\n', "backup.keep"),
        ('[backup]\ndirectory = ""\n', "backup.directory"),
        ('[logging]\nformat = "xml"\n', "logging.format"),
        ('[logging]\nlevel = "LOUD"\n', "logging.level"),
    ],
)
def test_each_bad_operations_setting_is_named(tmp_path, text, setting):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text), environ={})
    assert err.value.setting == setting
