"""Livecart: a Telegram storefront for merchants who sell by livestream.

    python bot.py [--config config.toml]           run the bot (polling or webhook, per config)
    python bot.py backup PATH [--config ...]        write a consistent copy of the database
    python bot.py doctor [--config ...]             check the deployment: one line per check, exit 1 on a problem
    python bot.py sandbox [--port 8080] [--db PATH]  try it in a browser against a fake Telegram (no token)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time

from core.config import ConfigError, Config, load_config

log = logging.getLogger("livecart")

STOP_WITHIN = 9.5  # seconds: a graceful stop never takes longer than 10 s


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Livecart Telegram bot")
    parser.add_argument("--config", default="config.toml", help="path to the config file (default: config.toml)")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "backup", "doctor", "sandbox"],
                        help="what to do")
    parser.add_argument("target", nargs="?", help="backup: where to write the copy")
    parser.add_argument("--port", type=int, default=8080, help="sandbox: web page port on 127.0.0.1 (default: 8080)")
    parser.add_argument("--db", help="sandbox: keep its database in this file (default: a temporary one)")
    args = parser.parse_args(argv)

    from runtime.logs import configure_logging

    configure_logging("text", "INFO")  # until the config says otherwise
    if args.command == "sandbox":  # needs no config.toml: see sandbox/
        from sandbox import run_sandbox

        return run_sandbox(port=args.port, database=args.db)
    if args.command == "doctor":  # reports a broken config itself, as one of its checks
        from runtime.doctor import run_doctor

        logging.getLogger().setLevel(logging.WARNING)
        return asyncio.run(run_doctor(args.config, sys.stdout))
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    configure_logging(config.logging.format, config.logging.level)

    if args.command == "backup":
        if not args.target:
            print("usage: python bot.py backup PATH", file=sys.stderr)
            return 2
        return _backup(config, args.target)
    return asyncio.run(_run(config))


def _backup(config: Config, target: str) -> int:
    """Copy the database without opening it as the bot does: no file is created, nothing migrated."""
    from storage.backup import BackupError, backup_database

    try:
        result = backup_database(config.database, target)
    except BackupError as exc:
        print(f"backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {result.path} ({result.orders} orders, schema version {result.schema_version}, "
          f"{result.size // 1024} KiB, readable by its owner only)")
    return 0


async def _run(config: Config) -> int:
    from telegram.error import InvalidToken, NetworkError

    from runtime.livecart import Livecart, freeze_startup_heap
    from runtime.single_poller import AnotherPoller

    bot = Livecart(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    problem = None
    try:
        # Past telegram.startup_timeout, say so and stop rather than hang.
        await asyncio.wait_for(bot.start(polling=config.mode == "polling"), config.startup_timeout)
    except InvalidToken:
        problem = "config error: bot.token: Telegram refused this token (401 Unauthorized); check it with @BotFather"
    except AnotherPoller as exc:
        problem = str(exc)
    except (NetworkError, TimeoutError, OSError) as exc:  # TimedOut is a NetworkError
        reason = f"no answer within {config.startup_timeout:g} s" if isinstance(exc, TimeoutError) else str(exc)
        problem = (f"cannot reach Telegram at {config.api_base_url} ({reason}); check the network, "
                   "and telegram.api_base_url in the config if you use your own Bot API server")
    if problem is not None:
        print(problem, file=sys.stderr)
        await _stop_quietly(bot)
        return 3 if problem.startswith("cannot reach") else 2  # 2: not fixed by restarting
    freeze_startup_heap()
    try:
        await stop.wait()
    finally:
        await _stop_within(bot, STOP_WITHIN)
    return 0


async def _stop_within(bot, seconds: float) -> None:
    """Graceful stop (SIGTERM, SIGINT): stop fetching, finish handlers in flight and record them,
    let the outbox finish what it is sending, close the database; never longer than `seconds`
    (systemd's TimeoutStopSec is longer). What is cut short is stored and resumes at the next start."""
    began = time.monotonic()
    log.info("stopping: finishing the work in hand (at most %.0fs)", seconds)
    try:
        await asyncio.wait_for(bot.stop(), seconds)
    except TimeoutError:
        log.warning("stopped after %.0fs with work in hand; it is stored and resumes at the next start", seconds)
        return
    log.info("stopped cleanly in %.1fs", time.monotonic() - began)


async def _stop_quietly(bot) -> None:
    """Undo a start that failed half-way (the store's thread would keep the process alive)."""
    try:
        await asyncio.wait_for(bot.stop(), 5)
    except Exception as exc:  # the start already failed; its one line says why
        log.debug("stopping after a failed start: %r", exc)


if __name__ == "__main__":
    sys.exit(main())
