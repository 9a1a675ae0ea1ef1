"""Routes a user's plain messages (text, photo, contact, location) to the conversation they are in.

Conversation state is stored (storage/flows.py), not kept in memory, so a merchant half-way
through adding a product, or a buyer half-way through checkout, continues after a restart.
handlers/registry.py wires each flow to the handler of what the user sends in it (`add_flow`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from handlers.common import Actor, Context, actor, reply, services
from storage.models import Flow

FlowStep = Callable[[Update, Context, Actor, Flow], Awaitable[None]]
_FLOWS: dict[str, FlowStep] = {}
# Flows the user did not start on purpose (the product card a buyer is looking at, where a typed
# number sets the quantity): a command ends them without a word.
_QUIET_FLOWS: set[str] = set()
_PHOTO_OUTSIDE_FLOW: list[Callable[[Update, Context], Awaitable[None]]] = []
# What a flow says when a command ends it, where the general notice would puzzle (a buyer who
# leaves a checkout for another link should read that nothing was ordered, not about "steps").
_INTERRUPTED: dict[str, str] = {}

# Reply keyboards (share phone, share location) stay on the user's screen until a message
# removes them; every path that ends the step they belong to sends this.
REMOVE_KEYBOARD = {"remove_keyboard": True}
# Commands that do not end the conversation they interrupt: /cancel ends it itself (and says
# so), /start with a link lands on a card, which replaces a quiet flow on its own.
_COMMANDS_KEEPING_FLOW = frozenset({"/cancel"})


def is_quiet(name: str) -> bool:
    """A conversation the user did not start on purpose (nothing to cancel, nothing to announce)."""
    return name in _QUIET_FLOWS


def add_flow(name: str, step: FlowStep, *, quiet: bool = False, interrupted: str | None = None) -> None:
    if name in _FLOWS and _FLOWS[name] is not step:
        raise ValueError(f"flow {name!r} registered twice")
    _FLOWS[name] = step
    if interrupted:
        _INTERRUPTED[name] = interrupted
    if quiet:
        _QUIET_FLOWS.add(name)


def set_photo_outside_flow(handler: Callable[[Update, Context], Awaitable[None]]) -> None:
    """Who handles a photo sent outside any conversation (the catalog's quick add)."""
    _PHOTO_OUTSIDE_FLOW[:] = [handler]


async def on_plain_message(update: Update, context: Context) -> None:
    """A message that is not a command: continue the user's conversation, or say what to do."""
    who = await actor(update, context)
    flow = await services(context).store.flows.get(who.id)
    step = _FLOWS.get(flow.name) if flow else None
    if flow is None or step is None:
        await outside_flow(update, context, who)
        return
    await step(update, context, who, flow)


async def outside_flow(update: Update, context: Context, who: Actor) -> None:
    """A message no conversation takes: a captioned photo may add a product; else say what to do."""
    message = update.effective_message
    if message is not None and message.photo and _PHOTO_OUTSIDE_FLOW:
        await _PHOTO_OUTSIDE_FLOW[0](update, context)
        return
    await reply(update, who.t("common.not_understood"))


async def on_command(update: Update, context: Context) -> None:
    """Any command ends the conversation it interrupts, and says so, so that what the user types
    next (after /addproduct then /orders, say) is never taken as an answer to the old question.

    Runs before the command's own handler (an earlier handler group); the reply keyboard of the
    interrupted step goes with the notice.
    """
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    command = text.split(maxsplit=1)[0].split("@", 1)[0].lower() if text else ""
    if command in _COMMANDS_KEEPING_FLOW or update.effective_user is None:
        return
    who = await actor(update, context)
    store = services(context).store
    flow = await store.flows.get(who.id)
    if flow is None:
        return
    if is_quiet(flow.name):
        if command != "/start":  # a link replaces the card flow by itself: spare the write
            await store.flows.clear(who.id)
        return
    await store.holds.release(who.id, end_conversation=True)  # a checkout's held units go back
    await reply(update, who.t(_INTERRUPTED.get(flow.name, "flow.interrupted")), REMOVE_KEYBOARD)
