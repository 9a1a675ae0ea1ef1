"""First contact and the always-available commands: /start, /help, /cancel, /language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from core import callbacks as taps
from core.i18n import LANGUAGES, N_
from handlers.common import Context, actor, button, forget_actor, keyboard, query_of, reply, services, show
from handlers.flows import REMOVE_KEYBOARD, conversations_of
from handlers.menu import refresh_commands_for

_LANGUAGE_NAMES = {"en": N_("language.name.en"), "zh": N_("language.name.zh")}

# Deep-link payloads (`/start <payload>`) are routed by the live-links journey; it registers here.
PayloadHandler = Callable[[Update, Context, str], Awaitable[None]]
_payload_handler: PayloadHandler | None = None


def set_payload_handler(handler: PayloadHandler) -> None:
    global _payload_handler
    _payload_handler = handler


async def start(update: Update, context: Context) -> None:
    """/start: a welcome, or (with a payload) the product or shop a link points at."""
    who = await actor(update, context)
    if context.args and _payload_handler is not None:
        await _payload_handler(update, context, context.args[0])
        return
    shops = await services(context).store.shops.memberships(who.id)
    t = who.t
    if shops:
        text = t("start.welcome_back", name=who.user.first_name, shop=shops[0].shop.name)
        markup = keyboard([[button(t.plain("button.my_shop"), taps.MyShop())]])
    else:
        text = t("start.welcome", name=who.user.first_name)
        markup = keyboard([[button(t.plain("button.open_shop"), taps.OpenShop())]])
    await reply(update, text, markup)


async def help_command(update: Update, context: Context) -> None:
    """/help: what each command does, for buyers and for merchants."""
    who = await actor(update, context)
    shops = await services(context).store.shops.memberships(who.id)
    text = who.t("help.buyer")
    if shops:
        text += "\n\n" + "\n\n".join(who.t(key) for key in ("help.merchant", "help.caption", "help.caption_variants"))
    else:
        text += "\n\n" + who.t("help.become_merchant")
    await reply(update, text)


async def cancel(update: Update, context: Context) -> None:
    """/cancel: leave whatever conversation the user is in."""
    who = await actor(update, context)
    flows = services(context).store.flows
    flow = await flows.get(who.id)
    if flow is not None:  # ends the conversation; a checkout's held units go back
        await services(context).store.holds.release(who.id, end_conversation=True)
    had_flow = flow is not None and not conversations_of(context).is_quiet(flow.name)  # looking at a card is nothing to cancel
    # The step may have shown a reply keyboard (share phone, share location): it goes too.
    await reply(update, who.t("cancel.done" if had_flow else "cancel.nothing"), REMOVE_KEYBOARD)


async def language(update: Update, context: Context) -> None:
    """/language: choose Chinese or English (remembered)."""
    who = await actor(update, context)
    rows = [[button(who.t.plain(_LANGUAGE_NAMES[code]), taps.ChooseLanguage(code)) for code in LANGUAGES]]
    await reply(update, who.t("language.choose"), keyboard(rows))


async def on_language_chosen(update: Update, context: Context) -> None:
    """A language button: remember it and confirm in the new language."""
    query = query_of(update)
    code = context.tap(taps.ChooseLanguage).code
    who = await actor(update, context)
    if code not in LANGUAGES:
        await query.answer(who.t.plain("common.stale_button"))
        return
    await services(context).store.users.set_language(who.id, code)
    forget_actor(context)
    who = await actor(update, context)
    await query.answer()
    await show(update, who.t("language.set"))
    await refresh_commands_for(context.bot, services(context).store, who.user, who.t)


async def unknown_command(update: Update, context: Context) -> None:
    """A command we do not have: say so and point at /help."""
    who = await actor(update, context)
    await reply(update, who.t("common.unknown_command"))


async def stale_button(update: Update, context: Context) -> None:
    """A button no handler claims (an old message, or forged data): answer so the spinner stops."""
    who = await actor(update, context)
    await query_of(update).answer(who.t.plain("common.stale_button"), show_alert=True)
