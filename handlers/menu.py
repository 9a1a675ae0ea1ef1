"""The command menu Telegram shows beside the text box.

Everyone sees the buyer commands (in English, or Chinese for zh clients); a shop owner or staff
member gets the merchant commands in their own chat, in their language.
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from core.i18n import N_, Translator, translator
from storage import Store
from storage.models import User

log = logging.getLogger(__name__)

BUYER_COMMANDS = [
    ("start", N_("command.start")),
    ("myorders", N_("command.myorders")),
    ("cart", N_("command.cart")),
    ("following", N_("command.following")),
    ("language", N_("command.language")),
    ("help", N_("command.help")),
    ("cancel", N_("command.cancel")),
    ("deletemydata", N_("command.deletemydata")),
]
MERCHANT_COMMANDS = [
    ("myshop", N_("command.myshop")),
    ("addproduct", N_("command.addproduct")),
    ("products", N_("command.products")),
    ("live", N_("command.live")),
    ("deal", N_("command.deal")),
    ("orders", N_("command.orders")),
    ("tell", N_("command.tell")),
    ("export", N_("command.export")),
    ("packlist", N_("command.packlist")),
    ("slips", N_("command.slips")),
    ("summary", N_("command.summary")),
    ("settings", N_("command.settings")),
    ("staff", N_("command.staff")),
    ("payments", N_("command.payments")),
    ("shipping", N_("command.shipping")),
    ("claims", N_("command.claims")),
    ("newshop", N_("command.newshop")),
    *BUYER_COMMANDS,
]
# Commands a merchant types that the buyer menu does not list.
NEWSHOP = [("newshop", N_("command.newshop"))]


def _commands(pairs: list[tuple[str, str]], t: Translator) -> list[BotCommand]:
    return [BotCommand(name, t(key)) for name, key in pairs]


async def set_default_commands(bot: Bot) -> None:
    """At start-up: the buyer menu for everyone, in English and Chinese."""
    scope = BotCommandScopeDefault()
    await bot.set_my_commands(_commands(BUYER_COMMANDS + NEWSHOP, translator("en")), scope=scope)
    await bot.set_my_commands(_commands(BUYER_COMMANDS + NEWSHOP, translator("zh")), scope=scope, language_code="zh")


async def refresh_commands_for(bot: Bot, store: Store, user: User, t: Translator) -> None:
    """Give a shop member the merchant menu in their chat (after a new shop or a language change)."""
    if not await store.shops.memberships(user.id):
        return
    try:
        await bot.set_my_commands(_commands(MERCHANT_COMMANDS, t), scope=BotCommandScopeChat(user.id))
    except TelegramError as exc:  # the menu is a convenience: never fail the user's action over it
        log.warning("could not set the merchant menu for user %d: %s", user.id, exc)
