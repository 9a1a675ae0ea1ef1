"""What the bot's small ASGI apps (webhook, metrics, Mini App) share."""

from __future__ import annotations


async def answer_lifespan(receive, send) -> None:
    """ASGI's lifespan protocol, for a server that sends it (uvicorn runs ours with it off): start
    and stop at once, the bot's own start and stop do the work."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})
