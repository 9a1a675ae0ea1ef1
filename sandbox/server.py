"""Serving the sandbox: one process, one event loop, uvicorn on 127.0.0.1, the bot polling it over HTTP.

    async with running_sandbox(port=0) as sandbox:     # tests: a free port
        print(sandbox.url)

    run_sandbox(port=8080)                             # `python bot.py sandbox`: until Ctrl+C
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from sandbox.app import Sandbox
from sandbox.persist import files_folder, keep_saving, load_files, save_files

log = logging.getLogger(__name__)

HOST = "127.0.0.1"  # never another interface: the sandbox has no logins
DEFAULT_PORT = 8080


class SandboxError(Exception):
    """The sandbox cannot start; the message says why and what to do."""


@dataclass
class RunningSandbox:
    app: Sandbox
    url: str  # http://127.0.0.1:PORT/
    port: int
    database: Path
    temporary: bool  # the database is deleted when the sandbox stops


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # The sandbox stops the bot before the server, so it handles Ctrl+C itself.
        yield


def _bind(port: int) -> socket.socket:
    if not 0 <= port <= 65535:
        raise SandboxError(f"sandbox: --port must be from 1 to 65535 (or 0 for any free port), not {port}")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise SandboxError(f"sandbox: cannot listen on {HOST}:{port} ({exc.strerror}); "
                           f"choose another port, e.g. --port {port + 1 if port else DEFAULT_PORT}") from None
    sock.listen(128)
    sock.setblocking(False)
    return sock


def _new_token() -> str:
    # Random per run, so nothing else on this machine can guess the fake Bot API's address.
    return f"{secrets.randbelow(9 * 10**9) + 10**9}:{secrets.token_urlsafe(30)}"


@contextlib.asynccontextmanager
async def running_sandbox(port: int = DEFAULT_PORT,
                          database: str | Path | None = None) -> AsyncIterator[RunningSandbox]:
    """Serve the page and the fake Telegram on 127.0.0.1:`port` and run the bot against them."""
    if database is not None and not Path(database).expanduser().parent.is_dir():
        raise SandboxError(f"sandbox: --db {database}: its folder does not exist; create it first")
    with contextlib.ExitStack() as cleanup:
        sock = cleanup.enter_context(contextlib.closing(_bind(port)))
        port = sock.getsockname()[1]
        if database is None:
            temporary = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="livecart-sandbox-"))
            db_path, folder = Path(temporary) / "livecart.sqlite3", None
        else:
            db_path = Path(database).expanduser()
            folder = files_folder(db_path)
        app = Sandbox(_new_token())
        if folder is not None and (loaded := load_files(app.tg.files, folder)):
            log.info("sandbox: %d file(s) of the pretend Telegram loaded from %s", loaded, folder)
        async with _serving(app, sock):
            base = f"http://{HOST}:{port}"
            saver = None
            try:
                await app.start_bot(base, db_path)
                if folder is not None:
                    saver = asyncio.create_task(keep_saving(app.tg.files, folder), name="sandbox-files")
                yield RunningSandbox(app, base + "/", port, db_path, temporary=folder is None)
            finally:
                if saver is not None:
                    saver.cancel()
                    await asyncio.gather(saver, return_exceptions=True)
                await app.stop_bot()
                if folder is not None:
                    save_files(app.tg.files, folder)


@contextlib.asynccontextmanager
async def _serving(app: Sandbox, sock: socket.socket) -> AsyncIterator[None]:
    """uvicorn serving `app` on `sock` in this event loop, from start-up to a graceful stop."""
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                    timeout_graceful_shutdown=3))
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="sandbox-http")
    try:
        while not server.started:
            if serving.done():
                serving.result()  # raises what stopped it
                raise SandboxError("sandbox: the web server stopped during start-up")
            await asyncio.sleep(0.01)
        yield
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await serving


def _banner(sandbox: RunningSandbox) -> str:
    db = f"{sandbox.database} (temporary: deleted when the sandbox stops)" if sandbox.temporary \
        else f"{sandbox.database} (kept, with the pretend Telegram's files beside it: the same --db continues)"
    return "\n".join([
        "",
        "  Livecart sandbox: the real bot, a pretend Telegram, all on this computer.",
        "  沙盒已启动：真实的机器人 + 模拟的 Telegram，全部在本机运行。",
        "",
        f"  Open  {sandbox.url}  in a browser on this computer.",
        f"  在本机浏览器打开  {sandbox.url}",
        "",
        f"  Database: {db}",
        "  Press Ctrl+C to stop.  按 Ctrl+C 停止。",
        "",
    ])


async def _serve_until_stopped(port: int, database: str | Path | None) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with running_sandbox(port, database) as sandbox:
        print(_banner(sandbox), flush=True)
        await stop.wait()
        log.info("stopping the sandbox")
    return 0


def run_sandbox(port: int = DEFAULT_PORT, database: str | Path | None = None) -> int:
    """`python bot.py sandbox`: serve until Ctrl+C; returns the exit code."""
    try:
        return asyncio.run(_serve_until_stopped(port, database))
    except SandboxError as exc:
        print(exc, file=sys.stderr)
        return 2
