"""Calling the Mini App's API as its page does: init data signed as Telegram signs it."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager
from typing import Any

import httpx

from core.initdata import sign
from runtime.miniapp import MiniAppServer
from tests.harness import TEST_TOKEN

BASE = "https://shop.test"


def init_data(user, *, token: str = TEST_TOKEN, allows_write: bool = True, auth_date: float | None = None,
              start_param: str | None = None, language_code: str | None = None) -> str:
    """What Telegram hands the Mini App of `user` (a faketg user)."""
    fields: dict[str, Any] = {
        "query_id": f"AAH{user.id}",
        "user": {"id": user.id, "first_name": user.first_name, "language_code": language_code or user.language_code,
                 "allows_write_to_pm": allows_write},
        "auth_date": str(int(time.time() if auth_date is None else auth_date)),
    }
    if start_param:
        fields["start_param"] = start_param
    return sign(fields, token)


def server_of(world) -> MiniAppServer:
    services = world.bot.app.bot_data["services"]
    return MiniAppServer(services, TEST_TOKEN, "/app/", world.bot._fetch_file, max_age=24 * 3600)


@asynccontextmanager
async def mini_app(world):
    """An HTTP client on the bot's Mini App server (in-process)."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server_of(world)), base_url=BASE) as client:
        yield client


class Page:
    """One buyer's Mini App: their init data on every call."""

    def __init__(self, client: httpx.AsyncClient, user, **init: Any) -> None:
        self.client, self.user = client, user
        self.init = init_data(user, **init)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"tma {self.init}"}

    async def get(self, name: str, **query: Any) -> httpx.Response:
        return await self.client.get(f"/app/api/{name}", params=query, headers=self._headers())

    async def post(self, name: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/app/api/{name}", json=body, headers=self._headers())

    async def ok(self, name: str, body: dict[str, Any] | None = None, **query: Any) -> dict[str, Any]:
        response = await (self.post(name, body) if body is not None else self.get(name, **query))
        assert response.status_code == 200, response.text
        return response.json()

    async def buy(self, shop, items: list[dict[str, Any]], *, token: str = "tok-0001", address: str = "8 Orchard Lane, Yichang",
                  phone: str = "+8613800138000", recipient: str = "Bob", method: str | None = None,
                  region: str | None = None) -> dict[str, Any]:
        """Hold, quote and place, as the checkout page does; the place call's answer."""
        await self.ok("hold", {"shop": shop.slug, "token": token, "items": items})
        body = {"shop": shop.slug, "token": token, "items": items, "address": address, "recipient": recipient,
                "phone": phone, "method": method, "region": region}
        await self.ok("quote", body)
        return await self.ok("place", body)
