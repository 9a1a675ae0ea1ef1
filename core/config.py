"""Reading and checking config.toml.

Every setting is validated up front so that a bad deployment stops at start-up with one line
naming the setting and how to fix it, instead of failing later in a handler.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.numbers import get_currency_name
from babel import UnknownLocaleError

TOKEN_ENV = "LIVECART_TOKEN"
DATABASE_ENV = "LIVECART_DATABASE"
PORT_ENV = "LIVECART_PORT"  # the webhook's port, per worker
POSTGRES_SCHEMES = ("postgresql://", "postgres://")  # as storage/engine.py reads them
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_FILE_BASE_URL = "https://api.telegram.org/file/bot"
SUPPORTED_LANGUAGES = ("en", "zh")
_TOKEN_RE = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{20,}$")
_PLACEHOLDER = "replace-with-the-token"  # config.example.toml's bot.token, copied unchanged
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class ConfigError(Exception):
    """A setting is missing or malformed. The message names the setting and says how to fix it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"config error: {setting}: {problem}")
        self.setting = setting
        self.problem = problem


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    listen: str
    port: int
    secret_token: str


@dataclass(frozen=True)
class WebAppConfig:
    """The Mini App (runtime/miniapp.py): `url` is the public https address of its pages, as
    BotFather's Main Mini App and the bot's buttons open them. In webhook mode the webhook's server
    serves them; in polling mode a server of its own on `listen`:`port` (behind the same proxy)."""

    url: str | None = None  # None: no Mini App, everything works in the chat as before
    listen: str = "127.0.0.1"
    port: int | None = 8080  # None: another server mounts the pages (the sandbox's)
    max_age: int = 24 * 3600  # init data older than this is refused (core/initdata.py)

    @property
    def path(self) -> str:
        """The path the pages are served under ("/app/" for https://shop.example.com/app/)."""
        path = urlsplit(self.url).path if self.url else "/"
        return path if path.endswith("/") else path + "/"


@dataclass(frozen=True)
class LimitsConfig:
    """Sending pace and abuse limits; defaults follow Telegram's documented limits."""

    sends_per_second: float = 25.0  # the bulk budget: notices, restock notes, summaries, alerts
    sends_per_chat_per_second: float = 1.0
    # Every chat-bound message, once a 429 shows Telegram counting answers too (runtime/pacing.py).
    all_chats_per_second: float = 30.0
    sends_per_group_per_minute: float = 20.0
    updates_per_user_per_minute: int = 60
    open_orders_per_buyer_per_shop: int = 20
    # Cash on delivery takes stock without money: one buyer may hold at most this many units in
    # orders not yet shipped and paid on delivery, per shop (a hoarder cannot empty a sale).
    open_cod_units_per_buyer_per_shop: int = 50
    shops_per_account: int = 5  # shops one Telegram account may own
    keep_link_opens_days: int = 90  # link opens (the funnel) older than this are pruned hourly
    # Users whose updates are handled at once. Real Telegram calls take tens of milliseconds,
    # so this must cover that wait; much higher only lengthens each update's turn on the loop.
    concurrent_updates: int = 64
    # Going-live alerts: how many a shop may send in 24 hours (no spam), and whether big alerts may
    # use Telegram's paid broadcasts (allow_paid_broadcast: up to 1,000/s, paid in Stars by the bot).
    alerts_per_shop_per_day: int = 3
    allow_paid_broadcast: bool = False


@dataclass(frozen=True)
class MetricsConfig:
    """/metrics and /healthz: on the webhook server, and on `listen`:`port` when a port is set."""

    listen: str = "127.0.0.1"
    port: int | None = None
    # /healthz answers 503 when updates or due messages wait this long with nothing handled or sent.
    stuck_after: float = 120.0


@dataclass(frozen=True)
class BackupConfig:
    """Scheduled backups: every `every` seconds (None: off), the newest `keep` kept in `directory`."""

    every: float | None = None
    keep: int = 7
    directory: Path = Path("backups")


