"""deploy/: the systemd unit and the nginx site are checked for real (deploy/check.sh, also run by .ci/run),
and keep the promises the README makes about them."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def tools_missing() -> list[str]:
    return [tool for tool in ("systemd-analyze", "nginx", "openssl")
            if shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin") is None]


def test_the_unit_and_the_site_pass_systemd_analyze_verify_and_nginx_t():
    if tools_missing():
        pytest.skip(f"not installed here: {', '.join(tools_missing())} (.ci/run installs them)")
    result = subprocess.run([str(DEPLOY / "check.sh")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "check out" in result.stdout


def test_the_unit_runs_the_bot_and_gives_its_graceful_stop_time_to_finish():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # keep systemd's key case
    unit.read(DEPLOY / "livecart.service")
    service = unit["Service"]
    assert service["ExecStart"].split()[1:] == ["/opt/livecart/bot.py", "--config", "/etc/livecart/config.toml"]
    assert service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 10  # the bot stops within 10 s; systemd must not kill it sooner
    assert service["RestartPreventExitStatus"] == "2"  # a config error is not fixed by restarting
    assert service["UMask"] == "0077"  # the database and backups hold phones and addresses


def test_the_site_passes_only_the_webhook_and_the_mini_app_and_keeps_metrics_private():
    site = (DEPLOY / "nginx-livecart.conf").read_text()
    assert re.findall(r"proxy_pass\s+([^;]+);", site) == ["http://livecart"] * 2
    upstream = re.search(r"upstream livecart \{(.*?)\n\}", site, re.S).group(1)
    assert re.findall(r"^\s*server\s+([^;]+);", upstream, re.M) == ["127.0.0.1:8443"]  # one bot; workers add lines
    proxied = re.search(r"location = /telegram \{(.*?)\n    \}", site, re.S).group(1)
    assert "limit_except POST" in proxied
    app = re.search(r"location /app/ \{(.*?)\n    \}", site, re.S).group(1)
    assert "limit_except GET POST" in app and "client_max_body_size 16k" in app
    for private in ("/metrics", "/healthz"):
        assert re.search(rf"location = {private} \{{\s*deny all;\s*\}}", site)
    assert "ssl_certificate " in site and "listen 443 ssl" in site


def test_the_readme_tells_how_to_run_it_in_production_with_deploy():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Run it in production", 1)[1].split("\n## ", 1)[0]
    for needed in ("deploy/livecart.service", "deploy/nginx-livecart.conf", "bot.py doctor", "/metrics",
                   "/healthz", "backup.every", "restore"):
        assert needed in section, needed
