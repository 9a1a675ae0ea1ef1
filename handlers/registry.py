"""Wires every journey's handlers into the Application, in the order a user meets them."""

from __future__ import annotations

from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from core.callbacks import pattern
from handlers import errors, flows, shop, start

PRIVATE = filters.ChatType.PRIVATE


def register(app: Application) -> None:
    # Start, help and the conversation escape hatch.
    app.add_handler(CommandHandler("start", start.start, filters=PRIVATE))
    app.add_handler(CommandHandler("help", start.help_command, filters=PRIVATE))
    app.add_handler(CommandHandler("cancel", start.cancel, filters=PRIVATE))
    app.add_handler(CommandHandler("language", start.language, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(start.on_language_chosen, pattern=pattern("lang")))

    # Shop setup.
    app.add_handler(CommandHandler("newshop", shop.new_shop, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(shop.new_shop, pattern=pattern("shop.new")))
    app.add_handler(CommandHandler("myshop", shop.my_shop, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(shop.my_shop, pattern=pattern("shop.card")))
    app.add_handler(CallbackQueryHandler(shop.on_switch_shop, pattern=pattern("shop.use")))

    # Anything else typed or sent continues the user's conversation.
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, flows.on_plain_message))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, start.unknown_command))
    app.add_handler(CallbackQueryHandler(start.stale_button))

    app.add_error_handler(errors.on_error)