@dataclass(frozen=True)
class LoggingConfig:
    format: str = "text"  # "text" or "json": one line per event either way
    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    token: str
    database: Path | str  # a SQLite file, or a postgresql:// URL (storage/engine.py)
    admins: frozenset[int]
    currency: str
    timezone: str
    language: str
    mode: str  # "polling" or "webhook"
    webhook: WebhookConfig | None
    api_base_url: str = DEFAULT_API_BASE_URL
    file_base_url: str = DEFAULT_FILE_BASE_URL
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    payment_provider_token: str | None = None  # Telegram Payments; None: card payments are off
    admin_summary_at: int = 21 * 60 + 30  # minutes after midnight (defaults.timezone) of the admins' summary
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    webapp: WebAppConfig = field(default_factory=WebAppConfig)
    backup: BackupConfig = field(default_factory=BackupConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    startup_timeout: float = 25.0  # seconds to reach Telegram at start-up before stopping with one line

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read and validate the TOML file at `path`; the token may come from LIVECART_TOKEN."""
    env = os.environ if environ is None else environ
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            "config file",
            f"{path} not found; copy config.example.toml to {path} and fill in bot.token",
        )
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError("config file", f"{path} is not valid TOML ({exc})") from None
    return parse_config(raw, env, base_dir=path.parent)


def parse_config(raw: dict, env: dict[str, str] | os._Environ, base_dir: Path = Path(".")) -> Config:
    bot = _table(raw, "bot")
    store = _table(raw, "storage")
    shop = _table(raw, "defaults")
    tg = _table(raw, "telegram")
    limits_raw = _table(raw, "limits")
    payments = _table(raw, "payments")
    metrics = _metrics(_table(raw, "metrics"))
    webapp = _webapp(_table(raw, "webapp"), env)
    backup = _backup(_table(raw, "backup"), base_dir)
    logging_ = _logging(_table(raw, "logging"))

    token = env.get(TOKEN_ENV) or bot.get("token")
    if not token:
        raise ConfigError(
            "bot.token",
            f"missing; set it in the config or in the environment variable {TOKEN_ENV} "
            "(get one from @BotFather with /newbot)",
        )
    if isinstance(token, str) and _PLACEHOLDER in token:
        raise ConfigError("bot.token", "is still the example's placeholder; put the token @BotFather gave you "
                                       f"(/newbot) in the config or in {TOKEN_ENV}")
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        raise ConfigError("bot.token", "does not look like a bot token (digits:letters, as @BotFather gives it)")

    admins_raw = bot.get("admins", [])
    if not isinstance(admins_raw, list) or not all(
        isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in admins_raw
    ):
        raise ConfigError("bot.admins", "must be a list of numeric Telegram user ids, e.g. [123456789]")

    database = env.get(DATABASE_ENV) or store.get("database", "livecart.sqlite3")
    if not isinstance(database, str) or not database.strip():
        raise ConfigError("storage.database", "must be a file path such as \"livecart.sqlite3\" "
                                              "or a URL such as \"postgresql://livecart@/livecart?host=/run/postgresql\"")
    db_path: Path | str
    if database.startswith(POSTGRES_SCHEMES):
        db_path = database
    elif "://" in database:
        raise ConfigError("storage.database", f"must be a SQLite file path or a postgresql:// URL, not {database.split('://')[0]}://")
    else:
        db_path = Path(database)
        if not db_path.is_absolute():
            db_path = base_dir / db_path

    currency = shop.get("currency", "CNY")
    if not isinstance(currency, str) or not _is_currency(currency):
        raise ConfigError("defaults.currency", "must be an ISO 4217 code such as \"CNY\" or \"USD\"")

    timezone = shop.get("timezone", "Asia/Shanghai")
    if not isinstance(timezone, str) or not _is_zone(timezone):
        raise ConfigError("defaults.timezone", "must be an IANA time zone such as \"Asia/Shanghai\"")

    language = shop.get("language", "zh")
    if language not in SUPPORTED_LANGUAGES:
        raise ConfigError("defaults.language", "must be \"zh\" or \"en\"")

    mode = tg.get("mode", "polling")
    if mode not in ("polling", "webhook"):
        raise ConfigError("telegram.mode", "must be \"polling\" or \"webhook\"")
    webhook = _webhook(tg, env) if mode == "webhook" else None

    api_base_url = _url(tg, "telegram.api_base_url", "api_base_url", DEFAULT_API_BASE_URL)
    file_base_url = _url(tg, "telegram.file_base_url", "file_base_url", DEFAULT_FILE_BASE_URL)

    startup_timeout = tg.get("startup_timeout", 25)
    if not isinstance(startup_timeout, (int, float)) or isinstance(startup_timeout, bool) \
            or not 1 <= startup_timeout <= 600:
        raise ConfigError("telegram.startup_timeout", "must be a number of seconds from 1 to 600")

    admin_summary_at = _time_of_day(bot.get("admin_summary_at", "21:30"), "bot.admin_summary_at")
    provider_token = env.get("LIVECART_PROVIDER_TOKEN") or payments.get("provider_token") or None
    if provider_token is not None and (not isinstance(provider_token, str) or not re.fullmatch(r"\d+:[\w:-]+", provider_token)):
        raise ConfigError("payments.provider_token",
                          "must be the token @BotFather gives under Payments (digits:letters), or left out")

    return Config(
        token=token,
        database=db_path,
        admins=frozenset(admins_raw),
        currency=currency.upper(),
        timezone=timezone,
        language=language,
        mode=mode,
        webhook=webhook,
        api_base_url=api_base_url,
        file_base_url=file_base_url,
        limits=_limits(limits_raw),
        payment_provider_token=provider_token,
        admin_summary_at=admin_summary_at,
        metrics=metrics,
        webapp=webapp,
        backup=backup,
        logging=logging_,
        startup_timeout=float(startup_timeout),
    )


def _time_of_day(value: object, setting: str) -> int:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", value) if isinstance(value, str) else None
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        raise ConfigError(setting, 'must be a time of day such as "21:30"')
    return int(match[1]) * 60 + int(match[2])


def _table(raw: dict, name: str) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(name, f"must be a table: write [{name}] on its own line")
    return value


def _is_currency(code: str) -> bool:
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        return False
    try:
        # Babel returns the code itself for codes it does not know.
        return get_currency_name(code.upper(), locale="en") != code.upper()
    except UnknownLocaleError:  # pragma: no cover - "en" always exists
        return False


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _url(table: dict, setting: str, key: str, default: str) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not re.match(r"^https?://[^\s]+$", value):
        raise ConfigError(setting, "must be an http(s) URL, e.g. " + default)
    return value


def _webhook(tg: dict, env: dict[str, str] | os._Environ) -> WebhookConfig:
    url = tg.get("webhook_url")
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ConfigError("telegram.webhook_url", "webhook mode needs the public https:// URL Telegram will call")
    listen = tg.get("listen", "127.0.0.1")
    if not isinstance(listen, str) or not listen:
        raise ConfigError("telegram.listen", "must be an address to listen on, e.g. \"127.0.0.1\"")
    port = tg.get("port", 8443)
    if env.get(PORT_ENV):  # several workers from one config: each its own port (deploy/livecart@.service)
        port = int(env[PORT_ENV]) if env[PORT_ENV].isdigit() else env[PORT_ENV]
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ConfigError("telegram.port", f"must be a port number from 1 to 65535 (or {PORT_ENV})")
    secret = env.get("LIVECART_WEBHOOK_SECRET") or tg.get("secret_token")
    if not isinstance(secret, str) or not _SECRET_RE.match(secret) or len(secret) < 16:
        raise ConfigError(
            "telegram.secret_token",
            "webhook mode needs a secret of 16-256 characters A-Z a-z 0-9 _ - "
            "(for example from: python -c \"import secrets; print(secrets.token_urlsafe(32))\")",
        )
    return WebhookConfig(url=url, listen=listen, port=port, secret_token=secret)


def _limits(raw: dict) -> LimitsConfig:
    defaults = LimitsConfig()
    values = {}
    for name, default in vars(defaults).items():
        value = raw.get(name, default)
        kind = type(default)
        if kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"limits.{name}", "must be true or false")
            values[name] = value
            continue
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
        if kind is int:
            ok = ok and isinstance(value, int)
        if not ok:
            raise ConfigError(f"limits.{name}", f"must be a positive {'whole ' if kind is int else ''}number")
        values[name] = kind(value)
    return LimitsConfig(**values)


def _port(value: object, setting: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise ConfigError(setting, "must be a port number from 1 to 65535")
    return value


def _metrics(raw: dict) -> MetricsConfig:
    listen = raw.get("listen", "127.0.0.1")
    if not isinstance(listen, str) or not listen:
        raise ConfigError("metrics.listen", "must be an address to listen on, e.g. \"127.0.0.1\"")
    port = raw.get("port")
    if port is not None:
        port = _port(port, "metrics.port")
    stuck_after = raw.get("stuck_after", 120)
    if not isinstance(stuck_after, (int, float)) or isinstance(stuck_after, bool) or stuck_after <= 0:
        raise ConfigError("metrics.stuck_after", "must be a positive number of seconds, e.g. 120")
    return MetricsConfig(listen=listen, port=port, stuck_after=float(stuck_after))


def _webapp(raw: dict, env: dict[str, str] | os._Environ) -> WebAppConfig:
    url = env.get("LIVECART_WEBAPP_URL") or raw.get("url") or None
    if url is not None and (not isinstance(url, str) or not re.fullmatch(r"https://[^\s?#]+", url)):
        raise ConfigError("webapp.url", "must be the public https:// address of the Mini App's pages, "
                                        "e.g. \"https://shop.example.com/app/\" (Telegram opens only https)")
    listen = raw.get("listen", "127.0.0.1")
    if not isinstance(listen, str) or not listen:
        raise ConfigError("webapp.listen", "must be an address to listen on, e.g. \"127.0.0.1\"")
    port = _port(raw.get("port", 8080), "webapp.port")
    max_age = parse_duration(raw.get("max_age", "1d"), "webapp.max_age")
    if not 60 <= max_age <= 7 * 86400:
        raise ConfigError("webapp.max_age", "must be from 1m to 7d, e.g. \"1d\"")
    return WebAppConfig(url=url, listen=listen, port=port, max_age=int(max_age))


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object, setting: str) -> float:
    """"30m", "6h", "1d" (or a number of seconds) -> seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    match = _DURATION_RE.match(value) if isinstance(value, str) else None
    if match is None or float(match[1]) <= 0:
        raise ConfigError(setting, 'must be a duration such as "30m", "6h" or "1d"')
    return float(match[1]) * _UNIT_SECONDS[match[2]]


def _backup(raw: dict, base_dir: Path) -> BackupConfig:
    every = raw.get("every")
    if every is not None:
        every = parse_duration(every, "backup.every")
        if every < 60:
            raise ConfigError("backup.every", "must be at least a minute, e.g. \"6h\"")
    keep = raw.get("keep", 7)
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise ConfigError("backup.keep", "must be a whole number of backups to keep, at least 1")
    directory = raw.get("directory", "backups")
    if not isinstance(directory, str) or not directory.strip():
        raise ConfigError("backup.directory", "must be a directory path such as \"backups\"")
    path = Path(directory)
    if not path.is_absolute():
        path = base_dir / path
    return BackupConfig(every=every, keep=keep, directory=path)


def _logging(raw: dict) -> LoggingConfig:
    fmt = raw.get("format", "text")
    if fmt not in ("text", "json"):
        raise ConfigError("logging.format", "must be \"text\" or \"json\"")
    level = raw.get("level", "INFO")
    if not isinstance(level, str) or level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("logging.level", "must be one of DEBUG, INFO, WARNING, ERROR")
    return LoggingConfig(format=fmt, level=level.upper())
