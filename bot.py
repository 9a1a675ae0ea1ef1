"""Livecart: a Telegram storefront for merchants who sell by livestream.

    python bot.py [--config config.toml]           run the bot (polling or webhook, per config)
    python bot.py backup PATH [--config ...]        write a consistent copy of the database
    python bot.py sandbox [--port 8080] [--db PATH]  try it in a browser against a fake Telegram (no token)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from core.config import ConfigError, Config, load_config

log = logging.getLogger("livecart")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bot.py", description="Livecart Telegram bot")
    parser.add_argument("--config", default="config.toml", help="path to the config file (default: config.toml)")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "backup", "sandbox"], help="what to do")
    parser.add_argument("target", nargs="?", help="backup: where to write the copy")
    parser.add_argument("--port", type=int, default=8080, help="sandbox: web page port on 127.0.0.1 (default: 8080)")
    parser.add_argument("--db", help="sandbox: keep its database in this file (default: a temporary one)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    if args.command == "sandbox":  # needs no config.toml: see sandbox/
        from sandbox import run_sandbox

        return run_sandbox(port=args.port, database=args.db)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2

    if args.command == "backup":
        if not args.target:
            print("usage: python bot.py backup PATH", file=sys.stderr)
            return 2
        asyncio.run(_backup(config, args.target))
        print(f"backup written to {args.target}")
        return 0
    return asyncio.run(_run(config))


async def _backup(config: Config, target: str) -> None:
    from storage.db import Database

    db = await Database(config.database).open()
    try:
        await db.backup(target)
    finally:
        await db.close()


async def _run(config: Config) -> int:
    from telegram.error import InvalidToken, NetworkError

    from runtime.livecart import Livecart, freeze_startup_heap

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
    except (NetworkError, TimeoutError, OSError) as exc:  # TimedOut is a NetworkError
        reason = f"no answer within {config.startup_timeout:g} s" if isinstance(exc, TimeoutError) else str(exc)
        problem = (f"cannot reach Telegram at {config.api_base_url} ({reason}); check the network, "
                   "and telegram.api_base_url in the config if you use your own Bot API server")
    if problem is not None:
        print(problem, file=sys.stderr)
        await _stop_quietly(bot)
        return 3 if problem.startswith("cannot reach") else 2
    freeze_startup_heap()
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await bot.stop()
    return 0


async def _stop_quietly(bot) -> None:
    """Undo a start that failed half-way (the store's thread would keep the process alive)."""
    try:
        await asyncio.wait_for(bot.stop(), 5)
    except Exception as exc:  # the start already failed; its one line says why
        log.debug("stopping after a failed start: %r", exc)


if __name__ == "__main__":
    sys.exit(main())
