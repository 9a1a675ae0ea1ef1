"""`bot.py doctor`: one command that says what is wrong with a deployment, and what to do.

Checks the config, the token (getMe), the webhook Telegram has against the config, the database
(integrity, schema version, size), the free disk, the CJK font, the clock (against the Date of
Telegram's answer) and the backups; prints one line per check: OK, WARN (works, but look) or FAIL
with what to do. The exit code is 1 when any check fails. It never changes anything: the database
is opened read-only and Telegram is only asked questions.
"""

from __future__ import annotations

import email.utils
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx

from core import fonts
from core.config import Config, ConfigError, load_config
from storage.backup import scheduled_backups
from storage.db import LATEST_VERSION
from storage.engine import is_postgres, redacted

OK, WARN, FAIL = "OK", "WARN", "FAIL"
CLOCK_TOLERANCE = 30.0  # seconds; Telegram's and payment providers' checks tolerate less than minutes
MIN_FREE_BYTES = 100 * 1024 * 1024


@dataclass(frozen=True)
class Finding:
    status: str
    check: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.check}: {self.detail}"


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class _Telegram:
    """The few Bot API questions the doctor asks, with the Date of the last answer."""

    def __init__(self, config: Config) -> None:
        self._base = f"{config.api_base_url}{config.token}/"
        self._client = httpx.AsyncClient(timeout=10)
        self.date: float | None = None
        self.answered_at: float | None = None

    async def call(self, method: str) -> tuple[int, dict[str, Any]]:
        response = await self._client.post(self._base + method, json={})
        self.answered_at = time.time()
        date = response.headers.get("date")
        if date:
            try:
                self.date = email.utils.parsedate_to_datetime(date).timestamp()
            except (TypeError, ValueError):
                pass
        try:
            body = response.json()
        except ValueError:
            body = {"description": response.text[:200]}
        return response.status_code, body

    async def close(self) -> None:
        await self._client.aclose()


async def check_token(tg: _Telegram) -> Finding:
    try:
        status, body = await tg.call("getMe")
    except httpx.HTTPError as exc:
        return Finding(FAIL, "token", f"cannot reach Telegram ({exc.__class__.__name__}: {exc}); check the "
                                      "network, a proxy or telegram.api_base_url")
    if status == 200 and body.get("ok"):
        me = body["result"]
        return Finding(OK, "token", f"@{me.get('username')} (id {me.get('id')})")
    if status in (401, 404):
        return Finding(FAIL, "token", f"Telegram refused the token ({status} {body.get('description', '')}); get it "
                                      "from @BotFather (/mybots > API Token) and set bot.token or LIVECART_TOKEN")
    return Finding(FAIL, "token", f"getMe answered {status} {body.get('description', '')}; try again later")


async def check_webhook(tg: _Telegram, config: Config) -> Finding:
    try:
        status, body = await tg.call("getWebhookInfo")
    except httpx.HTTPError as exc:
        return Finding(FAIL, "webhook", f"cannot ask Telegram ({exc})")
    if status != 200 or not body.get("ok"):
        return Finding(FAIL, "webhook", f"getWebhookInfo answered {status} {body.get('description', '')}")
    info = body["result"]
    url = info.get("url") or ""
    pending = info.get("pending_update_count", 0)
    if config.mode == "polling":
        if url:
            return Finding(WARN, "webhook", f"Telegram has a webhook at {url}; the bot removes it when it starts "
                                            "in polling mode (set telegram.mode = \"webhook\" if you meant that)")
        return Finding(OK, "webhook", f"none set, as polling mode needs ({pending} update(s) waiting)")
    assert config.webhook is not None
    if url != config.webhook.url:
        return Finding(WARN, "webhook", f"Telegram has {url or 'no webhook'}, the config says {config.webhook.url}: "
                                        "the bot sets its own when it starts; if it is running, restart it")
    error = info.get("last_error_message")
    if error:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.get("last_error_date", 0)))
        return Finding(WARN, "webhook", f"{url}, {pending} update(s) waiting; Telegram's last delivery failed at "
                                        f"{when}: {error} (check nginx, the certificate and telegram.listen/port)")
    return Finding(OK, "webhook", f"{url}, {pending} update(s) waiting")


def check_database(path: Path) -> Finding:
    if not path.exists():
        if os.access(path.parent if path.parent.exists() else path.parent.parent, os.W_OK):
            return Finding(OK, "database", f"{path} not created yet; the bot creates it when it starts")
        return Finding(FAIL, "database", f"{path} does not exist and its directory is not writable; "
                                         "create the directory for the bot's user or fix storage.database")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA integrity_check(5)").fetchall()
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return Finding(FAIL, "database", f"{path} is not a usable SQLite database ({exc}); stop the bot and restore "
                                         "the newest backup (README: Run it in production)")
    if [row[0] for row in verdict] != ["ok"]:
        problems = "; ".join(str(row[0]) for row in verdict)
        return Finding(FAIL, "database", f"{path} fails SQLite's integrity check ({problems}); stop the bot and "
                                         "restore the newest backup (README: Run it in production)")
    size = _size(path.stat().st_size + sum(p.stat().st_size for p in path.parent.glob(path.name + "-wal")))
    return _schema_finding(f"{path}", f"intact, {size}", version, "backing it up beside it first")


