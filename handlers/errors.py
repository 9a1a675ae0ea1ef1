"""The last line of defence: a short apology to the user, the whole story to the log."""

from __future__ import annotations

import json
import logging

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from core.i18n import translator
from handlers.common import Context, query_of, services, translator_for

log = logging.getLogger("livecart.errors")


async def on_error(update: object, context: Context) -> None:
    """Log the update and traceback; tell the user, in their language, what they can do now."""
    if isinstance(context.error, Forbidden) and isinstance(update, Update) and update.effective_user:
        # The user blocked the bot: nothing to tell them; remember it so nothing else is tried.
        log.info("user %d has blocked the bot", update.effective_user.id)
        await services(context).store.users.mark_blocked(update.effective_user.id)
        return
    payload = update.to_dict() if isinstance(update, Update) else repr(update)
    log.error(
        "handler failed for update %s",
        json.dumps(payload, ensure_ascii=False, default=str)[:4000],
        exc_info=context.error,
    )
    if not isinstance(update, Update) or update.effective_user is None:
        return
    t = translator(services(context).config.language)
    try:
        user = await services(context).store.users.get(update.effective_user.id)
        if user is not None:
            t = translator_for(user, services(context).config)
    except Exception:  # the store may be what failed; the default language will do
        log.exception("could not load the user while reporting an error")
    if update.callback_query is not None:
        try:
            if await query_of(update).answer(t.plain("error.button"), show_alert=True):
                return
        except TelegramError:
            pass
        # The handler had answered the tap already: say it in the chat instead.
    try:
        if update.effective_chat is not None and update.effective_chat.type == "private":
            await update.effective_chat.send_message(t("error.generic"), parse_mode=ParseMode.HTML)
    except TelegramError as exc:
        log.warning("could not tell user %d about the error: %s", update.effective_user.id, exc)
