"""/deletemydata: a buyer erases their personal data (storage/privacy.py), after being shown what
goes and what the shops keep."""

from __future__ import annotations

from telegram import Update

from core import callbacks as taps
from core.i18n import Translator
from handlers.common import Context, actor, button, keyboard, query_of, reply, show
from storage.privacy import ErasureRefused


def refusal_text(t: Translator, refusal: ErasureRefused, *, plain: bool = False) -> str:
    say = t.plain if plain else t
    if refusal.reason == "open_orders":
        return say("privacy.open_orders", numbers=", ".join(f"#{n}" for n in refusal.numbers))
    return say("privacy.shop_member")


async def delete_my_data(update: Update, context: Context) -> None:
    """What would be erased and what kept, with Erase / Keep; or why it cannot be done now."""
    who = await actor(update, context)
    refusal = await context.services.store.privacy.refusal(who.id)
    if refusal is not None:
        await reply(update, refusal_text(who.t, refusal))
        return
    await reply(update, who.t("privacy.ask"), keyboard([[button(who.t.plain("privacy.button_erase"), taps.EraseMyData()),
                                                         button(who.t.plain("privacy.button_keep"), taps.KeepMyData())]]))


async def on_keep(update: Update, context: Context) -> None:
    who = await actor(update, context)
    assert update.callback_query is not None
    await query_of(update).answer()
    await show(update, who.t("privacy.kept"))


async def on_erase(update: Update, context: Context) -> None:
    who = await actor(update, context)
    query = query_of(update)
    store = context.services.store
    t = who.t  # the answer is in their language, though their user row goes
    await store.holds.release(who.id, end_conversation=True)  # units held at Buy now go back to stock
    texts = await store.privacy.identifying_texts(who.id)
    try:
        erased = await store.privacy.erase_buyer(who.id)
    except ErasureRefused as refusal:  # an order placed meanwhile, say
        await query.answer(refusal_text(t, refusal, plain=True), show_alert=True)
        return
    store.users.forget(who.id)
    await store.privacy.forget_journals(await store.inbox.scrub_user(who.id, texts))
    await store.inbox.prune_journals()  # others' handled updates read their orders too
    await store.db.checkpoint()
    await store.inbox.db.checkpoint()
    await query.answer()
    await show(update, t("privacy.erased", orders=erased.orders))