def _schema_finding(where: str, state: str, version: int, before_migrating: str, extra: str = "") -> Finding:
    """The database's finding by its schema version: current, to be migrated at start, or too new."""
    if version > LATEST_VERSION:
        return Finding(FAIL, "database", f"{where} has schema version {version}, newer than this Livecart "
                                         f"({LATEST_VERSION}); upgrade Livecart")
    if version == 0:
        return Finding(OK, "database", f"{where}: {state}, no tables yet{extra}; the bot creates them when it starts")
    if version < LATEST_VERSION:
        return Finding(OK, "database", f"{where}: {state}, schema version {version}{extra}; the bot migrates it to "
                                       f"{LATEST_VERSION} at the next start ({before_migrating})")
    return Finding(OK, "database", f"{where}: {state}, schema version {version} (current){extra}")


async def check_postgres(url: str) -> Finding:
    """The PostgreSQL database: reachable, its schema's version, the workers live on it now."""
    from storage.pg import probe  # asyncpg, only when the database is PostgreSQL

    where = redacted(url)
    try:
        version, workers = await probe(url)
    except Exception as exc:  # noqa: BLE001 - any failure to reach it is the finding
        return Finding(FAIL, "database", f"{where}: cannot connect ({type(exc).__name__}: {exc}); check that the "
                                         "server runs and storage.database (or LIVECART_DATABASE)")
    live = f", {workers} worker(s) live" if workers else ""
    return _schema_finding(where, "PostgreSQL", version, "back it up with pg_dump first", live)


def check_disk(path: Path) -> Finding:
    where = path.parent if path.parent.exists() else Path.cwd()
    free = shutil.disk_usage(where).free
    used = path.stat().st_size if path.exists() else 0
    needed = max(MIN_FREE_BYTES, 2 * used)  # a backup and a migration's copy must fit
    if free < needed:
        return Finding(FAIL, "disk", f"only {_size(free)} free on {where}; backups and migrations need "
                                     f"{_size(needed)}: free some space")
    return Finding(OK, "disk", f"{_size(free)} free on {where}")


def check_font() -> Finding:
    path = fonts.find_cjk_font()
    if path is None:
        return Finding(FAIL, "font", "no CJK font: Chinese names on QR codes and charts show as boxes; "
                                     "apt-get install fonts-wqy-microhei (or set LIVECART_FONT to a .ttf/.ttc)")
    return Finding(OK, "font", path)


def check_clock(tg: _Telegram) -> Finding:
    if tg.date is None or tg.answered_at is None:
        return Finding(WARN, "clock", "could not compare: Telegram's answer carried no Date")
    skew = tg.answered_at - tg.date  # the Date header has whole seconds
    if abs(skew) > CLOCK_TOLERANCE:
        return Finding(FAIL, "clock", f"this machine's clock is {skew:+.0f}s off Telegram's; turn on time "
                                      "synchronisation (timedatectl set-ntp true)")
    return Finding(OK, "clock", f"within {max(1.0, abs(skew)):.0f}s of Telegram's")


def check_backups(config: Config) -> Finding:
    backup = config.backup
    if not backup.every:
        return Finding(WARN, "backups", "no scheduled backups (set backup.every, e.g. \"6h\")")
    directory = backup.directory
    if directory.exists() and not os.access(directory, os.W_OK):
        return Finding(FAIL, "backups", f"{directory} is not writable by this user; fix its owner")
    found = scheduled_backups(directory)
    if not found:
        return Finding(WARN, "backups", f"none yet in {directory}; the bot makes the first when it starts")
    age = time.time() - found[-1].stat().st_mtime
    if age > 2 * backup.every:
        return Finding(WARN, "backups", f"the newest in {directory} is {age / 3600:.1f}h old (every "
                                        f"{backup.every / 3600:g}h): is the bot running? see its log")
    return Finding(OK, "backups", f"{len(found)} in {directory}, the newest {age / 3600:.1f}h old")


async def diagnose(config_path: str | Path) -> list[Finding]:
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        return [Finding(FAIL, "config", f"{exc.setting}: {exc.problem}")]
    findings = [Finding(OK, "config", f"{config_path} ({config.mode} mode)")]
    tg = _Telegram(config)
    try:
        token = await check_token(tg)
        findings.append(token)
        if token.status == OK:
            findings.append(await check_webhook(tg, config))
        else:
            findings.append(Finding(FAIL, "webhook", "not checked: the token check failed"))
    finally:
        await tg.close()
    if is_postgres(config.database):  # the server keeps the disk and the backups
        findings += [await check_postgres(config.database), check_font(), check_clock(tg)]
    else:
        path = Path(config.database)
        findings += [check_database(path), check_disk(path), check_font(), check_clock(tg), check_backups(config)]
    return findings


async def run_doctor(config_path: str | Path, out: TextIO) -> int:
    """Print one line per check; 1 when any failed, else 0."""
    findings = await diagnose(config_path)
    for finding in findings:
        print(finding.line(), file=out)
    failed = [f.check for f in findings if f.status == FAIL]
    print(f"{len(failed)} problem(s): {', '.join(failed)}" if failed else "all checks passed", file=out)
    return 1 if failed else 0
