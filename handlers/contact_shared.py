"""A contact shared outside any conversation: the Mini App's contact request.

`Telegram.WebApp.requestContact()` posts the buyer's own contact into their chat with the bot;
that message reaches us like any other. Its number is kept as the buyer's phone (Telegram vouches
that it is theirs: the contact's user id is the sender's), which the Mini App's checkout then reads
back from the API instead of trusting the page. Someone else's contact is not understood.
"""

from __future__ import annotations

from telegram import Update

from core.contact import ContactError, display_phone, normalize_phone
from handlers.common import Context, actor, reply, services


async def on_contact(update: Update, context: Context) -> None:
    who = await actor(update, context)
    message = update.effective_message
    contact = message.contact if message is not None else None
    if contact is None or contact.user_id != who.id:
        await reply(update, who.t("common.not_understood"))
        return
    try:
        phone = normalize_phone(contact.phone_number, shared=True)
    except ContactError:
        await reply(update, who.t("checkout.try_again", problem=who.t.plain("checkout.phone_invalid")))
        return
    await services(context).store.users.set_phone(who.id, phone)
    await reply(update, who.t("app.phone_saved", phone=display_phone(phone)))
