"""Sandbox: try Livecart on one machine, in a browser, without Telegram.

`python bot.py sandbox` serves, on 127.0.0.1, a fake Telegram (faketg) that the real bot
polls over HTTP, and a chat page where a person is the merchant or one of three buyers: they
chat with the bot, tap its buttons, see its photos and QR codes, share a phone number and a
location. A "Demo shop" button opens a shop with four products on live links, through the bot.

Modules: ``server`` (uvicorn and the bot in one event loop), ``app`` (the ASGI app and the
page's JSON API), ``views`` (chats as JSON), ``demo`` (the demo shop), ``pictures`` (its product
photos), ``personas`` (who one can be), ``static/`` (the page: HTML, CSS and plain JS).
"""

from sandbox.server import DEFAULT_PORT, RunningSandbox, SandboxError, run_sandbox, running_sandbox

__all__ = ["DEFAULT_PORT", "RunningSandbox", "SandboxError", "run_sandbox", "running_sandbox"]
